import Foundation
import NIOCore
import NIOPosix
import OneSealProto
import OneSealWire

/// The baseline client: plain SwiftNIO keeping `outstanding` calls in flight on one connection.
/// Each call is the same three frames a `GRPCClient` sends (copied from a captured Open); a new
/// call starts on the event loop the moment a Close arrives. Writes are flushed once per read
/// burst, exactly as the transport coalesces its own writes.
final class RawPipelineClientHandler: ChannelInboundHandler {
    typealias InboundIn = InboundFrame
    typealias OutboundOut = ByteBuffer

    private let openTemplate: OutboundFrame
    private let payload: [UInt8]
    private let outstanding: Int
    private let window: MeasurementWindow
    private let done: EventLoopPromise<RunResult>
    private let encoder = FrameEncoder()
    private var nextStreamID: UInt32 = 1
    private var started: [UInt32: UInt64] = [:]
    private var result = RunResult()
    private var pending: ByteBuffer?

    init(openTemplate: Wire_Frame, payload: [UInt8], outstanding: Int, window: MeasurementWindow, done: EventLoopPromise<RunResult>) {
        self.openTemplate = OutboundFrame(openTemplate)
        self.payload = payload
        self.outstanding = outstanding
        self.window = window
        self.done = done
        self.result.seconds = window.seconds
    }

    func channelActive(context: ChannelHandlerContext) {
        for _ in 0..<outstanding { startCall(context: context) }
        flush(context: context)
        context.fireChannelActive()
    }

    private func startCall(context: ChannelHandlerContext) {
        let id = nextStreamID
        nextStreamID += 1
        // Encoded in place: `var buffer = pending` would copy the whole pending buffer per call.
        if pending == nil { pending = context.channel.allocator.buffer(capacity: 512) }
        // The same direct encoder the transport's client uses for its call frames.
        try? encoder.encode(openTemplate.withStreamID(id), into: &pending!)
        try? encoder.encode(OutboundFrame.message(streamID: id, bytes: payload), into: &pending!)
        try? encoder.encode(OutboundFrame.halfClose(streamID: id), into: &pending!)
        started[id] = monotonicNanos()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // The same decoder as the transport's: an OK Close with nothing else is read directly.
        let id: UInt32
        let ok: Bool
        switch unwrapInboundIn(data) {
        case .okClose(let streamID):
            (id, ok) = (streamID, true)
        case .frame(let frame):
            guard case .close(let close) = frame.kind else { return }
            (id, ok) = (frame.streamID, close.code == 0)
        case .message, .halfClose, .emptyHeaders:
            return
        }
        guard let start = started.removeValue(forKey: id) else { return }
        let now = monotonicNanos()
        if ok {
            result.record(started: start, finished: now, in: window)
        } else {
            result.errors += 1
        }
        if now < window.end {
            startCall(context: context)
        } else if started.isEmpty {
            done.succeed(result)
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush(context: context)
    }

    private func flush(context: ChannelHandlerContext) {
        if let buffer = pending {
            pending = nil
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.fail(ChannelError.ioOnClosedChannel)  // no-op if it already succeeded
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        done.fail(error)
        context.close(promise: nil)
    }
}

/// Runs one raw pipelined measurement on a fresh connection.
func runRawPipeline(
    port: Int, openTemplate: Wire_Frame, payload: [UInt8], outstanding: Int,
    warmup: Double, duration: Double, group: any EventLoopGroup
) async throws -> RunResult {
    let window = MeasurementWindow(warmupSeconds: warmup, durationSeconds: duration)
    let cpuBefore = processCPUSeconds()
    let loop = group.next()
    let done = loop.makePromise(of: RunResult.self)
    _ = try await ClientBootstrap(group: loop)
        .channelOption(.tcpOption(.tcp_nodelay), value: 1)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(CallFrameDecoder()))
                try channel.pipeline.syncOperations.addHandler(
                    RawPipelineClientHandler(openTemplate: openTemplate, payload: payload, outstanding: outstanding, window: window, done: done)
                )
            }
        }
        .connect(host: "127.0.0.1", port: port)
        .get()
    var result = try await done.futureResult.get()
    result.cpuSeconds = processCPUSeconds() - cpuBefore
    return result
}
