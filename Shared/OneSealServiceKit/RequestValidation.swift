import Foundation
import GRPCCore
import OneSealCore
import OneSealProto
import Synchronization
import SwiftProtobuf

/// The size and character limits every text field of every request must meet, from the field's
/// domain, checked at the edge before any handler runs (docs/security.md, "Bad input").
///
/// Why one table for all services rather than checks in each handler: the probe of issue #15 found
/// that *no* text field had a limit (a 1 MB reason was accepted, stored, put into an event and then
/// jammed the relay), and that a NUL byte in any of 17 fields reached PostgreSQL, which refused it,
/// and the client was told UNAVAILABLE ("retry"). A class of defects needs a class of fix: every
/// string of every request is measured against the limit of its domain, named by the proto field
/// name, so a field added tomorrow is limited the day it is added.
public enum FieldLimits {
    /// What a field of a given name may hold.
    public struct Limit: Sendable, Hashable {
        /// Most Unicode scalars.
        public var maximumLength: Int
        /// Whether line breaks and tabs are allowed (free text) or not (names, codes, numbers).
        public var multiline: Bool
        /// The domain, for the error message ("a person's or organisation's name").
        public var domain: String

        public init(_ maximumLength: Int, multiline: Bool = false, _ domain: String) {
            self.maximumLength = maximumLength
            self.multiline = multiline
            self.domain = domain
        }
    }

    /// Identifiers, codes and numbers: UUIDs, GB codes, receipt numbers, idempotency keys.
    public static let identifier = Limit(128, "an identifier or code")
    /// A person's, organisation's or thing's name (a company name is at most ~60 Chinese characters).
    public static let name = Limit(150, "a name")
    public static let phone = Limit(32, "a telephone number")
    public static let idNumber = Limit(32, "an identity code (resident ID or USCC)")
    public static let email = Limit(254, "an e-mail address")
    public static let address = Limit(300, "an address or place")
    public static let url = Limit(2048, "a URL")
    /// Opinions, reasons, facts, scopes, comments: a page of text.
    public static let freeText = Limit(4000, multiline: true, "free text (opinion, reason, comment)")
    /// Catalogue texts that quote the law (legal basis, acceptance standard).
    public static let legalText = Limit(16_000, multiline: true, "a legal or catalogue text")
    /// Machine documents carried as text (rule sets, JSON details).
    public static let document = Limit(64_000, multiline: true, "a structured document")
    /// Anything not named below: short single-line text.
    public static let fallback = Limit(500, "short text")
    /// What a case-file reviewer found wanting under one criterion (案卷评查): the officer reads it.
    public static let finding = Limit(1000, multiline: true, "a reviewer's finding")

    /// Most elements of one repeated text field (ids of a batch, tags, codes).
    public static let maximumRepeatedStrings = 1000
    /// Most elements of one repeated message field (materials, items, a relay's event batch of at
    /// most a few hundred): with every text bounded too, a response built from a request is bounded,
    /// so a write cannot commit and then fail to answer for size (issue #15, finding 13).
    public static let maximumRepeatedMessages = 1000
    /// Most entries of one map field (form fields).
    public static let maximumMapEntries = 500

    static let exact: [String: Limit] = [
        "name": name, "title": name, "signer": name, "legal_representative": name, "court": name,
        "competent_agency": name, "issuing_agency": name, "reconsideration_agency": name, "window_name": name,
        "label": name, "unit": name, "y_label": name, "x_label": name, "kind": identifier, "type": identifier,
        "id_number": idNumber, "holder_code": idNumber, "uscc": idNumber,
        "phone": phone, "email": email,
        "address": address, "place": address, "location": address, "collection_point": address,
        "endpoint": url, "sample_url": url, "blank_form_url": url, "qr_payload": url,
        "key": identifier, "version": identifier, "node": identifier, "nodes": identifier, "serial": identifier,
        "method": Limit(256, "a method path"), "traceparent": identifier, "page_token": identifier,
        "next_page_token": identifier, "query": Limit(200, "a search text"), "service": identifier,
        "role": identifier, "state": identifier, "clock": identifier, "action": identifier, "subject": identifier,
        "legal_basis": legalText, "acceptance_standard": legalText, "acceptance_conditions": legalText,
        "appeal_rights": legalText, "basis": legalText, "process": legalText, "notice_text": legalText,
        "commitment_text": legalText, "public_interest_assessment": legalText, "how_to_fix": freeText,
        "instant_rule_set": document, "rule_set": document, "details_json": document, "html": document, "form": document,
        "message": freeText, "text": freeText, "answer": freeText, "question": freeText, "result": freeText,
        "effect": freeText, "conclusion": identifier, "form_key": name, "form_value": freeText, "penalty_type": name, "tags": name, "to_node": identifier,
        // Renewal, change and hearings (#20): the licence renewed, who asked for a hearing, who
        // presides (a staff subject), and the hearing record the decision rests on.
        "renewal_of": identifier, "requested_by": name, "presiding_officer": identifier, "record": legalText,
    ]

    /// Suffix rules, tried in order when the exact name is not listed.
    static let suffixes: [(String, Limit)] = [
        ("_ids", identifier), ("_id", identifier), ("_code", identifier), ("_codes", identifier),
        ("_number", identifier), ("_key", identifier), ("_subject", identifier), ("_node", identifier),
        ("sha256", Limit(64, "a SHA-256 in hexadecimal")), ("_url", url),
        ("_name", name), ("_phone", phone), ("_address", address), ("_type", identifier),
        ("reason", freeText), ("reasons", freeText), ("opinion", freeText), ("note", freeText), ("facts", freeText),
        ("description", freeText), ("comment", freeText), ("feedback", freeText), ("scope", freeText),
        ("conditions", freeText), ("detail", freeText), ("summary", freeText), ("undertaking", freeText),
        ("measures", freeText), ("responsibility", freeText), ("takeaway", freeText), ("assessment", freeText),
        ("_error", freeText), ("_label", name), ("_version", identifier), ("_finding", finding),
    ]

    /// The limit of a field, by its proto name.
    public static func limit(forField name: String) -> Limit {
        if let limit = exact[name] { return limit }
        for (suffix, limit) in suffixes where name.hasSuffix(suffix) { return limit }
        return fallback
    }

    /// What is wrong with `value` as the content of field `name`, or nil.
    public static func problem(with value: String, field name: String) -> (description: String, reason: String)? {
        let limit = self.limit(forField: name)
        var count = 0
        for scalar in value.unicodeScalars {
            count += 1
            switch scalar.value {
            case 0:
                return ("contains a NUL character (U+0000), which no text field may hold", "text.nul")
            case 0x09, 0x0A, 0x0D:
                if !limit.multiline {
                    return ("contains a line break or tab; \(limit.domain) is one line", "text.control")
                }
            case 0x01...0x1F, 0x7F, 0x80...0x9F, 0x2028, 0x2029, 0xFFFE, 0xFFFF:
                return (String(format: "contains the control character U+%04X", scalar.value), "text.control")
            default:
                break
            }
        }
        if count > limit.maximumLength {
            return ("\(count) characters; \(limit.domain) has at most \(limit.maximumLength)", "text.too_long")
        }
        return nil
    }

    /// Every violation in a request message, each naming its field by proto path
    /// (`materials[2].file_id`). Stops after `maximum` so a hostile message cannot make the answer huge.
    public static func violations(in message: any SwiftProtobuf.Message, maximum: Int = 20) -> [FieldViolation] {
        var visitor = LimitVisitor(maximum: maximum)
        visitor.path.append(.init(type: type(of: message), number: 0, index: nil, parentName: ""))
        try? message.traverse(visitor: &visitor)
        return visitor.violations
    }
}

/// The names of fields, found through SwiftProtobuf's public API only: a message holding just
/// field N, decoded from hand-made bytes and printed as JSON with proto names, names N. Computed
/// on first use per (type, field) and kept, so the cost is paid once per field in a process.
enum FieldNames {
    private static let cache = Mutex<[String: String]>([:])

    enum WireKind { case varint, lengthDelimited }

    static func name(of number: Int, in type: any SwiftProtobuf.Message.Type, kind: WireKind) -> String {
        let cacheKey = "\(type.protoMessageName)#\(number)"
        if let known = cache.withLock({ $0[cacheKey] }) { return known }
        let tag = Self.varint(UInt64(number) << 3 | (kind == .varint ? 0 : 2))
        // A one-byte payload: 1 for a varint (an enum's first non-default value), "a" for text,
        // bytes, or a message (0x61 would be a bad tag there, so messages get an empty payload).
        let name: String
        do {
            let probe = Self.decode(type, bytes: tag + (kind == .varint ? [1] : [1, 0x61]))
                ?? Self.decode(type, bytes: tag + [0])
            var options = JSONEncodingOptions()
            options.preserveProtoFieldNames = true
            options.alwaysPrintEnumsAsInts = true
            let json = try probe.map { try $0.jsonString(options: options) } ?? "{}"
            name = Self.firstKey(ofJSON: json) ?? "field \(number)"
        } catch {
            name = "field \(number)"
        }
        cache.withLock { $0[cacheKey] = name }
        return name
    }

    private static func decode(_ type: any SwiftProtobuf.Message.Type, bytes: [UInt8]) -> (any SwiftProtobuf.Message)? {
        var options = BinaryDecodingOptions()
        options.discardUnknownFields = true
        guard let message = try? type.init(serializedBytes: bytes, extensions: nil, partial: true, options: options) else { return nil }
        return (try? message.jsonString()) == "{}" ? nil : message
    }

    private static func firstKey(ofJSON json: String) -> String? {
        guard let data = json.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let key = object.keys.first
        else { return nil }
        return key
    }

    private static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        while value >= 0x80 {
            out.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
        return out
    }
}

/// Walks a request message and collects the fields that break `FieldLimits` or carry an enum
/// number the contract does not define (proto3 keeps those as UNRECOGNIZED; stored, they would
/// mean nothing to anyone reading them later).
struct LimitVisitor: SwiftProtobuf.Visitor {
    /// One level of the path: the message type entered, through which field (its name) and index.
    struct Step {
        var type: any SwiftProtobuf.Message.Type
        var number: Int
        var index: Int?
        var parentName: String
    }

    let maximum: Int
    var path: [Step] = []
    var violations: [FieldViolation] = []

    init(maximum: Int) { self.maximum = maximum }

    private var full: Bool { violations.count >= maximum }

    /// `materials[2].file_id` for field `number` (of kind `kind`) of the message at the end of the path.
    private func fieldPath(_ number: Int, kind: FieldNames.WireKind, index: Int? = nil) -> (path: String, name: String) {
        var parts: [String] = []
        for step in path.dropFirst() {
            parts.append(step.index.map { "\(step.parentName)[\($0)]" } ?? step.parentName)
        }
        let name = FieldNames.name(of: number, in: path.last!.type, kind: kind)
        parts.append(index.map { "\(name)[\($0)]" } ?? name)
        return (parts.joined(separator: "."), name)
    }

    private mutating func check(_ value: String, _ number: Int, index: Int? = nil) {
        guard !full else { return }
        // Cheap pre-check: a short value of plain printable characters is fine for every limit
        // except the length ones shorter than it; only then is the field's name looked up.
        if value.utf8.count <= 32, value.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) {
            let name = FieldNames.name(of: number, in: path.last!.type, kind: .lengthDelimited)
            if value.unicodeScalars.count <= FieldLimits.limit(forField: name).maximumLength { return }
        }
        let (fieldPath, name) = self.fieldPath(number, kind: .lengthDelimited, index: index)
        if let problem = FieldLimits.problem(with: value, field: name) {
            violations.append(FieldViolation(field: fieldPath, description: problem.description, reason: problem.reason))
        }
    }

    private mutating func checkEnum<E: SwiftProtobuf.Enum>(_ value: E, _ number: Int, index: Int? = nil) {
        guard !full, !Self.isKnown(value) else { return }
        let (fieldPath, _) = self.fieldPath(number, kind: .varint, index: index)
        violations.append(FieldViolation(field: fieldPath, description: "\(value.rawValue) is not a value this field defines", reason: "enum.unknown"))
    }

    /// Whether the enum value is one the proto defines (generated enums list theirs in `allCases`,
    /// which leaves out UNRECOGNIZED).
    static func isKnown<E: SwiftProtobuf.Enum>(_ value: E) -> Bool {
        guard let cases = E.self as? any CaseIterable.Type else { return true }
        return Self.contains(cases, value)
    }

    private static func contains<C: CaseIterable, E: SwiftProtobuf.Enum>(_ type: C.Type, _ value: E) -> Bool {
        C.allCases.contains { ($0 as? E)?.rawValue == value.rawValue }
    }

    mutating func visitSingularStringField(value: String, fieldNumber: Int) throws { check(value, fieldNumber) }

    mutating func visitRepeatedStringField(value: [String], fieldNumber: Int) throws {
        if value.count > FieldLimits.maximumRepeatedStrings, !full {
            let (fieldPath, _) = self.fieldPath(fieldNumber, kind: .lengthDelimited)
            violations.append(FieldViolation(field: fieldPath, description: "\(value.count) entries; at most \(FieldLimits.maximumRepeatedStrings)", reason: "list.too_long"))
            return
        }
        for (index, element) in value.enumerated() { check(element, fieldNumber, index: index) }
    }

    mutating func visitSingularEnumField<E: SwiftProtobuf.Enum>(value: E, fieldNumber: Int) throws { checkEnum(value, fieldNumber) }

    mutating func visitRepeatedEnumField<E: SwiftProtobuf.Enum>(value: [E], fieldNumber: Int) throws {
        for (index, element) in value.enumerated() { checkEnum(element, fieldNumber, index: index) }
    }

    mutating func visitPackedEnumField<E: SwiftProtobuf.Enum>(value: [E], fieldNumber: Int) throws {
        try visitRepeatedEnumField(value: value, fieldNumber: fieldNumber)
    }

    mutating func visitSingularMessageField<M: SwiftProtobuf.Message>(value: M, fieldNumber: Int) throws {
        guard !full else { return }
        enter(M.self, number: fieldNumber, index: nil)
        try value.traverse(visitor: &self)
        path.removeLast()
    }

    mutating func visitRepeatedMessageField<M: SwiftProtobuf.Message>(value: [M], fieldNumber: Int) throws {
        if value.count > FieldLimits.maximumRepeatedMessages, !full {
            let (fieldPath, _) = self.fieldPath(fieldNumber, kind: .lengthDelimited)
            violations.append(FieldViolation(field: fieldPath, description: "\(value.count) entries; at most \(FieldLimits.maximumRepeatedMessages)", reason: "list.too_long"))
            return
        }
        for (index, element) in value.enumerated() where !full {
            enter(M.self, number: fieldNumber, index: index)
            try element.traverse(visitor: &self)
            path.removeLast()
        }
    }

    private mutating func enter(_ type: any SwiftProtobuf.Message.Type, number: Int, index: Int?) {
        let parentName = FieldNames.name(of: number, in: path.last!.type, kind: .lengthDelimited)
        path.append(Step(type: type, number: number, index: index, parentName: parentName))
    }

    mutating func visitMapField<KeyType, ValueType: MapValueType>(
        fieldType: _ProtobufMap<KeyType, ValueType>.Type, value: _ProtobufMap<KeyType, ValueType>.BaseType, fieldNumber: Int
    ) throws {
        guard !full else { return }
        let (fieldPath, _) = self.fieldPath(fieldNumber, kind: .lengthDelimited)
        if value.count > FieldLimits.maximumMapEntries {
            violations.append(FieldViolation(field: fieldPath, description: "\(value.count) entries; at most \(FieldLimits.maximumMapEntries)", reason: "map.too_many"))
            return
        }
        for (key, element) in value {
            for (text, what) in [(key as? String, "key"), (element as? String, "value")] {
                guard let text, !full else { continue }
                // Map keys are short identifiers; values are a form's answers (free text).
                let limit = what == "key" ? "form_key" : "form_value"
                if let problem = FieldLimits.problem(with: text, field: limit) {
                    violations.append(FieldViolation(field: "\(fieldPath)[\(what)]", description: problem.description, reason: problem.reason))
                }
            }
        }
    }

    mutating func visitMapField<KeyType, ValueType>(
        fieldType: _ProtobufEnumMap<KeyType, ValueType>.Type, value: _ProtobufEnumMap<KeyType, ValueType>.BaseType, fieldNumber: Int
    ) throws where ValueType.RawValue == Int {}

    mutating func visitMapField<KeyType, ValueType>(
        fieldType: _ProtobufMessageMap<KeyType, ValueType>.Type, value: _ProtobufMessageMap<KeyType, ValueType>.BaseType, fieldNumber: Int
    ) throws {
        for (_, element) in value where !full {
            enter(ValueType.self, number: fieldNumber, index: nil)
            try element.traverse(visitor: &self)
            path.removeLast()
        }
    }

    // Numbers, booleans and bytes carry no text; bytes are bounded by the frame limit.
    mutating func visitSingularDoubleField(value: Double, fieldNumber: Int) throws {}
    mutating func visitSingularInt64Field(value: Int64, fieldNumber: Int) throws {}
    mutating func visitSingularUInt64Field(value: UInt64, fieldNumber: Int) throws {}
    mutating func visitSingularBoolField(value: Bool, fieldNumber: Int) throws {}
    mutating func visitSingularBytesField(value: Data, fieldNumber: Int) throws {}
    mutating func visitRepeatedBytesField(value: [Data], fieldNumber: Int) throws {}
    mutating func visitUnknown(bytes: Data) throws {}
}

/// Refuses, before the handler runs, any request message that breaks `FieldLimits`: INVALID_ARGUMENT
/// with a `BadRequest` naming every field (PROTOCOL.md §12), never UNAVAILABLE.
public struct RequestValidationInterceptor: ServerInterceptor {
    public init() {}

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        guard Input.self is any SwiftProtobuf.Message.Type else { return try await next(request, context) }
        var checked = request
        checked.messages = RPCAsyncSequence(
            wrapping: request.messages.map { @Sendable message in
                if let message = message as? any SwiftProtobuf.Message {
                    let violations = FieldLimits.violations(in: message)
                    if !violations.isEmpty { throw RPCError.invalidArgument(violations.map(\.proto)) }
                }
                return message
            }
        )
        return try await next(checked, context)
    }
}
