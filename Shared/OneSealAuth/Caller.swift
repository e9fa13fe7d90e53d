import Foundation

/// The verified identity behind a call, as read from its bearer token.
///
/// Handlers read it from `Caller.current`, which the server interceptor binds for the whole call
/// (including the streaming body), so business code never parses tokens itself.
public struct Caller: Sendable, Hashable, Codable {
    /// The person or system (e.g. a staff number, or "intake@371302" for a service).
    public var subject: String
    public var role: Role
    /// The node (GB/T 2260 division code) the token was issued for, e.g. "371302".
    public var node: String
    /// The supervising department, for `department` tokens (e.g. "market-regulation").
    public var department: String?
    public var expiresAt: Date

    public init(subject: String, role: Role, node: String, department: String? = nil, expiresAt: Date) {
        self.subject = subject
        self.role = role
        self.node = node
        self.department = department
        self.expiresAt = expiresAt
    }

    /// The caller of the RPC being handled on this task, if the method required a token.
    @TaskLocal public static var current: Caller?
}

/// GB/T 2260 division codes: the parent of a county (371302) is its city (371300), of a city its
/// province (370000). Used so a city may read its counties' figures.
public enum DivisionCode {
    public static func isValid(_ code: String) -> Bool {
        code.count == 6 && code.allSatisfy { $0.isASCII && $0.isNumber }
    }

    public static func parent(of code: String) -> String? {
        guard self.isValid(code) else { return nil }
        let digits = Array(code)
        if digits[4] != "0" || digits[5] != "0" { return String(digits[0..<4]) + "00" }
        if digits[2] != "0" || digits[3] != "0" { return String(digits[0..<2]) + "0000" }
        return nil
    }

    /// Whether `ancestor` is `code` itself or one of its parents.
    public static func isSameOrAncestor(_ ancestor: String, of code: String) -> Bool {
        var current: String? = code
        while let node = current {
            if node == ancestor { return true }
            current = self.parent(of: node)
        }
        return false
    }
}

/// Request metadata a handler needs besides the caller, bound by `AuthServerInterceptor` for the
/// call's duration (handlers of the simple service protocols see no metadata of their own).
public enum CallMetadata {
    /// The `idempotency-key` metadata value (PROTOCOL.md): a retried write with the same key must
    /// not act twice.
    @TaskLocal public static var idempotencyKey: String?
}
