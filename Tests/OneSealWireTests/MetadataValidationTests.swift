import Foundation
import GRPCCore
import OneSealProto
@testable import OneSealWire
import Testing

/// Metadata from the wire is checked entry by entry before any of it becomes a GRPCCore
/// `Metadata` (whose `addBinary` asserts a `-bin` key): a bad entry costs the sender its call,
/// never the process (#15, item 1). Frame by frame, on both state machines.
@Suite("Metadata from the wire")
struct MetadataValidationTests {
    static func entry(_ key: String, text: String) -> Wire_MetadataEntry {
        Wire_MetadataEntry.with { $0.key = key; $0.text = text }
    }

    static func entry(_ key: String, binary: [UInt8]) -> Wire_MetadataEntry {
        Wire_MetadataEntry.with { $0.key = key; $0.binary = Data(binary) }
    }

    static func entry(_ key: String) -> Wire_MetadataEntry {
        Wire_MetadataEntry.with { $0.key = key }
    }

    /// Every class of bad entry: the kind of value against the `-bin` suffix, key syntax (gRPC:
    /// non-empty, `0-9 a-z _ - .` only), text that is not printable ASCII.
    static let invalidEntries: [(String, Wire_MetadataEntry)] = [
        ("binary under a text key", entry("x-tag", binary: [1, 2, 3])),
        ("binary under authorization", entry("authorization", binary: [0xFF])),
        ("text under a -bin key", entry("trace-bin", text: "abc")),
        ("empty key", entry("", text: "v")),
        ("uppercase key", entry("Authorization", text: "Bearer x")),
        ("space in key", entry("x tag", text: "v")),
        ("NUL in key", entry("x\u{0}tag", text: "v")),
        ("DEL in key", entry("x\u{7F}", text: "v")),
        ("colon key", entry(":path", text: "/a/b")),
        ("non-ASCII key", entry("schlüssel", text: "v")),
        ("binary under a key that is -bin only in uppercase", entry("x-BIN", binary: [1])),
        ("NUL in text", entry("x-tag", text: "a\u{0}b")),
        ("DEL in text", entry("x-tag", text: "a\u{7F}")),
        ("newline in text", entry("x-tag", text: "a\r\nx-injected: 1")),
        ("non-ASCII text", entry("x-tag", text: "办件")),
    ]

    static let validEntries: [Wire_MetadataEntry] = [
        entry("authorization", text: "Bearer abc.def"),
        entry("traceparent", text: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        entry("x_under.score-1", text: " spaces and ~!@#$%^&*() are printable "),
        entry("empty-text", text: ""),
        entry("oneseal-bad-request-bin", binary: [0, 0xFF, 0x7F, 10]),
        entry("no-value"),
        entry("no-value-bin"),
    ]

    static func open(_ id: UInt32, _ metadata: [Wire_MetadataEntry]) -> Wire_Frame {
        .open(id, method: "/oneseal.test.v1.Echo/Unary", metadata: metadata, timeoutMicros: 0)
    }

    // MARK: Server: Open.metadata

    @Test("server: each class of invalid entry in an Open is refused with INVALID_ARGUMENT on its stream; no call starts")
    func serverRefusesInvalidEntries() {
        var machine = ServerConnectionStateMachine(maximumConcurrentStreams: 8)
        var id: UInt32 = 1
        for (name, bad) in Self.invalidEntries {
            // The bad entry among good ones, so position does not matter.
            let action = machine.receive(Self.open(id, [Self.entry("authorization", text: "Bearer x"), bad]))
            guard case .write(let frame) = action, case .close(let close) = frame.kind else {
                Issue.record("\(name): expected a refusing Close, got \(action)")
                id += 1
                continue
            }
            #expect(frame.streamID == id, "\(name)")
            #expect(close.code == Int32(Status.Code.invalidArgument.rawValue), "\(name): \(close.message)")
            #expect(close.message.contains("metadata"), "\(name): \(close.message)")
            #expect(close.message.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }, "\(name): unescaped bytes in \(close.message.debugDescription)")
            #expect(machine.openStreamCount == 0, "\(name)")
            #expect(machine.highestStreamID == id, "\(name)")
            id += 1
        }
        // The connection goes on: a good Open afterwards starts its call.
        guard case .openStream(let opened, _, let metadata, _) = machine.receive(Self.open(id, Self.validEntries)) else {
            Issue.record("a valid Open after the refusals did not start a call")
            return
        }
        #expect(opened == id)
        #expect(metadata.count == Self.validEntries.count)
    }

    @Test("server: valid entries arrive as they were sent; an entry without a value is empty text, or empty bytes under -bin")
    func serverKeepsValidEntries() {
        var machine = ServerConnectionStateMachine(maximumConcurrentStreams: 8)
        guard case .openStream(_, _, let metadata, _) = machine.receive(Self.open(1, Self.validEntries)) else {
            Issue.record("valid metadata was refused")
            return
        }
        let pairs = metadata.map { ($0.key, $0.value) }
        #expect(pairs.map(\.0) == Self.validEntries.map(\.key))
        #expect(Array(metadata[stringValues: "authorization"]) == ["Bearer abc.def"])
        #expect(Array(metadata[binaryValues: "oneseal-bad-request-bin"]).first == [0, 0xFF, 0x7F, 10])
        #expect(pairs[5].1 == .string(""))
        #expect(pairs[6].1 == .binary([]))
    }

    @Test("server: too many entries or too many bytes in an Open is RESOURCE_EXHAUSTED; at the limit is fine")
    func serverMetadataLimits() {
        var configuration = WireConfiguration()
        configuration.maximumMetadataEntries = 10
        configuration.maximumMetadataBytes = 1_000
        var machine = ServerConnectionStateMachine(configuration: configuration)
        let ten = (0..<10).map { Self.entry("k\($0)", text: "v") }
        #expect(machine.receive(Self.open(1, ten)).isOpenStream)
        let eleven = (0..<11).map { Self.entry("k\($0)", text: "v") }
        #expect(machine.receive(Self.open(2, eleven)).refusal(on: 2) == .resourceExhausted)
        // Key + value bytes: "big" (3) + 997 = 1,000 is the limit.
        #expect(machine.receive(Self.open(3, [Self.entry("big", text: String(repeating: "a", count: 997))])).isOpenStream)
        #expect(machine.receive(Self.open(4, [Self.entry("big", text: String(repeating: "a", count: 998))])).refusal(on: 4) == .resourceExhausted)
        #expect(machine.receive(Self.open(5, [Self.entry("big-bin", binary: Array(repeating: 0, count: 4_000_000))])).refusal(on: 5) == .resourceExhausted)
        #expect(machine.openStreamCount == 2)
    }

    @Test("server: the default limits refuse a 4 MB value and 150,000 entries")
    func serverDefaultLimits() {
        var machine = ServerConnectionStateMachine(configuration: WireConfiguration())
        #expect(machine.receive(Self.open(1, [Self.entry("x-bin", binary: Array(repeating: 7, count: 4_000_000))])).refusal(on: 1) == .resourceExhausted)
        let many = [Wire_MetadataEntry](repeating: Self.entry("k", text: ""), count: 150_000)
        #expect(machine.receive(Self.open(2, many)).refusal(on: 2) == .resourceExhausted)
        #expect(machine.openStreamCount == 0)
    }

    // MARK: Client: Headers.metadata and Close.trailers

    @Test("client: invalid response Headers end that call with INTERNAL and cancel it on the server; other calls go on")
    func clientRefusesInvalidHeaders() {
        for (name, bad) in Self.invalidEntries {
            var machine = ClientConnectionStateMachine()
            guard case .success(let id) = machine.openStream(), case .success(let other) = machine.openStream() else {
                Issue.record("could not open streams")
                return
            }
            let headers = Wire_Frame(streamID: id, kind: .headers(Wire_Headers.with { $0.metadata = [bad] }))
            let action = machine.receive(headers)
            guard case .failStream(let failed, let status, let cancel) = action else {
                Issue.record("\(name): expected the call to fail, got \(action)")
                continue
            }
            #expect(failed == id)
            #expect(status.code == .internalError, "\(name)")
            #expect(status.message.contains("metadata"), "\(name): \(status.message)")
            #expect(status.message.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }, "\(name)")
            #expect(cancel.streamID == id)
            if case .cancel = cancel.kind {} else { Issue.record("\(name): expected a Cancel, got \(cancel)") }
            #expect(machine.openStreamCount == 1)
            // Later frames of the failed call are ignored; the other call is untouched.
            #expect(machine.receive(.message(id, [1])) == .none)
            #expect(machine.receive(.headers(other, ["x-ok": "1"])) == .deliver(streamID: other, .metadata(["x-ok": "1"])))
        }
    }

    @Test("client: invalid trailers in a Close end the call with INTERNAL instead of the server's status")
    func clientRefusesInvalidTrailers() {
        for (name, bad) in Self.invalidEntries {
            var machine = ClientConnectionStateMachine()
            guard case .success(let id) = machine.openStream() else { return }
            let close = Wire_Frame(streamID: id, kind: .close(Wire_Close.with { $0.code = 0; $0.trailers = [bad] }))
            guard case .deliver(id, .status(let status, let trailers)) = machine.receive(close) else {
                Issue.record("\(name): expected a status")
                continue
            }
            #expect(status.code == .internalError, "\(name)")
            #expect(status.message.contains("trailers"), "\(name): \(status.message)")
            #expect(trailers.isEmpty)
            #expect(machine.openStreamCount == 0)
        }
    }

    @Test("client: valid Headers and trailers pass unchanged")
    func clientKeepsValidMetadata() {
        var machine = ClientConnectionStateMachine()
        guard case .success(let id) = machine.openStream() else { return }
        let headers = Wire_Frame(streamID: id, kind: .headers(Wire_Headers.with { $0.metadata = Self.validEntries }))
        guard case .deliver(id, .metadata(let metadata)) = machine.receive(headers) else {
            Issue.record("valid headers refused")
            return
        }
        #expect(metadata.count == Self.validEntries.count)
        let close = Wire_Frame(streamID: id, kind: .close(Wire_Close.with { $0.code = 3; $0.message = "bad"; $0.trailers = Self.validEntries }))
        guard case .deliver(id, .status(let status, let trailers)) = machine.receive(close) else {
            Issue.record("valid trailers refused")
            return
        }
        #expect(status.code == .invalidArgument)
        #expect(trailers.count == Self.validEntries.count)
    }

    // MARK: The conversion itself

    @Test("conversion: every invalid entry throws, naming the entry with its bytes escaped")
    func conversionThrows() {
        for (name, bad) in Self.invalidEntries {
            #expect(throws: MetadataValidationError.self, "\(name)") {
                try Metadata(validating: [bad], limits: .init(maximumEntries: 64, maximumBytes: 65_536))
            }
        }
        let error = #expect(throws: MetadataValidationError.self) {
            try Metadata(validating: [Self.entry("a\u{0}\u{7F}\u{1B}[31m", binary: [1])], limits: .init(maximumEntries: 64, maximumBytes: 65_536))
        }
        #expect(error?.description.contains("\\x00\\x7F\\x1B[31m") == true, "\(String(describing: error?.description))")
    }

    @Test("outbound: a frame with invalid metadata is sent as it is (SwiftProtobuf), never converted")
    func outboundFrameNeverConverts() {
        let bad = Self.open(1, [Self.entry("x-tag", binary: [1])])
        guard case .other = OutboundFrame(bad) else {
            Issue.record("an Open with invalid metadata became a call frame")
            return
        }
        let good = Self.open(1, Self.validEntries)
        guard case .open = OutboundFrame(good) else {
            Issue.record("an Open with valid metadata did not take the direct path")
            return
        }
    }
}

extension ServerConnectionStateMachine.ReceiveAction {
    var isOpenStream: Bool {
        if case .openStream = self { return true }
        return false
    }

    /// The status code of a Close refusing stream `id`, if this is one.
    func refusal(on id: UInt32) -> Status.Code? {
        guard case .write(let frame) = self, frame.streamID == id, case .close(let close) = frame.kind else { return nil }
        return Status.Code(wire: close.code)
    }
}
