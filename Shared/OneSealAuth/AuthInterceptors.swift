import Foundation
import GRPCCore
import Logging

/// Verifies the bearer token of every call and enforces the method's `AccessPolicy` before the
/// handler runs. Unauthenticated or expired → UNAUTHENTICATED; wrong role or node →
/// PERMISSION_DENIED. The verified `Caller` is bound to `Caller.current` for the whole call.
public struct AuthServerInterceptor: ServerInterceptor {
    public let verifier: TokenVerifier
    public let policy: AccessPolicy
    public let localNode: String
    private let logger: Logger

    public init(verifier: TokenVerifier, policy: AccessPolicy, localNode: String, logger: Logger = Logger(label: "oneseal.auth")) {
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
        if let denial = self.policy.authorize(
            method: context.descriptor, caller: caller, tokenError: tokenError, localNode: self.localNode
        ) {
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
