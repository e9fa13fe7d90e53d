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

/// On *which* objects a method's callers may act: the per-object half of a rule, declared in the
/// method table beside the roles and enforced by the handler (docs/security.md, "Per-object
/// rules"). Every method declares one; `AccessPolicyDeclarationTests` fails on an undeclared one, so
/// a new RPC cannot ship without someone deciding whose objects it touches.
public enum ObjectRule: String, Sendable, Hashable, CaseIterable {
    /// Not yet decided (the default): refused by the declaration test, never by a call.
    case undeclared
    /// No person's object: public data, the catalogue, figures, the transparency log, health.
    case none
    /// Any object of the node: the role's duty (the window, the back office, the certificate
    /// centre, operators), at the nodes the scope allows.
    case anyOfTheNode
    /// Only the caller's own for the roles outside the node's staff: an applicant's applications
    /// and ratings, an integrator's submissions, a department's pushes, a rater's rating — checked
    /// in the handler (the node's staff among the roles act on any, as for `anyOfTheNode`).
    case own
    /// Service-to-service: events and forwarding from the services of trusted nodes.
    case service
}

/// The rule for one RPC method: who may call it, from where, on which objects. `public` methods
/// need no token (health, licence verification, progress look-up by receipt number).
public struct MethodRule: Sendable, Hashable {
    public var roles: Set<Role>
    public var scope: NodeScope
    public var isPublic: Bool
    public var objects: ObjectRule

    public init(roles: Set<Role>, scope: NodeScope = .sameNode, objects: ObjectRule = .undeclared) {
        self.roles = roles
        self.scope = scope
        self.isPublic = false
        self.objects = objects
    }

    public static let `public` = MethodRule(publicRule: ())

    private init(publicRule: Void) {
        self.roles = []
        self.scope = .anyTrustedNode
        self.isPublic = true
        self.objects = .none
    }

    /// The same rule with its object rule declared.
    public func on(_ objects: ObjectRule) -> MethodRule {
        var rule = self
        rule.objects = objects
        return rule
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
