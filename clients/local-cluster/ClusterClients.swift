import Foundation
import GRPCCore
import OneSealAuth
import OneSealProto
import OneSealWire
import Synchronization

/// One long-lived OneSeal TCP connection to every service of every node, and staff tokens minted
/// with each node's key — what a hall's front-end would hold.
public final class ClusterClients: Sendable {
    public typealias Client = GRPCClient<OneSealClientTransport>
    private let clients: [ServiceAddress: Client]
    private let keys: [String: TokenSigningKey]
    private let tokens = Mutex<[String: (token: String, renewAt: Date)]>([:])

    init(clients: [ServiceAddress: Client], keys: [String: TokenSigningKey]) {
        self.clients = clients
        self.keys = keys
    }

    public func intake(_ node: String) -> Intake_IntakeService.Client<OneSealClientTransport> { .init(wrapping: clients[ServiceAddress(.intake, node)]!) }
    public func approval(_ node: String) -> Approval_ApprovalService.Client<OneSealClientTransport> { .init(wrapping: clients[ServiceAddress(.approval, node)]!) }
    public func certificate(_ node: String) -> Certificate_CertificateService.Client<OneSealClientTransport> { .init(wrapping: clients[ServiceAddress(.certificate, node)]!) }
    public func supervision(_ node: String) -> Supervision_SupervisionService.Client<OneSealClientTransport> { .init(wrapping: clients[ServiceAddress(.supervision, node)]!) }
    public func evaluation(_ node: String) -> Evaluation_EvaluationService.Client<OneSealClientTransport> { .init(wrapping: clients[ServiceAddress(.evaluation, node)]!) }

    /// `authorization: Bearer …` for a member of staff (or an applicant, a department …) of `node`.
    /// Tokens are minted once per identity and reused, as a front-end would keep a session, with
    /// the role's default lifetime (verifiers refuse longer ones: `TokenLimits`) and minted anew
    /// once half of it has passed, so a long run never presents an expired token.
    public func metadata(_ role: Role, _ subject: String, node: String, department: String? = nil) throws -> Metadata {
        let cacheKey = "\(role.rawValue)|\(subject)|\(node)|\(department ?? "")"
        let token: String
        let now = Date()
        if let cached = tokens.withLock({ $0[cacheKey] }), cached.renewAt > now {
            token = cached.token
        } else {
            guard let key = keys[node] else { throw TokenError.invalidNode(node) }
            token = try key.mint(subject: subject, role: role, node: node, department: department, now: now)
            let renewAt = now.addingTimeInterval(TimeInterval(TokenLimits.defaultLifetime(for: role) / 2))
            tokens.withLock { $0[cacheKey] = (token, renewAt) }
        }
        var metadata = Metadata()
        metadata.addString("Bearer \(token)", forKey: "authorization")
        return metadata
    }
}

/// Connects to every service of `cluster`, runs `body`, then closes the connections.
public func withClusterClients<Result: Sendable>(
    _ cluster: LocalCluster, _ body: @Sendable (ClusterClients) async throws -> Result
) async throws -> Result {
    var clients: [ServiceAddress: ClusterClients.Client] = [:]
    for address in cluster.allAddresses {
        clients[address] = GRPCClient(transport: OneSealClientTransport(host: "127.0.0.1", port: cluster.ports[address]!, tls: cluster.clientTLS(address)))
    }
    let all = clients
    return try await withThrowingTaskGroup(of: Void.self) { group in
        for client in all.values {
            group.addTask { try await client.runConnections() }
        }
        defer { for client in all.values { client.beginGracefulShutdown() } }
        return try await body(ClusterClients(clients: all, keys: cluster.signingKeys))
    }
}
