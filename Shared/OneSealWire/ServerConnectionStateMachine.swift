import Foundation
import GRPCCore
import OneSealProto

/// The protocol rules of one server-side OneSeal TCP connection, as a plain value.
///
/// It decides what every inbound frame means and which frames a handler's response parts become,
/// with no I/O, so each rule of PROTOCOL.md is tested without sockets. The channel handler owns one
/// and performs the actions it returns.
public struct ServerConnectionStateMachine: Sendable {
    struct Stream: Sendable {
        var inboundClosed = false
        var headersSent = false
    }

    public enum ReceiveAction: Sendable, Equatable {
        /// A new call: start a handler for it.
        case openStream(streamID: UInt32, method: String, metadata: Metadata, timeoutMicros: UInt64)
        /// A request message for a running call.
        case deliverMessage(streamID: UInt32, bytes: [UInt8])
        /// The client sent its last request message.
        case finishInbound(streamID: UInt32)
        /// The client abandoned the call: cancel its handler.
        case cancelStream(streamID: UInt32, reason: String)
        /// Answer on the wire only (ping ack, a refused or invalid stream).
        case write(Wire_Frame)
        /// A protocol violation on a running call: write the frame (its final status) and cancel the handler.
        case writeAndCancel(Wire_Frame, streamID: UInt32)
        /// The client said it is going away; it will open nothing new.
        case peerGoingAway
        /// Nothing to do (e.g. a late frame for a call that has already ended).
        case none
    }

    private var streams: [UInt32: Stream] = [:]
    /// The highest stream id any `Open` on this connection carried (0 before the first). A GoAway
    /// reports it as `last_stream_id`: calls above it were never seen, so a client may retry them.
    public private(set) var highestStreamID: UInt32 = 0
    /// Set once we have sent GoAway: the highest stream we still serve.
    private var drainingAbove: UInt32?
    public let maximumConcurrentStreams: Int
    public let metadataLimits: MetadataLimits

    public init(configuration: WireConfiguration) {
        self.maximumConcurrentStreams = configuration.maximumConcurrentStreams
        self.metadataLimits = configuration.metadataLimits
    }

    /// The default configuration with another stream limit.
    public init(maximumConcurrentStreams: Int) {
        var configuration = WireConfiguration()
        configuration.maximumConcurrentStreams = maximumConcurrentStreams
        self.init(configuration: configuration)
    }

    public var openStreamCount: Int { self.streams.count }
    public var isDraining: Bool { self.drainingAbove != nil }

    public mutating func receive(_ frame: Wire_Frame) -> ReceiveAction {
        let id = frame.streamID
        switch frame.kind {
        case .ping(let ping):
            if ping.ack { return .none }
            return .write(.ping(payload: ping.payload, ack: true))

        case .goAway:
            return .peerGoingAway

        case .open(let open):
            guard id != 0 else {
                return .write(.close(0, code: .internalError, message: "protocol violation: Open on stream 0"))
            }
            guard id > self.highestStreamID else {
                return .write(
                    .close(id, code: .internalError, message: "protocol violation: stream id \(id) is not above the highest used id \(self.highestStreamID)")
                )
            }
            self.highestStreamID = id
            if let last = self.drainingAbove, id > last {
                return .write(.close(id, code: .unavailable, message: "server is shutting down; retry on a new connection"))
            }
            guard self.streams.count < self.maximumConcurrentStreams else {
                return .write(
                    .close(id, code: .resourceExhausted, message: "too many concurrent streams (maximum \(self.maximumConcurrentStreams)) on this connection")
                )
            }
            guard Self.isValidMethodPath(open.method) else {
                return .write(
                    .close(
                        id, code: .unimplemented,
                        message: "method path '\(WireText.escaped(open.method))' is not of the form /package.Service/Method"
                    )
                )
            }
            let metadata: Metadata
            do {
                metadata = try Metadata(validating: open.metadata, limits: self.metadataLimits)
            } catch {
                return .write(.close(id, code: error.statusCode, message: "invalid request metadata: \(error)"))
            }
            self.streams[id] = Stream()
            return .openStream(streamID: id, method: open.method, metadata: metadata, timeoutMicros: open.timeoutMicros)

        case .message(let message):
            return self.receiveMessage(id, bytes: [UInt8](message.data))

        case .halfClose:
            return self.receiveHalfClose(id)

        case .cancel(let cancel):
            guard self.streams.removeValue(forKey: id) != nil else { return .none }
            return .cancelStream(streamID: id, reason: cancel.reason.isEmpty ? "cancelled by the client" : WireText.escaped(cancel.reason))

        case .headers, .close:
            // Server-to-client kinds: a client must never send them.
            guard self.streams.removeValue(forKey: id) != nil else {
                return .write(.close(id, code: .internalError, message: "protocol violation: client sent \(frame.kindName)"))
            }
            return .writeAndCancel(
                .close(id, code: .internalError, message: "protocol violation: client sent \(frame.kindName) on stream \(id)"),
                streamID: id
            )

        case .none:
            return .write(.close(id, code: .internalError, message: "protocol violation: frame without a kind"))
        }
    }

    /// A frame from `CallFrameDecoder`: the direct forms go straight to their rule, the same one
    /// `receive(_: Wire_Frame)` applies.
    public mutating func receive(_ inbound: InboundFrame) -> ReceiveAction {
        switch inbound {
        case .message(let id, let bytes): return self.receiveMessage(id, bytes: bytes)
        case .halfClose(let id): return self.receiveHalfClose(id)
        case .frame(let frame): return self.receive(frame)
        case .emptyHeaders, .okClose: return self.receive(inbound.wireFrame)  // a client must not send these
        }
    }

    private mutating func receiveMessage(_ id: UInt32, bytes: [UInt8]) -> ReceiveAction {
        guard let stream = self.streams[id] else { return self.frameForUnknownStream(id, kindName: "Message") }
        if stream.inboundClosed {
            self.streams[id] = nil
            return .writeAndCancel(
                .close(id, code: .internalError, message: "protocol violation: Message after HalfClose on stream \(id)"),
                streamID: id
            )
        }
        return .deliverMessage(streamID: id, bytes: bytes)
    }

    private mutating func receiveHalfClose(_ id: UInt32) -> ReceiveAction {
        guard var stream = self.streams[id] else { return self.frameForUnknownStream(id, kindName: "HalfClose") }
        guard !stream.inboundClosed else { return .none }
        stream.inboundClosed = true
        self.streams[id] = stream
        return .finishInbound(streamID: id)
    }

    /// Frames for streams the server does not know: a late frame for a call that already ended
    /// (id at or below the highest seen) is dropped; a frame for a never-opened id is an error.
    private func frameForUnknownStream(_ id: UInt32, kindName: String) -> ReceiveAction {
        if id != 0 && id <= self.highestStreamID { return .none }
        return .write(
            .close(
                id,
                code: .internalError,
                message: "protocol violation: \(kindName) for unknown stream \(id) (no Open was received)"
            )
        )
    }

    /// Refuses stream `id` after `receive` accepted its Open (the handler found no room for it
    /// on the server): the stream is forgotten; the returned `Close` is what to send.
    public mutating func refuse(_ id: UInt32, code: Status.Code, message: String) -> Wire_Frame {
        self.streams[id] = nil
        return .close(id, code: code, message: message)
    }

    public struct SendResult: Sendable, Equatable {
        /// The Headers a call had not sent yet, before its first Message.
        public var leading: OutboundFrame?
        /// The part's own frame; nil when the stream has already ended.
        public var frame: OutboundFrame?
        /// The connection is draining and this was its last open stream: close it after writing.
        public var closeConnection: Bool

        init(leading: OutboundFrame? = nil, frame: OutboundFrame? = nil, closeConnection: Bool = false) {
            self.leading = leading
            self.frame = frame
            self.closeConnection = closeConnection
        }

        /// The frames to write, in order, as `Wire_Frame`s (tests and logs; the handler encodes
        /// `leading` and `frame` directly).
        public var frames: [Wire_Frame] {
            [self.leading, self.frame].compactMap { $0?.wireFrame }
        }
    }

    /// The frames a response part of stream `id` becomes. Parts for a stream that has already
    /// ended (cancelled by the client, or closed) produce nothing.
    public mutating func send(_ part: RPCResponsePart<[UInt8]>, on id: UInt32) -> SendResult {
        guard var stream = self.streams[id] else { return SendResult() }
        switch part {
        case .metadata(let metadata):
            guard !stream.headersSent else { return SendResult() }
            stream.headersSent = true
            self.streams[id] = stream
            return SendResult(frame: .headers(streamID: id, metadata: metadata))
        case .message(let bytes):
            var leading: OutboundFrame?
            if !stream.headersSent {
                stream.headersSent = true
                self.streams[id] = stream
                leading = .headers(streamID: id, metadata: [:])
            }
            return SendResult(leading: leading, frame: .message(streamID: id, bytes: bytes))
        case .status(let status, let trailers):
            self.streams[id] = nil
            return SendResult(
                frame: .close(streamID: id, code: status.code, message: status.message, trailers: trailers),
                closeConnection: self.isDraining && self.streams.isEmpty
            )
        }
    }

    /// The handler of stream `id` finished. If it never sent a status, the client gets one now
    /// rather than waiting forever.
    public mutating func finish(_ id: UInt32, error: (any Error)?) -> SendResult {
        guard self.streams[id] != nil else {
            return SendResult(closeConnection: self.isDraining && self.streams.isEmpty)
        }
        let status: Status
        if let error = error as? RPCError {
            status = Status(code: Status.Code(error.code), message: error.message)
        } else if let error {
            status = Status(code: .unknown, message: "handler failed: \(error)")
        } else {
            status = Status(code: .internalError, message: "handler finished without a status")
        }
        return self.send(.status(status, [:]), on: id)
    }

    /// The deadline of stream `id` (its `Open.timeout_micros`) passed before the handler finished:
    /// the call ends now with `DEADLINE_EXCEEDED`, and whatever the handler still sends for it is
    /// dropped (the stream is gone). Nothing to send if the call already ended.
    public mutating func expireDeadline(on id: UInt32, timeoutMicros: UInt64) -> SendResult {
        self.send(
            .status(
                Status(
                    code: .deadlineExceeded,
                    message: "deadline exceeded: the call's timeout of \(Self.describe(micros: timeoutMicros)) (Open.timeout_micros = \(timeoutMicros)) passed before it finished"
                ),
                [:]
            ),
            on: id
        )
    }

    /// A duration in µs for people: "250 ms", "1.5 s", "800 µs".
    static func describe(micros: UInt64) -> String {
        if micros < 1_000 { return "\(micros) µs" }
        if micros < 1_000_000 {
            return micros % 1_000 == 0 ? "\(micros / 1_000) ms" : "\(Double(micros) / 1_000) ms"
        }
        return micros % 1_000_000 == 0 ? "\(micros / 1_000_000) s" : "\(Double(micros) / 1_000_000) s"
    }

    /// A response message too large to send fails its own call, not the connection.
    public mutating func failOversizedResponse(on id: UInt32, reason: String) -> SendResult {
        self.send(.status(Status(code: .resourceExhausted, message: reason), [:]), on: id)
    }

    /// Starts a graceful drain: streams already open finish; anything newer is refused.
    /// Returns the GoAway to send and whether the connection can close at once.
    public mutating func beginGracefulShutdown(reason: String) -> (goAway: Wire_Frame, closeNow: Bool) {
        if self.drainingAbove == nil { self.drainingAbove = self.highestStreamID }
        return (.goAway(lastStreamID: self.drainingAbove!, code: .ok, reason: reason), self.streams.isEmpty)
    }

    /// The TCP connection is gone: every open stream must be cancelled.
    public mutating func connectionClosed() -> [UInt32] {
        let ids = Array(self.streams.keys)
        self.streams.removeAll()
        return ids
    }

    /// `/service/method` (`MethodPath.split`), with no ASCII control byte, space or DEL: the path
    /// becomes the call's descriptor, which interceptors log and count, so it must not carry
    /// bytes that forge log lines (#15).
    static func isValidMethodPath(_ path: String) -> Bool {
        path.utf8.allSatisfy { $0 > 0x20 && $0 != 0x7F } && MethodPath.split(path) != nil
    }
}
