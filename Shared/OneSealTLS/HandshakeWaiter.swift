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

/// Sits after a server's TLS handler. When the handshake completes without the verification
/// callback having run — a resumed session (TLS 1.3 tickets), where BoringSSL skips verification
/// — it reads the peer's certificate from the session, verifies it against this moment's trust
/// bundle like a fresh one (expiry included), and records it; a refused one closes the
/// connection. Without this a resumed session would carry no client certificate (service tokens
/// refused) or one never re-checked.
public final class ResumedSessionCertificateCheck: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = NIOAny

    private let peer: PeerCertificateBox
    private let trust: TrustBundle
    private let onRefusal: @Sendable (CertificateRefusal) -> Void

    init(peer: PeerCertificateBox, trust: TrustBundle, onRefusal: @escaping @Sendable (CertificateRefusal) -> Void) {
        self.peer = peer
        self.trust = trust
        self.onRefusal = onRefusal
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event, self.peer.certificate == nil,
            let tls = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self),
            let presented = tls.peerCertificate
        {
            switch TLSMaterialSource.verify([presented], trust: self.trust, expectedNode: nil, expectedService: nil) {
            case .success(let certificate):
                self.peer.set(certificate)
            case .failure(let refusal):
                self.onRefusal(refusal)
                context.close(promise: nil)
                return
            }
        }
        context.fireUserInboundEventTriggered(event)
    }
}

@available(*, unavailable)
extension ResumedSessionCertificateCheck: Sendable {}
