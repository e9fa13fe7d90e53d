import GRPCCore

/// Which nodes' tokens a method accepts, relative to the node serving it.
public enum NodeScope: Sendable, Hashable {
    /// Only tokens of this node (a county token cannot decide a city item).
    case sameNode
    /// This node's tokens, and those of its parent divisions (the city reads its counties' figures).
    case sameNodeOrAncestor
    /// Any node this node trusts (its key is in the trust list): cross-level forwarding and events.
    case anyTrustedNode
}

/// The rule for one RPC method: who may call it, from where. `public` methods need no token
/// (health, licence verification, progress look-up by receipt number).
public struct MethodRule: Sendable, Hashable {
    public var roles: Set<Role>
    public var scope: NodeScope
    public var isPublic: Bool

    public init(roles: Set<Role>, scope: NodeScope = .sameNode) {
        self.roles = roles
        self.scope = scope
        self.isPublic = false
    }

    public static let `public` = MethodRule(publicRule: ())

    private init(publicRule: Void) {
        self.roles = []
        self.scope = .anyTrustedNode
        self.isPublic = true
    }
}

/// The method table of a service. A method missing from the table is denied to everyone, so
/// adding an RPC without deciding who may call it fails closed.
public struct AccessPolicy: Sendable {
    public var rules: [String: MethodRule]

    public init(_ rules: [String: MethodRule] = [:]) {
        self.rules = rules
    }

    /// Adds the rule for `/service/method` (the fully qualified method name without leading slash).
    public mutating func allow(_ fullyQualifiedMethod: String, _ rule: MethodRule) {
        self.rules[fullyQualifiedMethod] = rule
    }

    public func merging(_ other: AccessPolicy) -> AccessPolicy {
        AccessPolicy(self.rules.merging(other.rules) { _, new in new })
    }

    /// Decides a call. `caller` is nil when no valid token was presented; `tokenError` says why.
    public func authorize(
        method: MethodDescriptor,
        caller: Caller?,
        tokenError: TokenError?,
        localNode: String
    ) -> RPCError? {
        guard let rule = self.rules[method.fullyQualifiedMethod] else {
            return RPCError(code: .permissionDenied, message: "method \(method.fullyQualifiedMethod) is not open to any role")
        }
        if rule.isPublic { return nil }
        guard let caller else {
            return RPCError(code: .unauthenticated, message: (tokenError ?? .missing).description)
        }
        guard rule.roles.contains(caller.role) else {
            let allowed = rule.roles.map(\.rawValue).sorted().joined(separator: ", ")
            return RPCError(
                code: .permissionDenied,
                message: "role '\(caller.role.rawValue)' may not call \(method.method); allowed: \(allowed)"
            )
        }
        switch rule.scope {
        case .sameNode:
            guard caller.node == localNode else {
                return RPCError(code: .permissionDenied, message: "token of node \(caller.node) may not act on node \(localNode)")
            }
        case .sameNodeOrAncestor:
            guard DivisionCode.isSameOrAncestor(caller.node, of: localNode) else {
                return RPCError(code: .permissionDenied, message: "token of node \(caller.node) may not read node \(localNode)")
            }
        case .anyTrustedNode:
            break
        }
        return nil
    }
}
