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
    typealias InboundIn = Wire_Frame
    typealias OutboundOut = ByteBuffer

    private let openTemplate: Wire_Frame
    private let payload: Data
    private let outstanding: Int
    private let window: MeasurementWindow
    private let done: EventLoopPromise<RunResult>
    private let encoder = FrameEncoder()
    private var nextStreamID: UInt32 = 1
    private var started: [UInt32: UInt64] = [:]
    private var result = RunResult()
    private var pending: ByteBuffer?

    init(openTemplate: Wire_Frame, payload: [UInt8], outstanding: Int, window: MeasurementWindow, done: EventLoopPromise<RunResult>) {
        self.openTemplate = openTemplate
        self.payload = Data(payload)
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
        var open = openTemplate
        open.streamID = id
        var message = Wire_Frame()
        message.streamID = id
        message.message = Wire_Message()
        message.message.data = payload
        var halfClose = Wire_Frame()
        halfClose.streamID = id
        halfClose.halfClose = Wire_HalfClose()
        try? encoder.encode(open, into: &pending!)
        try? encoder.encode(message, into: &pending!)
        try? encoder.encode(halfClose, into: &pending!)
        started[id] = monotonicNanos()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard case .close(let close) = frame.kind, let start = started.removeValue(forKey: frame.streamID) else { return }
        let now = monotonicNanos()
        if close.code == 0 {
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
        .channelOption(.socketOption(.tcp_nodelay), value: 1)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
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
