import Foundation
import GRPCCore
import OneSealProto
@testable import OneSealWire
import Testing

/// Both connection state machines, action by action (issue #16, item 3; the style of postgres-nio's
/// `ConnectionStateMachineTests`): every frame kind in every state a stream can be in, with the
/// action the machine must return, written as a table so a broken rule shows as one wrong row.
/// No sockets: these are the rules of PROTOCOL.md §4–§8 and §13 as plain values.
@Suite("Connection state machines, every frame kind in every state")
struct StateMachineTableTests {
    // MARK: Frames

    enum Kind: String, CaseIterable, CustomStringConvertible {
        case open, headers, message, halfClose, close, cancel, ping, pingAck, goAway, empty
        var description: String { rawValue }
    }

    /// A frame of `kind` on stream `id` (ping, ping ack and GoAway go on stream 0 as the protocol says).
    static func frame(_ kind: Kind, _ id: UInt32) -> Wire_Frame {
        switch kind {
        case .open: return .open(id, method: "/oneseal.test.v1.Echo/Unary", metadata: [], timeoutMicros: 0)
        case .headers: return .headers(id, [:])
        case .message: return .message(id, [1, 2, 3])
        case .halfClose: return .halfClose(id)
        case .close: return .close(id, code: .ok, message: "")
        case .cancel: return .cancel(id, reason: "bye")
        case .ping: return .ping(payload: 7, ack: false)
        case .pingAck: return .ping(payload: 7, ack: true)
        case .goAway: return .goAway(lastStreamID: 0, code: .ok, reason: "maintenance")
        case .empty:
            var frame = Wire_Frame()
            frame.streamID = id
            return frame
        }
    }

    static func describe(_ frame: Wire_Frame) -> String {
        switch frame.kind {
        case .close(let close): return "Close(\(frame.streamID), \(close.code))"
        case .ping(let ping): return ping.ack ? "PingAck(\(ping.payload))" : "Ping(\(ping.payload))"
        default: return "\(frame.kindName)(\(frame.streamID))"
        }
    }

    // MARK: Server

    /// The states a server-side stream 3 can be in, each reached by the frames a client sends.
    enum ServerState: String, CaseIterable, CustomStringConvertible {
        /// Nothing opened yet: 3 is above the highest id.
        case fresh
        /// Stream 3 is running.
        case open
        /// Stream 3 is running and the client has half-closed it.
        case halfClosed
        /// Stream 3 ran and was closed by the server (a late frame is normal).
        case ended
        /// The server sent GoAway after stream 1; 3 was never seen.
        case draining
        var description: String { rawValue }

        func machine() -> ServerConnectionStateMachine {
            var machine = ServerConnectionStateMachine(maximumConcurrentStreams: 8)
            switch self {
            case .fresh: break
            case .open: _ = machine.receive(frame(.open, 3))
            case .halfClosed:
                _ = machine.receive(frame(.open, 3))
                _ = machine.receive(frame(.halfClose, 3))
            case .ended:
                _ = machine.receive(frame(.open, 3))
                _ = machine.send(.status(Status(code: .ok, message: ""), [:]), on: 3)
            case .draining:
                _ = machine.receive(frame(.open, 1))
                _ = machine.beginGracefulShutdown(reason: "stopping")
            }
            return machine
        }
    }

    static func describe(_ action: ServerConnectionStateMachine.ReceiveAction) -> String {
        switch action {
        case .openStream(let id, _, _, _): return "start \(id)"
        case .deliverMessage(let id, let bytes): return "deliver \(id) \(bytes.count)B"
        case .finishInbound(let id): return "finish \(id)"
        case .cancelStream(let id, _): return "cancel \(id)"
        case .write(let frame): return "write \(describe(frame))"
        case .writeAndCancel(let frame, let id): return "write \(describe(frame)) + cancel \(id)"
        case .peerGoingAway: return "peer going away"
        case .none: return "none"
        }
    }

    /// What the server does with each frame kind on stream 3, per state (13 = INTERNAL, a protocol
    /// violation; 14 = UNAVAILABLE).
    static let serverTable: [ServerState: [Kind: String]] = [
        .fresh: [
            .open: "start 3", .headers: "write Close(3, 13)", .message: "write Close(3, 13)", .halfClose: "write Close(3, 13)",
            .close: "write Close(3, 13)", .cancel: "none", .ping: "write PingAck(7)", .pingAck: "none",
            .goAway: "peer going away", .empty: "write Close(3, 13)",
        ],
        .open: [
            .open: "write Close(3, 13)", .headers: "write Close(3, 13) + cancel 3", .message: "deliver 3 3B", .halfClose: "finish 3",
            .close: "write Close(3, 13) + cancel 3", .cancel: "cancel 3", .ping: "write PingAck(7)", .pingAck: "none",
            .goAway: "peer going away", .empty: "write Close(3, 13)",
        ],
        .halfClosed: [
            .open: "write Close(3, 13)", .headers: "write Close(3, 13) + cancel 3", .message: "write Close(3, 13) + cancel 3",
            .halfClose: "none", .close: "write Close(3, 13) + cancel 3", .cancel: "cancel 3", .ping: "write PingAck(7)",
            .pingAck: "none", .goAway: "peer going away", .empty: "write Close(3, 13)",
        ],
        .ended: [
            .open: "write Close(3, 13)", .headers: "write Close(3, 13)", .message: "none", .halfClose: "none",
            .close: "write Close(3, 13)", .cancel: "none", .ping: "write PingAck(7)", .pingAck: "none",
            .goAway: "peer going away", .empty: "write Close(3, 13)",
        ],
        .draining: [
            .open: "write Close(3, 14)", .headers: "write Close(3, 13)", .message: "write Close(3, 13)", .halfClose: "write Close(3, 13)",
            .close: "write Close(3, 13)", .cancel: "none", .ping: "write PingAck(7)", .pingAck: "none",
            .goAway: "peer going away", .empty: "write Close(3, 13)",
        ],
    ]

    @Test("server: every frame kind in every stream state", arguments: ServerState.allCases)
    func serverReceives(_ state: ServerState) {
        for kind in Kind.allCases {
            var machine = state.machine()
            let action = Self.describe(machine.receive(Self.frame(kind, 3)))
            #expect(action == Self.serverTable[state]?[kind], "state \(state), frame \(kind)")
        }
    }

    @Test("server: the direct decoder's frames follow the same rules as SwiftProtobuf's", arguments: ServerState.allCases)
    func serverReceivesDirectFrames(_ state: ServerState) {
        let direct: [(Kind, InboundFrame)] = [
            (.message, .message(streamID: 3, bytes: [1, 2, 3])), (.halfClose, .halfClose(streamID: 3)),
            (.headers, .emptyHeaders(streamID: 3)), (.close, .okClose(streamID: 3)),
        ]
        for (kind, inbound) in direct {
            var machine = state.machine()
            #expect(Self.describe(machine.receive(inbound)) == Self.serverTable[state]?[kind], "state \(state), direct \(kind)")
        }
    }

    @Test("server: what each response part becomes, and nothing after the status")
    func serverSends() {
        var machine = ServerState.open.machine()
        // A message before any metadata is led by empty Headers.
        var result = machine.send(.message([9]), on: 3)
        #expect(result.frames.map(Self.describe) == ["Headers(3)", "Message(3)"])
        // Metadata after headers went out is dropped (headers are sent once).
        result = machine.send(.metadata([:]), on: 3)
        #expect(result.frames.isEmpty)
        result = machine.send(.message([9]), on: 3)
        #expect(result.frames.map(Self.describe) == ["Message(3)"])
        result = machine.send(.status(Status(code: .notFound, message: "no"), [:]), on: 3)
        #expect(result.frames.map(Self.describe) == ["Close(3, 5)"] && !result.closeConnection)
        #expect(machine.openStreamCount == 0)
        // The stream is gone: later parts produce nothing.
        #expect(machine.send(.message([9]), on: 3).frames.isEmpty)
        #expect(machine.send(.status(Status(code: .ok, message: ""), [:]), on: 3).frames.isEmpty)

        // Metadata first: Headers once.
        var second = ServerState.open.machine()
        #expect(second.send(.metadata([:]), on: 3).frames.map(Self.describe) == ["Headers(3)"])
        #expect(second.send(.message([1]), on: 3).frames.map(Self.describe) == ["Message(3)"])
    }

    @Test("server: a handler that ends without a status, a deadline, an oversized answer")
    func serverEndings() {
        var machine = ServerState.open.machine()
        #expect(machine.finish(3, error: nil).frames.map(Self.describe) == ["Close(3, 13)"])
        machine = ServerState.open.machine()
        #expect(machine.finish(3, error: RPCError(code: .aborted, message: "x")).frames.map(Self.describe) == ["Close(3, 10)"])
        machine = ServerState.open.machine()
        #expect(machine.expireDeadline(on: 3, timeoutMicros: 1_000).frames.map(Self.describe) == ["Close(3, 4)"])
        #expect(machine.expireDeadline(on: 3, timeoutMicros: 1_000).frames.isEmpty, "already ended")
        machine = ServerState.open.machine()
        #expect(machine.failOversizedResponse(on: 3, reason: "too big").frames.map(Self.describe) == ["Close(3, 8)"])
    }

    @Test("server: draining sends GoAway with the highest id, closes once the last call ends")
    func serverDrains() {
        var machine = ServerState.open.machine()
        let (goAway, closeNow) = machine.beginGracefulShutdown(reason: "stopping")
        #expect(goAway.goAway.lastStreamID == 3 && !closeNow)
        #expect(machine.isDraining)
        let last = machine.send(.status(Status(code: .ok, message: ""), [:]), on: 3)
        #expect(last.closeConnection)
        var idle = ServerConnectionStateMachine(maximumConcurrentStreams: 8)
        let idleClose = idle.beginGracefulShutdown(reason: "stopping").closeNow
        #expect(idleClose)
        // The connection drops: every open stream is cancelled.
        var open = ServerState.open.machine()
        _ = open.receive(Self.frame(.open, 5))
        let cancelled = open.connectionClosed().sorted()
        #expect(cancelled == [3, 5])
        #expect(open.openStreamCount == 0)
    }

    @Test("server: the stream limit and stream 0")
    func serverLimits() {
        var machine = ServerConnectionStateMachine(maximumConcurrentStreams: 2)
        #expect(Self.describe(machine.receive(Self.frame(.open, 1))) == "start 1")
        #expect(Self.describe(machine.receive(Self.frame(.open, 3))) == "start 3")
        #expect(Self.describe(machine.receive(Self.frame(.open, 5))) == "write Close(5, 8)")
        _ = machine.send(.status(Status(code: .ok, message: ""), [:]), on: 1)
        #expect(Self.describe(machine.receive(Self.frame(.open, 7))) == "start 7")
        #expect(Self.describe(machine.receive(Self.frame(.open, 0))) == "write Close(0, 13)")
    }

    // MARK: Client

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
}
