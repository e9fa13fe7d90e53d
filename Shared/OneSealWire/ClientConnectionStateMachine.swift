import GRPCCore
import NIOCore
import OneSealProto

/// The protocol rules of one client-side OneSeal TCP connection, as a plain value.
///
/// It allocates stream ids, turns the server's frames into response parts, and knows what a GoAway
/// or a lost connection means for each open call. It also holds the connection's own life: whether
/// it still takes calls, whether it closes once idle (GoAway, transport shutdown), whether the pool
/// was told it is unusable, and the keepalive ping in flight. No I/O: the channel handler performs
/// its actions, so every rule here is tested without a socket (ClientConnectionStateMachineTests).
public struct ClientConnectionStateMachine: Sendable {
    struct Stream: Sendable {
        var headersReceived = false
        var halfClosed = false
    }

    public enum ReceiveAction: Sendable, Equatable {
        /// A response part for an open call; a `.status` ends it.
        case deliver(streamID: UInt32, RPCResponsePart<[UInt8]>)
        /// Answer on the wire (a ping ack).
        case write(Wire_Frame)
        /// The ack of our keepalive ping arrived.
        case pingAcknowledged(payload: UInt64)
        /// The server is going away: fail the listed calls (the server never saw them) with
        /// UNAVAILABLE so they can be retried; open no new streams here.
        case goAway(failedStreams: [UInt32], code: Status.Code, reason: String)
        /// The server sent a frame this call cannot accept (invalid response metadata): end the
        /// call with `status` and send `cancel` so the server stops working on it. The
        /// connection and its other calls go on.
        case failStream(streamID: UInt32, status: Status, cancel: Wire_Frame)
        /// The server broke the protocol: close the connection with this reason.
        case closeConnection(reason: String)
        case none
    }

    /// What a keepalive tick asks for.
    public enum KeepaliveAction: Sendable, Equatable {
        /// Send this ping and wait for its ack.
        case write(Wire_Frame)
        /// The last ping went unanswered for longer than the timeout: close the connection.
        case closeConnection
        /// A ping is in flight and still in time, or the connection is already closed.
        case none
    }

    private struct OutstandingPing: Sendable {
        var payload: UInt64
        var sentAt: NIODeadline
    }

    private var streams: [UInt32: Stream] = [:]
    private var nextStreamID: UInt32 = 1
    private var goAwayReason: String?
    /// The transport is shutting down: no new calls, close once the open ones are done.
    private var closeWhenIdle = false
    /// The channel is gone.
    private var closed = false
    /// The pool was told this connection takes no new calls (it is told once).
    private var unusableReported = false
    private var outstandingPing: OutstandingPing?
    private var nextPingPayload: UInt64 = 1
    public let metadataLimits: MetadataLimits

    public init(metadataLimits: MetadataLimits = WireConfiguration().metadataLimits) {
        self.metadataLimits = metadataLimits
    }

    public var openStreamCount: Int { self.streams.count }
    public var isGoingAway: Bool { self.goAwayReason != nil }
    public var isClosed: Bool { self.closed }
    /// Whether a new call may be registered here: not closed, not going away, not draining.
    public var acceptsNewCalls: Bool { !self.closed && self.goAwayReason == nil && !self.closeWhenIdle }
    /// The payload of the keepalive ping waiting for its ack, if any.
    public var outstandingPingPayload: UInt64? { self.outstandingPing?.payload }

    /// Reserves the next stream id, or says why no new call may start on this connection.
    public mutating func openStream() -> Result<UInt32, RPCError> {
        if self.closed {
            return .failure(RPCError(code: .unavailable, message: "connection is closed; retry"))
        }
        if let reason = self.goAwayReason {
            return .failure(RPCError(code: .unavailable, message: "connection is going away (\(reason)); retry"))
        }
        if self.closeWhenIdle {
            return .failure(RPCError(code: .unavailable, message: "connection is closing; retry"))
        }
        guard self.nextStreamID < UInt32.max else {
            return .failure(RPCError(code: .unavailable, message: "stream ids exhausted on this connection; retry"))
        }
        let id = self.nextStreamID
        self.nextStreamID += 1
        self.streams[id] = Stream()
        return .success(id)
    }

    /// Ends our request messages: true if the call is still open and a HalfClose must be sent.
    public mutating func halfClose(_ id: UInt32) -> Bool {
        guard var stream = self.streams[id], !stream.halfClosed else { return false }
        stream.halfClosed = true
        self.streams[id] = stream
        return true
    }

    /// Whether a request message may still be sent on stream `id`.
    public func canSend(on id: UInt32) -> Bool {
        guard let stream = self.streams[id] else { return false }
        return !stream.halfClosed
    }

    /// Abandons a call: the Cancel frame to send, if the server has not already closed it.
    public mutating func cancel(_ id: UInt32, reason: String) -> Wire_Frame? {
        guard self.streams.removeValue(forKey: id) != nil else { return nil }
        return .cancel(id, reason: reason)
    }

    public mutating func receive(_ frame: Wire_Frame) -> ReceiveAction {
        let id = frame.streamID
        switch frame.kind {
        case .ping(let ping):
            guard ping.ack else { return .write(.ping(payload: ping.payload, ack: true)) }
            // Only the ack of the ping in flight answers it; a stray ack changes nothing.
            if self.outstandingPing?.payload == ping.payload { self.outstandingPing = nil }
            return .pingAcknowledged(payload: ping.payload)

        case .goAway(let goAway):
            let reason = goAway.reason.isEmpty ? "server sent GoAway" : WireText.escaped(goAway.reason)
            self.goAwayReason = reason
            let failed = self.streams.keys.filter { $0 > goAway.lastStreamID }.sorted()
            for stream in failed { self.streams[stream] = nil }
            return .goAway(failedStreams: failed, code: Status.Code(wire: goAway.code), reason: reason)

        case .headers(let headers):
            return self.receiveHeaders(id) { [limits = self.metadataLimits] () throws(MetadataValidationError) -> Metadata in
                try Metadata(validating: headers.metadata, limits: limits)
            }

        case .message(let message):
            return self.receiveMessage(id, bytes: [UInt8](message.data))

        case .close(let close):
            let limits = self.metadataLimits
            return self.receiveClose(id) {
                do {
                    let trailers = try Metadata(validating: close.trailers, limits: limits)
                    return (Status(code: Status.Code(wire: close.code), message: close.message), trailers)
                } catch {
                    // The server's own status cannot be trusted either: the call reports what
                    // went wrong (PROTOCOL.md §13, client side).
                    return (Status(code: .internalError, message: "server sent invalid trailers: \(error)"), [:])
                }
            }

        case .open, .halfClose, .cancel:
            return .closeConnection(reason: "protocol violation: server sent \(frame.kindName) on stream \(id)")

        case .none:
            return .closeConnection(reason: "protocol violation: frame without a kind")
        }
    }

    /// A frame from `CallFrameDecoder`: the direct forms go straight to their rule, the same one
    /// `receive(_: Wire_Frame)` applies.
    public mutating func receive(_ inbound: InboundFrame) -> ReceiveAction {
        switch inbound {
        case .message(let id, let bytes): return self.receiveMessage(id, bytes: bytes)
        case .emptyHeaders(let id): return self.receiveHeaders(id) { [:] }
        case .okClose(let id): return self.receiveClose(id) { (Status(code: .ok, message: ""), [:]) }
        case .frame(let frame): return self.receive(frame)
        case .halfClose: return self.receive(inbound.wireFrame)  // a server must not send this
        }
    }

    private mutating func receiveHeaders(_ id: UInt32, metadata: () throws(MetadataValidationError) -> Metadata) -> ReceiveAction {
        guard var stream = self.streams[id] else { return .none }
        guard !stream.headersReceived else {
            return .closeConnection(reason: "protocol violation: second Headers on stream \(id)")
        }
        do {
            let metadata = try metadata()
            stream.headersReceived = true
            self.streams[id] = stream
            return .deliver(streamID: id, .metadata(metadata))
        } catch {
            self.streams[id] = nil
            return .failStream(
                streamID: id,
                status: Status(code: .internalError, message: "server sent invalid response metadata: \(error)"),
                cancel: .cancel(id, reason: "invalid response metadata")
            )
        }
    }

    private mutating func receiveMessage(_ id: UInt32, bytes: [UInt8]) -> ReceiveAction {
        guard let stream = self.streams[id] else { return .none }
        guard stream.headersReceived else {
            return .closeConnection(reason: "protocol violation: Message before Headers on stream \(id)")
        }
        return .deliver(streamID: id, .message(bytes))
    }

    private mutating func receiveClose(_ id: UInt32, status: () -> (Status, Metadata)) -> ReceiveAction {
        guard self.streams.removeValue(forKey: id) != nil else { return .none }
        let (status, trailers) = status()
        return .deliver(streamID: id, .status(status, trailers))
    }

    /// The connection is gone: these calls must end with UNAVAILABLE. Nothing opens here again and
    /// no ping is waited for.
    public mutating func connectionClosed() -> [UInt32] {
        self.closed = true
        self.outstandingPing = nil
        let ids = Array(self.streams.keys)
        self.streams.removeAll()
        return ids
    }

    // MARK: The connection's life

    /// No new call may start here (GoAway, shutdown, lost connection): the reason to tell the pool,
    /// the first time only; nil when it was already told.
    public mutating func becomeUnusable(reason: String) -> String? {
        guard !self.unusableReported else { return nil }
        self.unusableReported = true
        return reason
    }

    /// The transport is shutting down: take no new calls, close once the open ones are done.
    /// The reason to tell the pool (first time only).
    public mutating func beginGracefulClose() -> String? {
        self.closeWhenIdle = true
        return self.becomeUnusable(reason: "client transport is shutting down")
    }

    /// True when the connection should be closed now: nothing is open and it is draining (GoAway
    /// received, or the transport shutting down). Asked after every change that may end a call.
    public var shouldCloseIdle: Bool {
        self.streams.isEmpty && (self.closeWhenIdle || self.goAwayReason != nil) && !self.closed
    }

    /// A keepalive tick at `now`: a new ping, or the verdict on the one in flight.
    public mutating func keepaliveTick(now: NIODeadline, timeout: TimeAmount) -> KeepaliveAction {
        guard !self.closed else { return .none }
        if let outstanding = self.outstandingPing {
            return now - outstanding.sentAt > timeout ? .closeConnection : .none
        }
        let payload = self.nextPingPayload
        self.nextPingPayload += 1
        self.outstandingPing = OutstandingPing(payload: payload, sentAt: now)
        return .write(.ping(payload: payload, ack: false))
    }
}
