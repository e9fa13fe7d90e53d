import Foundation
import GRPCCore
import Logging
import OneSealTLS
import X509

/// Verifies the bearer token of every call and enforces the method's `AccessPolicy` before the
/// handler runs. Unauthenticated or expired → UNAUTHENTICATED; wrong role or node →
/// PERMISSION_DENIED. The verified `Caller` is bound to `Caller.current` for the whole call.
public struct AuthServerInterceptor: ServerInterceptor {
    public let verifier: TokenVerifier
    public let policy: AccessPolicy
    public let localNode: String
    public let serviceCertificates: ServiceCertificateRule
    private let logger: Logger

    /// Whether a service token (role `node`) must come with a client certificate naming the
    /// token's service and node.
    public enum ServiceCertificateRule: Sendable {
        /// Every service deployment (TLS on): a stolen service token is useless without the key
        /// of the service's certificate (issue #17 item 2).
        case required
        /// Only `--insecure-loopback` development and in-process tests on plain transports,
        /// where no connection has a certificate to present.
        case notRequired
    }

    public init(
        verifier: TokenVerifier, policy: AccessPolicy, localNode: String, serviceCertificates: ServiceCertificateRule = .required,
        logger: Logger = Logger(label: "oneseal.auth")
    ) {
        self.serviceCertificates = serviceCertificates
        self.verifier = verifier
        self.policy = policy
        self.localNode = localNode
        self.logger = logger
    }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        var caller: Caller?
        var tokenError: TokenError?
        do {
            caller = try self.verifier.verify(try Self.bearerToken(in: request.metadata))
        } catch {
            tokenError = error
        }
        var denial = self.policy.authorize(method: context.descriptor, caller: caller, tokenError: tokenError, localNode: self.localNode)
        if denial == nil, let caller, caller.role == .peerNode, case .required = self.serviceCertificates {
            denial = Self.certificateDenial(caller: caller, context: context)
        }
        if let denial {
            self.logger.notice(
                "call refused",
                metadata: [
                    "method": "\(context.descriptor.fullyQualifiedMethod)", "code": "\(denial.code)",
                    "reason": "\(denial.message)", "peer": "\(context.remotePeer)",
                    "subject": "\(caller?.logSubject ?? "-")",
                ]
            )
            return StreamingServerResponse(error: denial)
        }
        let verified = caller
        let idempotencyKey = request.metadata[stringValues: "idempotency-key"].first(where: { _ in true })
        var response = try await Caller.$current.withValue(verified) {
            try await CallMetadata.$idempotencyKey.withValue(idempotencyKey) { try await next(request, context) }
        }
        if case .success(var contents) = response.accepted {
            let producer = contents.producer
            contents.producer = { writer in
                try await Caller.$current.withValue(verified) {
                    try await CallMetadata.$idempotencyKey.withValue(idempotencyKey) { try await producer(writer) }
                }
            }
            response.accepted = .success(contents)
        }
        return response
    }

    /// A service token is honoured only from a connection whose client certificate (verified to
    /// the node's trust bundle in the handshake) names the same node and the service the token's
    /// subject names (`intake@371300`): the token alone, replayed from a capture or a log, is not
    /// enough (UNAUTHENTICATED).
    static func certificateDenial(caller: Caller, context: ServerContext) -> RPCError? {
        guard let certificate = (context.transportSpecific as? any PeerCertificateCarrying)?.peerCertificate else {
            return RPCError(code: .unauthenticated, message: "a service token needs the service's client certificate; none was presented")
        }
        guard let identity = ServiceIdentity(certificate: certificate) else {
            return RPCError(code: .unauthenticated, message: "the client certificate names no oneseal://<node>/<service> identity")
        }
        guard identity.node == caller.node else {
            return RPCError(
                code: .unauthenticated,
                message: "the client certificate names node \(identity.node), the service token node \(caller.node)"
            )
        }
        let service = caller.subject.split(separator: "@", maxSplits: 1).first.map(String.init) ?? ""
        guard identity.service == service else {
            return RPCError(
                code: .unauthenticated,
                message: "the client certificate names service \(identity.service), the service token \(service.isEmpty ? "none" : service)"
            )
        }
        return nil
    }

    static func bearerToken(in metadata: Metadata) throws(TokenError) -> String {
        guard let value = metadata[stringValues: "authorization"].first(where: { _ in true }) else { throw .missing }
        let prefix = "bearer "
        guard value.count > prefix.count, value.lowercased().hasPrefix(prefix) else { throw .notBearer }
        return String(value.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
    }
}

/// Attaches a bearer token (and the caller's node) to every outgoing call.
public struct BearerTokenClientInterceptor: ClientInterceptor {
    private let token: @Sendable () -> String
    private let node: String?

    /// `token` is asked on every call, so a long-running service can refresh its token.
    public init(node: String? = nil, token: @escaping @Sendable () -> String) {
        self.token = token
        self.node = node
    }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingClientRequest<Input>,
        context: ClientContext,
        next: (StreamingClientRequest<Input>, ClientContext) async throws -> StreamingClientResponse<Output>
    ) async throws -> StreamingClientResponse<Output> {
        var request = request
        request.metadata.replaceOrAddString("Bearer \(self.token())", forKey: "authorization")
        if let node = self.node { request.metadata.replaceOrAddString(node, forKey: "x-oneseal-node") }
        return try await next(request, context)
    }
}
