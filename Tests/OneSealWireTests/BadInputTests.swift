import GRPCCore
import NIOCore
import OneSealProto
@testable import OneSealWire
import Testing

/// What a misbehaving peer gets: a precise Close or a GoAway with the reason, while the server
/// keeps serving everybody else.
@Suite("Bad input on the wire")
struct BadInputTests {
    @Test("garbage bytes end that connection with a GoAway naming the problem")
    func garbage() async throws {
        try await withEchoServer { port, _, _ in
            let peer = try await RawWirePeer.connect(port: port)
            try await peer.send([0, 0, 0, 5, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
            let (frames, closed) = try await peer.receiveFrames()
            #expect(closed)
            guard case .goAway(let goAway) = frames.last?.kind else {
                Issue.record("expected a GoAway, got \(frames)")
                return
            }
            #expect(goAway.code == Int32(Status.Code.internalError.rawValue))
            #expect(goAway.reason.contains("not a valid oneseal.wire.v1.Frame"))
            try await withEchoClient(port: port) { client in
                let answer = try await client.echo("ok")
                #expect(answer == "ok")
            }
        }
    }

    @Test("a length over the limit is refused with RESOURCE_EXHAUSTED")
    func oversizedFrame() async throws {
        try await withEchoServer { port, _, _ in
            let peer = try await RawWirePeer.connect(port: port)
            try await peer.send([0x7F, 0xFF, 0xFF, 0xFF])
            let (frames, closed) = try await peer.receiveFrames()
            #expect(closed)
            guard case .goAway(let goAway) = frames.last?.kind else {
                Issue.record("expected a GoAway, got \(frames)")
                return
            }
            #expect(goAway.code == Int32(Status.Code.resourceExhausted.rawValue))
            #expect(goAway.reason.contains("exceeds the maximum"))
            try await withEchoClient(port: port) { client in
                let answer = try await client.echo("ok")
                #expect(answer == "ok")
            }
        }
    }

    @Test("a frame for a stream that was never opened gets a Close")
    func unknownStream() async throws {
        try await withEchoServer { port, _, _ in
            let peer = try await RawWirePeer.connect(port: port)
            try await peer.send(.message(99, [1, 2, 3]))
            let (frames, _) = try await peer.receiveFrames(limit: 1)
            guard case .close(let close) = frames.first?.kind else {
                Issue.record("expected a Close, got \(frames)")
                return
            }
            #expect(frames.first?.streamID == 99)
            #expect(close.code == Int32(Status.Code.internalError.rawValue))
        }
    }

    @Test("a malformed method path is UNIMPLEMENTED and names the path")
    func badMethodPath() async throws {
        try await withEchoServer { port, _, _ in
            let peer = try await RawWirePeer.connect(port: port)
            var open = Wire_Open()
            open.method = "no-slashes"
            try await peer.send(Wire_Frame.with { $0.streamID = 1; $0.open = open })
            let (frames, _) = try await peer.receiveFrames(limit: 1)
            guard case .close(let close) = frames.first?.kind else {
                Issue.record("expected a Close, got \(frames)")
                return
            }
            #expect(close.code == Int32(Status.Code.unimplemented.rawValue))
            #expect(close.message.contains("no-slashes"))
        }
    }

    @Test("a ping is answered with an ack carrying the same payload")
    func ping() async throws {
        try await withEchoServer { port, _, _ in
            let peer = try await RawWirePeer.connect(port: port)
            try await peer.send(Wire_Frame.with { $0.ping = Wire_Ping.with { $0.payload = 77 } })
            let (frames, _) = try await peer.receiveFrames(limit: 1)
            guard case .ping(let ping) = frames.first?.kind else {
                Issue.record("expected a Ping ack, got \(frames)")
                return
            }
            #expect(ping.ack && ping.payload == 77)
        }
    }

    @Test("a client vanishing mid-call cancels its handler and the server keeps serving")
    func abruptDisconnect() async throws {
        try await withEchoServer { port, observations, _ in
            for round in 0..<5 {
                let peer = try await RawWirePeer.connect(port: port)
                var open = Wire_Open()
                open.method = "/oneseal.test.v1.Echo/Hang"
                var tagMetadata = Metadata()
                tagMetadata.addString("vanish-\(round)", forKey: "x-tag")
                open.metadata = tagMetadata.wireEntries
                var message = Wire_Message()
                message.data = .init("vanish-\(round)".utf8)
                try await peer.send(
                    Wire_Frame.with { $0.streamID = 1; $0.open = open },
                    Wire_Frame.with { $0.streamID = 1; $0.message = message }
                )
                #expect(await observations.eventually { $0.startedTags.contains("vanish-\(round)") })
                try await peer.close()
                #expect(await observations.eventually { $0.cancelledTags.contains("vanish-\(round)") })
            }
            // A truncated frame followed by a disconnect.
            let peer = try await RawWirePeer.connect(port: port)
            try await peer.send([0, 0, 1, 0, 1, 2, 3])
            try await peer.close()
            try await withEchoClient(port: port) { client in
                let answer = try await client.echo("ok")
                #expect(answer == "ok")
            }
        }
    }
}
