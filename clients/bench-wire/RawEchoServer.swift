import Foundation
import NIOCore
import NIOPosix
import OneSealProto
import OneSealWire
import Synchronization

/// The baseline server: plain SwiftNIO on the same `FrameDecoder`/`FrameEncoder`, answering each
/// Open + Message + HalfClose with Headers + Message + Close built from the frames the real
/// transport sent (so the bytes on the wire have the same sizes), on the event loop, with one
/// flush per read burst. No tasks, no GRPCCore: the ceiling the transport is compared with.
final class RawEchoServer: Sendable {
    let channel: any Channel
    private let capture: CaptureBox

    var port: Int { channel.localAddress!.port! }
    /// The first Open frame this server received (used to copy what a `GRPCClient` sends).
    var firstOpen: Wire_Frame? { capture.captured.withLock { $0 } }

    private init(channel: any Channel, capture: CaptureBox) {
        self.channel = channel
        self.capture = capture
    }

    static func start(headers: Wire_Frame, close: Wire_Frame, group: any EventLoopGroup) async throws -> RawEchoServer {
        let box = CaptureBox()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(
                        RawEchoServerHandler(headers: headers, close: close, capture: box)
                    )
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return RawEchoServer(channel: channel, capture: box)
    }

    func stop() async {
        try? await channel.close()
    }
}

/// Shares the capture slot between the server object and its connection handlers.
final class CaptureBox: Sendable {
    let captured = Mutex<Wire_Frame?>(nil)
}

final class RawEchoServerHandler: ChannelInboundHandler {
    typealias InboundIn = Wire_Frame
    typealias OutboundOut = ByteBuffer

    private let headers: Wire_Frame
    private let close: Wire_Frame
    private let capture: CaptureBox
    private let encoder = FrameEncoder()
    private var requests: [UInt32: Data] = [:]
    private var pending: ByteBuffer?

    init(headers: Wire_Frame, close: Wire_Frame, capture: CaptureBox) {
        self.headers = headers
        self.close = close
        self.capture = capture
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.kind {
        case .open:
            requests[frame.streamID] = Data()
            capture.captured.withLock { if $0 == nil { $0 = frame } }
        case .message(let message):
            requests[frame.streamID] = message.data
        case .halfClose:
            guard let data = requests.removeValue(forKey: frame.streamID) else { return }
            // Encoded in place: `var buffer = pending` would copy the whole pending buffer per call.
            if pending == nil { pending = context.channel.allocator.buffer(capacity: 256) }
            var headers = self.headers
            headers.streamID = frame.streamID
            var message = Wire_Frame()
            message.streamID = frame.streamID
            message.message = Wire_Message()
            message.message.data = data
            var close = self.close
            close.streamID = frame.streamID
            try? encoder.encode(headers, into: &pending!)
            try? encoder.encode(message, into: &pending!)
            try? encoder.encode(close, into: &pending!)
        case .ping(let ping) where !ping.ack:
            var ack = frame
            ack.ping.ack = true
            if pending == nil { pending = context.channel.allocator.buffer(capacity: 64) }
            try? encoder.encode(ack, into: &pending!)
        default:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let buffer = pending {
            pending = nil
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
