import NIOCore
import NIOSSL
import NIOTLS

/// Completes `promise` when the TLS handshake of its channel completes, or fails it with the
/// first error (or the close) before that; then steps aside. The client transport waits on it, so
/// a refused server certificate is a failed dial with its reason, not a call that dies later.
public final class TLSHandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = NIOAny

    private let promise: EventLoopPromise<Void>
    private var done = false

    public init(promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event, !self.done {
            self.done = true
            self.promise.succeed(())
        }
        context.fireUserInboundEventTriggered(event)
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !self.done {
            self.done = true
            self.promise.fail(error)
        }
        context.fireErrorCaught(error)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        if !self.done {
            self.done = true
            self.promise.fail(ChannelError.eof)
        }
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        if !self.done {
            self.done = true
            self.promise.fail(ChannelError.ioOnClosedChannel)
        }
    }
}

@available(*, unavailable)
extension TLSHandshakeWaiter: Sendable {}
