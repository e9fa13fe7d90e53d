import NIOCore

/// Where a byte stream stands relative to its frame boundaries, without decoding anything: the
/// 4-byte length prefix is read, the body skipped.
///
/// Why: a peer can hold a connection and a decoder buffer of up to `maximumFrameSize` by starting
/// a frame (a huge Open, say) and then trickling it, or never finishing it. The decoder cannot
/// tell anyone that it holds half a frame; this can, so `FrameProgressHandler` can put a deadline
/// on every frame once its first byte has arrived. Pure, so it is tested (and fuzzed) byte by byte.
struct FrameBoundaryTracker: Sendable {
    /// Bytes of the current length prefix read so far (0...3), and its value so far.
    private var prefixBytes = 0
    private var prefix: UInt32 = 0
    /// Body bytes of the current frame still to come (valid once the prefix is complete).
    private var bodyRemaining = 0
    /// Frames whose last byte has been seen.
    private(set) var completedFrames = 0

    /// Inside a frame: some of its bytes have arrived, not all.
    var isInsideFrame: Bool { self.prefixBytes > 0 || self.bodyRemaining > 0 }

    mutating func consume(_ bytes: UnsafeRawBufferPointer) {
        var index = 0
        while index < bytes.count {
            if self.bodyRemaining > 0 {
                let take = min(self.bodyRemaining, bytes.count - index)
                self.bodyRemaining -= take
                index += take
                if self.bodyRemaining == 0 { self.completedFrames += 1 }
                continue
            }
            self.prefix = self.prefix << 8 | UInt32(bytes[index])
            self.prefixBytes += 1
            index += 1
            if self.prefixBytes == 4 {
                self.bodyRemaining = Int(self.prefix)
                self.prefix = 0
                self.prefixBytes = 0
                if self.bodyRemaining == 0 { self.completedFrames += 1 }
            }
        }
    }
}

/// Raised (through `errorCaught`) when a frame that has begun is not complete in time.
struct FrameTimeoutError: Error, CustomStringConvertible {
    var timeout: TimeAmount
    var description: String {
        "a frame was begun but not completed within \(self.timeout.nanoseconds / 1_000_000) ms"
    }
}

/// Sits before the frame decoder of a server connection and gives every frame `timeout` from its
/// first byte to its last; when one takes longer, reports `FrameTimeoutError` down the pipeline
/// (the connection handler answers `GoAway{DEADLINE_EXCEEDED}` and closes). Bytes pass unchanged.
final class FrameProgressHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let timeout: TimeAmount
    private var tracker = FrameBoundaryTracker()
    private var timer: Scheduled<Void>?
    /// `tracker.completedFrames` when the timer was armed: the frame it is timing.
    private var timedFrame = 0

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = self.unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { self.tracker.consume($0) }
        if !self.tracker.isInsideFrame {
            self.timer?.cancel()
            self.timer = nil
        } else if self.timer == nil || self.timedFrame != self.tracker.completedFrames {
            // A new frame has begun (the one timed before, if any, completed).
            self.timer?.cancel()
            self.timedFrame = self.tracker.completedFrames
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            let timeout = self.timeout
            self.timer = context.eventLoop.scheduleTask(in: timeout) {
                bound.value.fireErrorCaught(FrameTimeoutError(timeout: timeout))
            }
        }
        context.fireChannelRead(data)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
    }
}
