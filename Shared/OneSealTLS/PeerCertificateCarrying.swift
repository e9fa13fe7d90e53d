import GRPCCore
import X509

/// A transport's per-call context that knows the client certificate the peer proved it holds the
/// key of (verified against the node's trust bundle during the TLS handshake), or nil when the
/// peer presented none (or the connection is not TLS).
///
/// Why a protocol: authorization (`AuthServerInterceptor`) reads the certificate from
/// `ServerContext.transportSpecific` whatever transport carried the call — OneSeal TCP's
/// `OneSealServerTransport.Context`, and gRPC over HTTP/2's context, which already has this exact
/// property.
public protocol PeerCertificateCarrying: ServerContext.TransportSpecific {
    var peerCertificate: Certificate? { get }
}
