import Foundation
import OneSealCore

/// How a department receives its pushes: it pulls them (ListPushes / ClaimPush), or the service calls
/// its own `DepartmentInbox/Receive` endpoint (at least once, retried with backoff).
public enum DeliveryMode: String, Sendable, Hashable, Codable, CaseIterable {
    case pull
    case endpoint
}

/// Administrative level of a department (四级): the shared `AdministrativeLevel`.
public typealias DepartmentLevel = AdministrativeLevel

/// A supervising department (行业主管部门) as the boundary list names it.
public struct Department: Sendable, Hashable, Codable {
    public var code: String
    public var name: String
    public var level: DepartmentLevel?
    /// GB/T 2260 division code of the node the department belongs to.
    public var node: String
    public var contactName: String
    public var contactPhone: String
    public var delivery: DeliveryMode
    /// host:port of its DepartmentInbox (endpoint delivery only).
    public var endpoint: String
    public var active: Bool

    public init(
        code: String, name: String, level: DepartmentLevel?, node: String, contactName: String = "", contactPhone: String = "",
        delivery: DeliveryMode = .pull, endpoint: String = "", active: Bool = true
    ) {
        self.code = code
        self.name = name
        self.level = level
        self.node = node
        self.contactName = contactName
        self.contactPhone = contactPhone
        self.delivery = delivery
        self.endpoint = endpoint
        self.active = active
    }

    /// Department codes: USCC-like or bureau-assigned, 2–40 characters of letters, digits, '-', '_' or '.'.
    public static func isValidCode(_ code: String) -> Bool {
        (2...40).contains(code.count) && code.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    /// `host:port` with a port in 1...65535.
    public static func parseEndpoint(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let host = String(text[..<colon])
        guard !host.isEmpty, !host.contains(where: \.isWhitespace), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            return nil
        }
        return (host, port)
    }

    /// Every problem with this department, as field violations under `prefix`.
    public func validate(prefix: String = "department") -> [FieldViolation] {
        var violations: [FieldViolation] = []
        func field(_ name: String) -> String { prefix.isEmpty ? name : "\(prefix).\(name)" }
        if code.isBlank {
            violations.append(.required(field("code")))
        } else if !Self.isValidCode(code) {
            violations.append(FieldViolation(field: field("code"), description: "'\(code)' is not a department code (2–40 letters, digits, '-', '_', '.')", reason: "format"))
        }
        if name.isBlank { violations.append(.required(field("name"))) }
        if level == nil { violations.append(.required(field("level"))) }
        if node.isBlank {
            violations.append(.required(field("node")))
        } else if !(node.count == 6 && node.allSatisfy { $0.isASCII && $0.isNumber }) {
            violations.append(FieldViolation(field: field("node"), description: "'\(node)' is not a 6-digit GB/T 2260 division code", reason: "format"))
        }
        switch delivery {
        case .endpoint:
            if endpoint.isBlank {
                violations.append(FieldViolation(field: field("endpoint"), description: "required for endpoint delivery (host:port of its DepartmentInbox)", reason: "required"))
            } else if Self.parseEndpoint(endpoint) == nil {
                violations.append(FieldViolation(field: field("endpoint"), description: "'\(endpoint)' is not host:port", reason: "format"))
            }
        case .pull:
            if !endpoint.isBlank {
                violations.append(FieldViolation(field: field("endpoint"), description: "only endpoint-delivery departments have an endpoint", reason: "unexpected"))
            }
        }
        return violations
    }
}
