import GRPCCore
import NIOCore
import OneSealProto
@testable import OneSealWire
import Testing

/// The server enforces `Open.timeout_micros` itself: the client gets `Close{DEADLINE_EXCEEDED}`
/// naming the deadline, the handler is cancelled, and nothing more comes on that stream. A GoAway
/// after a framing error names the highest stream the server saw.
@Suite("Server deadlines and GoAway ids")
struct ServerDeadlineTests {
    static func sleepCall(_ id: UInt32, tag: String, timeoutMicros: UInt64) -> [Wire_Frame] {
        [
            .open(id, method: "/oneseal.test.v1.Echo/Sleep", metadata: [], timeoutMicros: timeoutMicros),
            .message(id, Array(tag.utf8)),
            .halfClose(id),
        ]
    }

    @Test("an expired deadline is answered with Close{4 DEADLINE_EXCEEDED} naming the deadline")
    func rawPeerGetsDeadlineExceeded() async throws {
        try await withEchoServer { port, observations, _ in
            let peer = try await RawWirePeer.connect(port: port)
            let started = ContinuousClock.now
            try await peer.converse { next, send in
                try await send(Self.sleepCall(1, tag: "raw-deadline", timeoutMicros: 300_000))
                var seen: [Wire_Frame] = []
                var close: Wire_Close?
                while close == nil, let frame = try await next() {
                    seen.append(frame)
                    if case .close(let value) = frame.kind { close = value }
                }
                let elapsed = ContinuousClock.now - started
                guard let close else {
                    Issue.record("no Close before the connection ended: \(seen)")
                    return
                }
                #expect(seen.last?.streamID == 1)
                #expect(close.code == Int32(Status.Code.deadlineExceeded.rawValue))
                #expect(close.message.contains("300 ms"))
                #expect(close.message.contains("timeout_micros"))
                // Not before the deadline, and long before the handler's 30 s sleep would end.
                #expect(elapsed >= .milliseconds(300))
                #expect(elapsed < .seconds(10))
                // No response message was sent, at most the empty Headers GRPCCore writes first.
                #expect(seen.allSatisfy { if case .message = $0.kind { false } else { true } })

                // The handler was cancelled, through GRPCCore's RPC handle too.
                #expect(await observations.eventually { $0.cancelledTags.contains("raw-deadline") })
                // Whatever the cancelled handler answered afterwards is dropped: the next frame on
                // the connection is the ack of this ping, and a new call still works.
                try await Task.sleep(for: .milliseconds(100))
                try await send([.ping(payload: 9, ack: false)])
                let after = try await next()
                guard case .ping(let ping) = after?.kind else {
                    Issue.record("expected only the ping ack after the Close, got \(String(describing: after))")
                    return
                }
                #expect(ping.ack && ping.payload == 9)
                try await send([
                    .open(3, method: "/oneseal.test.v1.Echo/Unary", metadata: [], timeoutMicros: 5_000_000),
                    .message(3, Array("again".utf8)),
                    .halfClose(3),
                ])
                var answer: [UInt8]?
                var status: Int32?
                while status == nil, let frame = try await next() {
                    #expect(frame.streamID == 3)
                    switch frame.kind {
                    case .message(let message): answer = [UInt8](message.data)
                    case .close(let close): status = close.code
                    default: break
                    }
                }
                #expect(answer == Array("again".utf8))
                #expect(status == 0)
            }
        }
    }

    @Test("a handler sleeping past the deadline: the GRPCClient caller gets DEADLINE_EXCEEDED and the handler is cancelled")
    func grpcClientGetsDeadlineExceeded() async throws {
        try await withEchoServer { port, observations, _ in
            try await withEchoClient(port: port) { client in
                let started = ContinuousClock.now
                await #expect {
                    // Long enough for the handler to start even on a loaded machine.
                    _ = try await client.sleep("client-deadline", timeout: .seconds(2))
                } throws: { error in
                    (error as? RPCError)?.code == .deadlineExceeded
                }
                #expect(ContinuousClock.now - started < .seconds(10))
                // Under load the server may see the Cancel before starting the handler; a handler
                // that did start must have been cancelled.
                #expect(await observations.eventually { !$0.startedTags.contains("client-deadline") || $0.cancelledTags.contains("client-deadline") })
                let answer = try await client.echo("after the deadline")
                #expect(answer == "after the deadline")
            }
        }
    }

    @Test("a call that finishes before its deadline is not affected by it")
    func deadlineNotReached() async throws {
        try await withEchoServer { port, _, _ in
            try await withEchoClient(port: port) { client in
                for index in 0..<50 {
                    // A deadline far above any call's duration, even on a machine loaded by builds.
                    let answer = try await client.echo("in time \(index)", timeout: .seconds(60))
                    #expect(answer == "in time \(index)")
                }
            }
        }
    }

    @Test("the GoAway after a framing error names the highest stream id the server saw")
    func goAwayAfterFramingErrorNamesLastStream() async throws {
        try await withEchoServer { port, observations, _ in
            let peer = try await RawWirePeer.connect(port: port)
            try await peer.send(Self.sleepCall(3, tag: "before-garbage-3", timeoutMicros: 0) + Self.sleepCall(7, tag: "before-garbage-7", timeoutMicros: 0))
            #expect(await observations.eventually {
                $0.startedTags.contains("before-garbage-3") && $0.startedTags.contains("before-garbage-7")
            })
            try await peer.send([0, 0, 0, 5, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
            let (frames, closed) = try await peer.receiveFrames()
            #expect(closed)
            guard case .goAway(let goAway) = frames.last?.kind else {
                Issue.record("expected a GoAway, got \(frames)")
                return
            }
            #expect(goAway.lastStreamID == 7)
            #expect(goAway.code == Int32(Status.Code.internalError.rawValue))
            // Both running calls were cancelled with the connection.
            #expect(await observations.eventually {
                $0.cancelledTags.contains("before-garbage-3") && $0.cancelledTags.contains("before-garbage-7")
            })
        }
    }

    @Test("the GoAway after a framing error on a fresh connection says 0")
    func goAwayBeforeAnyStream() async throws {
        try await withEchoServer { port, _, _ in
            let peer = try await RawWirePeer.connect(port: port)
            try await peer.send([0x7F, 0xFF, 0xFF, 0xFF])
            let (frames, _) = try await peer.receiveFrames()
            guard case .goAway(let goAway) = frames.last?.kind else {
                Issue.record("expected a GoAway, got \(frames)")
                return
            }
            #expect(goAway.lastStreamID == 0)
            #expect(goAway.code == Int32(Status.Code.resourceExhausted.rawValue))
        }
    }

    @Test("state machine: the deadline closes a running call once; later parts are dropped")
    func stateMachineExpiry() {
        var machine = ServerConnectionStateMachine(maximumConcurrentStreams: 8)
        _ = machine.receive(.open(5, method: "/a.B/C", metadata: [], timeoutMicros: 1_500_000))
        #expect(machine.highestStreamID == 5)
        let expired = machine.expireDeadline(on: 5, timeoutMicros: 1_500_000)
        guard case .close(let close) = expired.frames.first?.kind, expired.frames.count == 1 else {
            Issue.record("expected one Close, got \(expired.frames)")
            return
        }
        #expect(close.code == Int32(Status.Code.deadlineExceeded.rawValue))
        #expect(close.message.contains("1.5 s"))
        #expect(machine.openStreamCount == 0)
        #expect(machine.send(.message([1]), on: 5).frames.isEmpty)
        #expect(machine.send(.status(Status(code: .unknown, message: ""), [:]), on: 5).frames.isEmpty)
        #expect(machine.finish(5, error: CancellationError()).frames.isEmpty)
        #expect(machine.expireDeadline(on: 5, timeoutMicros: 1_500_000).frames.isEmpty)
        #expect(machine.highestStreamID == 5)
    }
}
