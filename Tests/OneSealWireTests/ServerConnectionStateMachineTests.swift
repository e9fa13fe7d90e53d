import Foundation
import GRPCCore
import OneSealProto
@testable import OneSealWire
import Testing

/// The server connection state machine action by action (issue #16; the style of postgres-nio's
/// `ConnectionStateMachineTests`): every frame kind in every state a stream can be in, with the
/// action the machine must return, written as a table so a broken rule shows as one wrong row.
/// No sockets: these are the rules of PROTOCOL.md §4–§8 and §13 as plain values.
@Suite("Server connection state machine, every frame kind in every state")
struct ServerConnectionStateMachineTests {
    typealias Kind = WireFrames.Kind
    static func frame(_ kind: Kind, _ id: UInt32) -> Wire_Frame { WireFrames.frame(kind, id) }
    static func describe(_ frame: Wire_Frame) -> String { WireFrames.describe(frame) }

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
}
