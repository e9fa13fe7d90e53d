import OneSealCore

/// A parsed JSON value, so the catalogue reader can walk a file and report every wrong field with
/// its path instead of stopping at the first one as `Decodable` does.
enum JSONValue: Sendable, Hashable, Decodable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null; return }
        if let value = try? container.decode(Bool.self) { self = .bool(value); return }
        if let value = try? container.decode(Int.self) { self = .integer(value); return }
        if let value = try? container.decode(Double.self) { self = .number(value); return }
        if let value = try? container.decode(String.self) { self = .string(value); return }
        if let value = try? container.decode([JSONValue].self) { self = .array(value); return }
        self = .object(try container.decode([String: JSONValue].self))
    }

    /// "a string", "an integer" …, for messages.
    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer: "an integer"
        case .number: "a fractional number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// Reads one JSON object field by field, collecting violations (wrong type, missing required
/// field, unknown field) under the object's path. A local helper of one decode, never shared.
final class JSONObjectReader {
    let path: String
    private let fields: [String: JSONValue]
    private(set) var violations: [FieldViolation] = []

    /// Nil (with a violation) when `value` is not an object.
    static func make(_ value: JSONValue, path: String, into violations: inout [FieldViolation]) -> JSONObjectReader? {
        guard case .object(let fields) = value else {
            violations.append(FieldViolation(field: path, description: "must be an object, found \(value.kindName)", reason: "type"))
            return nil
        }
        return JSONObjectReader(path: path, fields: fields)
    }

    private init(path: String, fields: [String: JSONValue]) {
        self.path = path
        self.fields = fields
    }

    func fieldPath(_ key: String) -> String { joinPath(path, key) }

    func add(_ violation: FieldViolation) { violations.append(violation) }
    func add(_ more: [FieldViolation]) { violations += more }

    private func typeError(_ key: String, _ expected: String, _ found: JSONValue) {
        add(FieldViolation(field: fieldPath(key), description: "must be \(expected), found \(found.kindName)", reason: "type"))
    }

    /// The raw value, nil when absent or null; a missing required field is reported.
    func value(_ key: String, required: Bool) -> JSONValue? {
        guard let value = fields[key], value != .null else {
            if required { add(.required(fieldPath(key))) }
            return nil
        }
        return value
    }

    func string(_ key: String, required: Bool = false) -> String {
        guard let value = value(key, required: required) else { return "" }
        guard case .string(let text) = value else { typeError(key, "a string", value); return "" }
        if required, text.isBlank { add(.required(fieldPath(key))) }
        return text
    }

    func int(_ key: String, required: Bool = false, default defaultValue: Int = 0) -> Int {
        guard let value = value(key, required: required) else { return defaultValue }
        guard case .integer(let number) = value else { typeError(key, "an integer", value); return defaultValue }
        return number
    }

    func bool(_ key: String, default defaultValue: Bool = false) -> Bool {
        guard let value = value(key, required: false) else { return defaultValue }
        guard case .bool(let flag) = value else { typeError(key, "true or false", value); return defaultValue }
        return flag
    }

    /// An enum value by its raw string, listing the allowed values when it is not one.
    func enumeration<E: RawRepresentable & CaseIterable>(_ key: String, _: E.Type, required: Bool = false) -> E? where E.RawValue == String {
        guard let value = value(key, required: required) else { return nil }
        return Self.enumeration(value, E.self, path: fieldPath(key), reader: self)
    }

    static func enumeration<E: RawRepresentable & CaseIterable>(_ value: JSONValue, _: E.Type, path: String, reader: JSONObjectReader) -> E? where E.RawValue == String {
        guard case .string(let text) = value else {
            reader.add(FieldViolation(field: path, description: "must be a string, found \(value.kindName)", reason: "type"))
            return nil
        }
        guard let result = E(rawValue: text) else {
            let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
            reader.add(FieldViolation(field: path, description: "unknown value “\(text)”; expected one of: \(allowed)", reason: "enum"))
            return nil
        }
        return result
    }

    /// The elements of an array field with their paths; absent = empty.
    func array(_ key: String, required: Bool = false) -> [(path: String, value: JSONValue)] {
        guard let value = value(key, required: required) else { return [] }
        guard case .array(let elements) = value else { typeError(key, "an array", value); return [] }
        return elements.enumerated().map { (indexPath(fieldPath(key), $0.offset), $0.element) }
    }

    /// A nested object field's reader; its violations must be merged with `absorb`.
    func object(_ key: String, required: Bool = false) -> JSONObjectReader? {
        guard let value = value(key, required: required) else { return nil }
        return JSONObjectReader.make(value, path: fieldPath(key), into: &violations)
    }

    func absorb(_ nested: JSONObjectReader?) { if let nested { add(nested.violations) } }

    /// Reports fields the format does not define: a misspelt key ("statutory_day") would otherwise
    /// silently leave a default in place.
    func rejectUnknownKeys(_ known: [String]) {
        let knownSet = Set(known)
        for key in fields.keys.sorted() where !knownSet.contains(key) {
            add(FieldViolation(field: fieldPath(key), description: "unknown field", reason: "unknown_field"))
        }
    }
}
