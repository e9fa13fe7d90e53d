import OneSealCore

/// Why a numbering rule is malformed or cannot number a licence.
public enum NumberingError: Error, Sendable, Hashable, CustomStringConvertible {
    case malformedRule(String)
    case missingField(String)
    case sequenceExhausted(rule: String, digits: Int)

    public var description: String {
        switch self {
        case .malformedRule(let reason): "numbering rule: \(reason)"
        case .missingField(let name): "the numbering rule uses licence field “\(name)”, which the grant does not give"
        case .sequenceExhausted(let rule, let digits): "numbering rule \(rule): the \(digits)-digit sequence is used up for this period"
        }
    }
}

/// A licence-number rule (证照编号规则) of a licence type, configured per node. A pattern of
/// literal text and placeholders:
///
/// - `{node}` the issuing node's division code; `{yyyy}` / `{yy}` the issue year;
/// - `{seq:N}` a sequence of N digits (1–12), exactly once; it restarts every year when the
///   pattern holds a year, and otherwise runs on;
/// - `{field:NAME}` a licence field of the grant (e.g. `{field:主体业态代码}`).
///
/// E.g. 食品经营许可证 `JY{field:主体业态代码}{node}{seq:7}` → `JY13713020000001`.
public struct LicenceNumberRule: Sendable, Hashable, CustomStringConvertible {
    enum Part: Sendable, Hashable {
        case literal(String)
        case node
        case year4
        case year2
        case sequence(digits: Int)
        case field(String)
    }

    public let pattern: String
    let parts: [Part]

    /// When a licence type has no rule of its own: node, year, 6-digit sequence.
    public static let `default` = try! LicenceNumberRule("{node}{yyyy}{seq:6}")

    public init(_ pattern: String) throws(NumberingError) {
        var parts: [Part] = []
        var literal = ""
        var rest = Substring(pattern)
        while let character = rest.first {
            if character == "{" {
                guard let close = rest.firstIndex(of: "}") else { throw .malformedRule("unclosed “{” in \(pattern)") }
                let token = String(rest[rest.index(after: rest.startIndex)..<close])
                if !literal.isEmpty { parts.append(.literal(literal)); literal = "" }
                switch token {
                case "node": parts.append(.node)
                case "yyyy": parts.append(.year4)
                case "yy": parts.append(.year2)
                default:
                    if token.hasPrefix("seq:"), let digits = Int(token.dropFirst(4)), (1...12).contains(digits) {
                        parts.append(.sequence(digits: digits))
                    } else if token.hasPrefix("field:"), token.count > 6 {
                        parts.append(.field(String(token.dropFirst(6))))
                    } else {
                        throw .malformedRule("unknown placeholder {\(token)} (node, yyyy, yy, seq:N, field:NAME)")
                    }
                }
                rest = rest[rest.index(after: close)...]
            } else if character == "}" {
                throw .malformedRule("stray “}” in \(pattern)")
            } else {
                literal.append(character)
                rest = rest.dropFirst()
            }
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        let sequences = parts.filter { if case .sequence = $0 { true } else { false } }.count
        guard sequences == 1 else { throw .malformedRule("needs exactly one {seq:N}, found \(sequences)") }
        self.pattern = pattern
        self.parts = parts
    }

    public var description: String { pattern }

    var usesYear: Bool { parts.contains { $0 == .year4 || $0 == .year2 } }

    var sequenceDigits: Int {
        for case .sequence(let digits) in parts { return digits }
        return 0
    }

    /// The counter a number draws from: one per licence type, node and (when the number shows it) year.
    public func counterScope(licenceTypeCode: String, node: String, issuedOn: CivilDate) -> String {
        "number:\(licenceTypeCode):\(node)" + (usesYear ? ":\(issuedOn.year)" : "")
    }

    /// The number for sequence value `sequence` (from 1).
    public func number(node: String, issuedOn: CivilDate, sequence: Int, fields: [String: String]) throws(NumberingError) -> String {
        let digits = sequenceDigits
        guard sequence >= 1, String(sequence).count <= digits else { throw .sequenceExhausted(rule: pattern, digits: digits) }
        var out = ""
        for part in parts {
            switch part {
            case .literal(let text): out += text
            case .node: out += node
            case .year4: out += String(issuedOn.year)
            case .year2: out += String(String(issuedOn.year).suffix(2))
            case .sequence(let digits):
                let text = String(sequence)
                out += String(repeating: "0", count: digits - text.count) + text
            case .field(let name):
                guard let value = fields[name], !value.isEmpty else { throw .missingField(name) }
                out += value
            }
        }
        return out
    }
}

/// The serial part of licence identifiers: node + year + 8-digit sequence, unique per issuer and
/// kept across versions of one licence (a reissue changes the version, not the serial).
public enum LicenceSerial {
    public static func counterScope(node: String, issuedOn: CivilDate) -> String { "serial:\(node):\(issuedOn.year)" }

    public static func serial(node: String, issuedOn: CivilDate, sequence: Int) -> String {
        let text = String(sequence)
        return node + String(issuedOn.year) + String(repeating: "0", count: max(0, 8 - text.count)) + text
    }
}
