import Foundation
import GRPCCore
import OneSealProto
@testable import OneSealWire
import Testing
import NIOCore

/// The client connection state machine action by action (issue #16; the style of postgres-nio's
/// `ConnectionStateMachineTests`): every frame kind in every stream state and in every state of the
/// connection's life (taking calls, going away, draining, closed), and what each of the
/// connection's own events (a new call, shutdown, keepalive ticks, a lost connection) does there.
@Suite("Client connection state machine, every frame kind in every state")
struct ClientConnectionStateMachineTests {
    typealias Kind = WireFrames.Kind
    static func frame(_ kind: Kind, _ id: UInt32) -> Wire_Frame { WireFrames.frame(kind, id) }
    static func describe(_ frame: Wire_Frame) -> String { WireFrames.describe(frame) }

    /// The states of client stream 1.
    enum ClientState: String, CaseIterable, CustomStringConvertible {
        /// A stream this connection never opened (id 5).
        case unknown
        /// Opened, nothing from the server yet.
        case open
        /// The server's Headers arrived.
        case answering
        /// Our requests are half-closed; the server's Headers arrived.
        case halfClosed
        /// The server closed it.
        case ended
        var description: String { rawValue }

        func machine() -> ClientConnectionStateMachine {
            var machine = ClientConnectionStateMachine()
            guard self != .unknown else { return machine }
            _ = machine.openStream()
            switch self {
            case .unknown, .open: break
            case .answering: _ = machine.receive(frame(.headers, 1))
            case .halfClosed:
                _ = machine.halfClose(1)
                _ = machine.receive(frame(.headers, 1))
            case .ended: _ = machine.receive(frame(.close, 1))
            }
            return machine
        }

        var stream: UInt32 { self == .unknown ? 5 : 1 }
    }

    static func describe(_ action: ClientConnectionStateMachine.ReceiveAction) -> String {
        switch action {
        case .deliver(let id, .metadata): return "headers \(id)"
        case .deliver(let id, .message(let bytes)): return "message \(id) \(bytes.count)B"
        case .deliver(let id, .status(let status, _)): return "status \(id) \(status.code.rawValue)"
        case .write(let frame): return "write \(describe(frame))"
        case .pingAcknowledged(let payload): return "ping acknowledged \(payload)"
        case .goAway(let failed, _, _): return "going away, failing \(failed)"
        case .failStream(let id, let status, _): return "fail \(id) \(status.code.rawValue)"
        case .closeConnection: return "close connection"
        case .none: return "none"
        }
    }

    static let clientTable: [ClientState: [Kind: String]] = {
        let common: [Kind: String] = [
            .open: "close connection", .halfClose: "close connection", .cancel: "close connection",
            .ping: "write PingAck(7)", .pingAck: "ping acknowledged 7", .empty: "close connection",
        ]
        func with(_ specific: [Kind: String]) -> [Kind: String] { common.merging(specific) { _, new in new } }
        return [
            .unknown: with([.headers: "none", .message: "none", .close: "none", .goAway: "going away, failing []"]),
            .open: with([.headers: "headers 1", .message: "close connection", .close: "status 1 0", .goAway: "going away, failing [1]"]),
            .answering: with([.headers: "close connection", .message: "message 1 3B", .close: "status 1 0", .goAway: "going away, failing [1]"]),
            .halfClosed: with([.headers: "close connection", .message: "message 1 3B", .close: "status 1 0", .goAway: "going away, failing [1]"]),
            .ended: with([.headers: "none", .message: "none", .close: "none", .goAway: "going away, failing []"]),
        ]
    }()

    @Test("client: every frame kind in every stream state", arguments: ClientState.allCases)
    func clientReceives(_ state: ClientState) {
        for kind in Kind.allCases {
            var machine = state.machine()
            let action = Self.describe(machine.receive(Self.frame(kind, state.stream)))
            #expect(action == Self.clientTable[state]?[kind], "state \(state), frame \(kind)")
        }
    }

    @Test("client: the direct decoder's frames follow the same rules", arguments: ClientState.allCases)
    func clientReceivesDirectFrames(_ state: ClientState) {
        let id = state.stream
        let direct: [(Kind, InboundFrame)] = [
            (.message, .message(streamID: id, bytes: [1, 2, 3])), (.halfClose, .halfClose(streamID: id)),
            (.headers, .emptyHeaders(streamID: id)), (.close, .okClose(streamID: id)),
        ]
        for (kind, inbound) in direct {
            var machine = state.machine()
            #expect(Self.describe(machine.receive(inbound)) == Self.clientTable[state]?[kind], "state \(state), direct \(kind)")
        }
    }

    @Test("client: ids, half-close, cancel, GoAway and a lost connection")
    func clientActions() throws {
        var machine = ClientConnectionStateMachine()
        let first = try machine.openStream().get()
        let second = try machine.openStream().get()
        #expect(first == 1 && second == 2)
        // Half-close once; no request message after it.
        #expect(machine.canSend(on: 1))
        let once = machine.halfClose(1)
        let twice = machine.halfClose(1)
        #expect(once && !twice)
        #expect(!machine.canSend(on: 1))
        // Cancel sends one Cancel, and none for a stream already over.
        let cancel = machine.cancel(2, reason: "user").map(Self.describe)
        let again = machine.cancel(2, reason: "user")
        #expect(cancel == "Cancel(2)" && again == nil)
        // GoAway naming 0: stream 1 was never seen and fails; no new stream may open.
        let goAway = Self.describe(machine.receive(.goAway(lastStreamID: 0, code: .ok, reason: "bye")))
        #expect(goAway == "going away, failing [1]")
        #expect(machine.isGoingAway)
        if case .failure(let error) = machine.openStream() { #expect(error.code == .unavailable) } else { Issue.record("opened after GoAway") }
        // A lost connection ends what is still open.
        var other = ClientConnectionStateMachine()
        _ = other.openStream()
        _ = other.openStream()
        let ended = other.connectionClosed().sorted()
        #expect(ended == [1, 2])
        #expect(other.openStreamCount == 0)
    }

    // MARK: The connection's life

    /// The states of the connection itself, each with stream 1 open ("busy") or nothing open.
    enum ConnectionState: String, CaseIterable, CustomStringConvertible {
        /// Taking calls, nothing open.
        case idle
        /// Taking calls, stream 1 open.
        case busy
        /// The server sent GoAway naming stream 1: it runs on, nothing new opens.
        case goingAway
        /// The transport is shutting down with stream 1 still open.
        case draining
        /// The channel is gone.
        case closed
        var description: String { rawValue }

        func machine() -> ClientConnectionStateMachine {
            var machine = ClientConnectionStateMachine()
            switch self {
            case .idle: break
            case .busy: _ = machine.openStream()
            case .goingAway:
                _ = machine.openStream()
                _ = machine.receive(WireFrames.frame(.headers, 1))
                _ = machine.receive(.goAway(lastStreamID: 1, code: .ok, reason: "maintenance"))
                _ = machine.becomeUnusable(reason: "maintenance")  // as the handler does
            case .draining:
                _ = machine.openStream()
                _ = machine.beginGracefulClose()
            case .closed:
                _ = machine.openStream()
                _ = machine.connectionClosed()
                _ = machine.becomeUnusable(reason: "connection closed")  // as the handler does
            }
            return machine
        }
    }

    /// What each frame kind on stream 1 does in each state of the connection (GoAway here names
    /// stream 0, so it fails a running stream 1): exactly what the stream's own state says — going
    /// away, draining or closed change which calls may start, never how a frame is read.
    static let connectionTable: [ConnectionState: [Kind: String]] = [
        .idle: clientTable[.unknown]!,
        .busy: clientTable[.open]!,
        .goingAway: clientTable[.answering]!,
        .draining: clientTable[.open]!,
        .closed: clientTable[.unknown]!,
    ]

    @Test("client: every frame kind in every state of the connection", arguments: ConnectionState.allCases)
    func connectionReceives(_ state: ConnectionState) {
        for kind in Kind.allCases {
            var machine = state.machine()
            let action = Self.describe(machine.receive(Self.frame(kind, 1)))
            #expect(action == Self.connectionTable[state]?[kind], "state \(state), frame \(kind)")
        }
    }

    /// What the connection's own events do in each state: whether a call may register, the id a new
    /// stream gets (or "refused"), whether it should close now, what shutdown and a first keepalive
    /// tick ask for, and whether the pool still has to be told it is unusable.
    struct LifecycleRow: Equatable, CustomStringConvertible {
        var acceptsCalls: Bool
        var openStream: String
        var closeNow: Bool
        var shutdown: String
        var keepalive: String
        var unusable: String

        var description: String {
            "accepts \(acceptsCalls), open \(openStream), close now \(closeNow), shutdown \(shutdown), keepalive \(keepalive), unusable \(unusable)"
        }
    }

    static func describe(_ action: ClientConnectionStateMachine.KeepaliveAction) -> String {
        switch action {
        case .write(let frame): return "write \(describe(frame))"
        case .closeConnection: return "close connection"
        case .none: return "none"
        }
    }

    static func lifecycle(_ state: ConnectionState) -> LifecycleRow {
        var opening = state.machine()
        let opened: String = switch opening.openStream() {
        case .success(let id): "stream \(id)"
        case .failure(let error): error.code == .unavailable ? "refused unavailable" : "refused \(error.code)"
        }
        var shuttingDown = state.machine()
        let shutdownReport = shuttingDown.beginGracefulClose() ?? "told already"
        var ticking = state.machine()
        var reporting = state.machine()
        return LifecycleRow(
            acceptsCalls: state.machine().acceptsNewCalls,
            openStream: opened,
            closeNow: state.machine().shouldCloseIdle,
            shutdown: "\(shutdownReport), close now \(shuttingDown.shouldCloseIdle)",
            keepalive: describe(ticking.keepaliveTick(now: .uptimeNanoseconds(1_000_000_000), timeout: .seconds(20))),
            unusable: reporting.becomeUnusable(reason: "test") ?? "told already")
    }

    static let lifecycleTable: [ConnectionState: LifecycleRow] = [
        .idle: LifecycleRow(
            acceptsCalls: true, openStream: "stream 1", closeNow: false,
            shutdown: "client transport is shutting down, close now true", keepalive: "write Ping(1)", unusable: "test"),
        .busy: LifecycleRow(
            acceptsCalls: true, openStream: "stream 2", closeNow: false,
            shutdown: "client transport is shutting down, close now false", keepalive: "write Ping(1)", unusable: "test"),
        .goingAway: LifecycleRow(
            acceptsCalls: false, openStream: "refused unavailable", closeNow: false,
            shutdown: "told already, close now false", keepalive: "write Ping(1)", unusable: "told already"),
        .draining: LifecycleRow(
            acceptsCalls: false, openStream: "refused unavailable", closeNow: false,
            shutdown: "told already, close now false", keepalive: "write Ping(1)", unusable: "told already"),
        .closed: LifecycleRow(
            acceptsCalls: false, openStream: "refused unavailable", closeNow: false,
            shutdown: "told already, close now false", keepalive: "none", unusable: "told already"),
    ]

    @Test("client: a new call, shutdown, keepalive and the unusable report in every state of the connection", arguments: ConnectionState.allCases)
    func connectionEvents(_ state: ConnectionState) {
        #expect(Self.lifecycle(state) == Self.lifecycleTable[state], "state \(state)")
    }

    @Test("client: a draining connection closes when its last stream ends, however it ends")
    func drainingClosesWhenIdle() {
        var invalidHeaders = Wire_Headers()
        invalidHeaders.metadata = [Wire_MetadataEntry.with { $0.key = "Bad Key"; $0.text = "x" }]
        let endings: [(String, (inout ClientConnectionStateMachine) -> Void)] = [
            ("close", { _ = $0.receive(Self.frame(.close, 1)) }),
            ("cancel", { _ = $0.cancel(1, reason: "caller left") }),
            ("invalid headers", { _ = $0.receive(Wire_Frame(streamID: 1, kind: .headers(invalidHeaders))) }),
            ("lost connection", { _ = $0.connectionClosed() }),
        ]
        for state in [ConnectionState.draining, .goingAway] {
            // In `goingAway` the server's Headers came already: a second one breaks the protocol.
            for (name, end) in endings where !(state == .goingAway && name == "invalid headers") {
                var machine = state.machine()
                #expect(!machine.shouldCloseIdle, "\(state) before \(name)")
                end(&machine)
                // A lost connection is closed already: there is nothing left to close.
                #expect(machine.shouldCloseIdle == (name != "lost connection"), "\(state) after \(name)")
            }
        }
        // A connection that takes calls stays open when idle.
        var busy = ConnectionState.busy.machine()
        _ = busy.receive(Self.frame(.close, 1))
        #expect(!busy.shouldCloseIdle)
    }

    @Test("client: keepalive sends one ping at a time, closes when its ack is late, and only the right ack answers it")
    func keepalive() {
        var machine = ClientConnectionStateMachine()
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        let timeout = TimeAmount.seconds(20)
        #expect(Self.describe(machine.keepaliveTick(now: start, timeout: timeout)) == "write Ping(1)")
        #expect(machine.outstandingPingPayload == 1)
        // In flight and in time: no second ping.
        #expect(Self.describe(machine.keepaliveTick(now: start + .seconds(10), timeout: timeout)) == "none")
        // An ack for another payload does not answer it.
        #expect(Self.describe(machine.receive(.ping(payload: 9, ack: true))) == "ping acknowledged 9")
        #expect(machine.outstandingPingPayload == 1)
        // Exactly the timeout is still in time; past it the connection is closed.
        #expect(Self.describe(machine.keepaliveTick(now: start + timeout, timeout: timeout)) == "none")
        #expect(Self.describe(machine.keepaliveTick(now: start + timeout + .nanoseconds(1), timeout: timeout)) == "close connection")
        // Its ack clears it; the next tick sends the next payload.
        #expect(Self.describe(machine.receive(.ping(payload: 1, ack: true))) == "ping acknowledged 1")
        #expect(machine.outstandingPingPayload == nil)
        #expect(Self.describe(machine.keepaliveTick(now: start + .seconds(60), timeout: timeout)) == "write Ping(2)")
        // A server's ping is answered and is not ours to wait for.
        #expect(Self.describe(machine.receive(.ping(payload: 2, ack: false))) == "write PingAck(2)")
        #expect(machine.outstandingPingPayload == 2)
        // A lost connection waits for nothing and ticks do nothing.
        _ = machine.connectionClosed()
        #expect(machine.outstandingPingPayload == nil)
        #expect(Self.describe(machine.keepaliveTick(now: start + .seconds(600), timeout: timeout)) == "none")
    }

    @Test("client: the pool is told once that the connection is unusable, whatever made it so first")
    func unusableOnce() {
        var machine = ClientConnectionStateMachine()
        _ = machine.receive(.goAway(lastStreamID: 0, code: .ok, reason: "maintenance"))
        #expect(machine.becomeUnusable(reason: "maintenance") == "maintenance")
        #expect(machine.beginGracefulClose() == nil)
        _ = machine.connectionClosed()
        #expect(machine.becomeUnusable(reason: "connection closed") == nil)
        #expect(!machine.acceptsNewCalls && machine.isClosed)
    }
}
