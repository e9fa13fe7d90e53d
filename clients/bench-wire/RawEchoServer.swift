import Foundation
import NIOCore
import NIOPosix
import OneSealProto
import OneSealWire
import Synchronization

/// The baseline server: plain SwiftNIO on the same `CallFrameDecoder`/`FrameEncoder` (with the
/// direct `InboundFrame`/`OutboundFrame` paths the transport uses), answering each
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
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(CallFrameDecoder()))
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
    typealias InboundIn = InboundFrame
    typealias OutboundOut = ByteBuffer

    /// The transport's own answer frames, written through the same direct encoder it uses.
    private let headers: OutboundFrame
    private let close: OutboundFrame
    private let capture: CaptureBox
    private let encoder = FrameEncoder()
    private var requests: [UInt32: [UInt8]] = [:]
    private var pending: ByteBuffer?

    init(headers: Wire_Frame, close: Wire_Frame, capture: CaptureBox) {
        self.headers = OutboundFrame(headers)
        self.close = OutboundFrame(close)
        self.capture = capture
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .message(let id, let bytes):
            requests[id] = bytes
        case .halfClose(let id):
            guard let data = requests.removeValue(forKey: id) else { return }
            // Encoded in place: `var buffer = pending` would copy the whole pending buffer per call.
            if pending == nil { pending = context.channel.allocator.buffer(capacity: 256) }
            try? encoder.encode(headers.withStreamID(id), into: &pending!)
            try? encoder.encode(OutboundFrame.message(streamID: id, bytes: data), into: &pending!)
            try? encoder.encode(close.withStreamID(id), into: &pending!)
        case .frame(let frame):
            switch frame.kind {
            case .open:
                requests[frame.streamID] = []
                capture.captured.withLock { if $0 == nil { $0 = frame } }
            case .ping(let ping) where !ping.ack:
                var ack = frame
                ack.ping.ack = true
                if pending == nil { pending = context.channel.allocator.buffer(capacity: 64) }
                try? encoder.encode(ack, into: &pending!)
            default:
                break
            }
        case .emptyHeaders, .okClose:
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
