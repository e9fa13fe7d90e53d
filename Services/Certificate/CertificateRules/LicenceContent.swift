import Foundation
import OneSealCore

/// Code type of the holder's code (持证主体代码类型) with its standard code string.
public enum HolderCodeType: Int, Sendable, Hashable, Codable, CaseIterable {
    /// 居民身份证号码, standard code "111".
    case residentID = 1
    /// 统一社会信用代码, standard code "001".
    case uscc = 2
    /// Another document; the standard code is given alongside.
    case other = 3

    /// The standard code of the type, where it is fixed.
    public var standardCode: String? {
        switch self {
        case .residentID: "111"
        case .uscc: "001"
        case .other: nil
        }
    }
}

/// The content of an electronic licence (the standard metadata fields), exactly what the seal
/// covers. Mirrors `oneseal.certificate.v1.LicenceContent` field for field; `canonicalBytes` is the
/// deterministic protobuf encoding of that message, so a verifier holding the message re-derives
/// the signed bytes with any protobuf runtime.
public struct LicenceContent: Sendable, Hashable, Codable {
    public var licenceName: String              // 1 证照名称
    public var licenceTypeCode: String          // 2 证照类型代码
    public var licenceNumber: String            // 3 证照编号
    public var licenceIdentifier: String        // 4 证照标识
    public var issuerName: String               // 5 颁发机构
    public var issuerCode: String               // 6 颁发机构代码
    public var issueDate: CivilDate             // 7 颁发日期
    public var holderName: String               // 8 持证主体
    public var holderCode: String               // 9 持证主体代码
    public var holderCodeType: HolderCodeType   // 10
    public var holderCodeTypeCode: String       // 11 持证主体代码类型
    public var validFrom: CivilDate             // 12 有效期起始日期
    public var validUntil: CivilDate?           // 13 有效期截止日期 (nil = 长期)
    public var scope: String                    // 14
    public var conditions: [String]             // 15
    public var place: String                    // 16
    public var extraFields: [String: String]    // 17
    public var serial: String                   // 18
    public var version: String                  // 19
    public var issuingNode: String              // 20
    public var caseID: String                   // 21
    public var caseNumber: String               // 22
    public var implementationCode: String       // 23

    public init(
        licenceName: String, licenceTypeCode: String, licenceNumber: String, licenceIdentifier: String,
        issuerName: String, issuerCode: String, issueDate: CivilDate, holderName: String, holderCode: String,
        holderCodeType: HolderCodeType, holderCodeTypeCode: String? = nil, validFrom: CivilDate, validUntil: CivilDate?,
        scope: String, conditions: [String] = [], place: String = "", extraFields: [String: String] = [:],
        serial: String, version: String, issuingNode: String, caseID: String, caseNumber: String, implementationCode: String
    ) {
        self.licenceName = licenceName
        self.licenceTypeCode = licenceTypeCode
        self.licenceNumber = licenceNumber
        self.licenceIdentifier = licenceIdentifier
        self.issuerName = issuerName
        self.issuerCode = issuerCode
        self.issueDate = issueDate
        self.holderName = holderName
        self.holderCode = holderCode
        self.holderCodeType = holderCodeType
        self.holderCodeTypeCode = holderCodeTypeCode ?? holderCodeType.standardCode ?? ""
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.scope = scope
        self.conditions = conditions
        self.place = place
        self.extraFields = extraFields
        self.serial = serial
        self.version = version
        self.issuingNode = issuingNode
        self.caseID = caseID
        self.caseNumber = caseNumber
        self.implementationCode = implementationCode
    }

    /// The bytes the seal signs: the deterministic protobuf encoding of
    /// `oneseal.certificate.v1.LicenceContent` (fields in number order, defaults omitted, map
    /// entries sorted by key).
    public var canonicalBytes: [UInt8] {
        var writer = ProtobufWriter()
        writer.string(1, licenceName)
        writer.string(2, licenceTypeCode)
        writer.string(3, licenceNumber)
        writer.string(4, licenceIdentifier)
        writer.string(5, issuerName)
        writer.string(6, issuerCode)
        writer.message(7) { Self.write(issueDate, into: &$0) }
        writer.string(8, holderName)
        writer.string(9, holderCode)
        writer.integer(10, Int64(holderCodeType.rawValue))
        writer.string(11, holderCodeTypeCode)
        writer.message(12) { Self.write(validFrom, into: &$0) }
        if let validUntil { writer.message(13) { Self.write(validUntil, into: &$0) } }
        writer.string(14, scope)
        for condition in conditions {
            // Repeated strings keep empty elements (they are not defaults).
            writer.lengthDelimited(15, Array(condition.utf8))
        }
        writer.string(16, place)
        for key in extraFields.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            writer.message(17) { entry in
                entry.string(1, key)
                entry.string(2, extraFields[key] ?? "")
            }
        }
        writer.string(18, serial)
        writer.string(19, version)
        writer.string(20, issuingNode)
        writer.string(21, caseID)
        writer.string(22, caseNumber)
        writer.string(23, implementationCode)
        return writer.bytes
    }

    static func write(_ date: CivilDate, into writer: inout ProtobufWriter) {
        writer.integer(1, Int64(date.year))
        writer.integer(2, Int64(date.month))
        writer.integer(3, Int64(date.day))
    }

    /// The parsed identifier (nil if the stored text is not one).
    public var identifier: LicenceIdentifier? { try? LicenceIdentifier(parsing: licenceIdentifier) }
}

/// One problem with licence content, named by its wire field.
public struct LicenceFieldProblem: Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var message: String
    public var reason: String

    public init(field: String, message: String, reason: String) {
        self.field = field
        self.message = message
        self.reason = reason
    }

    public var description: String { "\(field): \(message)" }
}

extension LicenceContent {
    /// Every problem with the content before it is signed (all at once, field by field). `today`
    /// checks the resident ID's birth date; `usccAllowList` admits real pilot codes that fail GB 32100.
    public func problems(today: CivilDate, usccAllowList: Set<String> = []) -> [LicenceFieldProblem] {
        var problems: [LicenceFieldProblem] = []
        func require(_ value: String, _ field: String) {
            if value.trimmingCharacters(in: .whitespaces).isEmpty {
                problems.append(LicenceFieldProblem(field: field, message: "required", reason: "required"))
            }
        }
        require(licenceName, "licence_name")
        require(licenceTypeCode, "licence_type_code")
        require(holderName, "holder.name")
        require(holderCode, "holder.id_number")
        require(scope, "scope")
        require(caseID, "case_id")
        require(implementationCode, "implementation_code")
        if !licenceTypeCode.isEmpty, (try? LicenceIdentifier(typeCode: licenceTypeCode, issuer: "111111111111111111", serial: "1", version: 1)) == nil {
            problems.append(LicenceFieldProblem(field: "licence_type_code", message: "“\(licenceTypeCode)” is not the defining agency's 18-character code followed by 3 digits", reason: "format"))
        }
        switch holderCodeType {
        case .residentID:
            if !holderCode.isEmpty {
                do { _ = try ResidentID(holderCode, today: today) } catch {
                    problems.append(LicenceFieldProblem(field: "holder.id_number", message: error.description, reason: "check_character"))
                }
            }
        case .uscc:
            if !holderCode.isEmpty {
                do { _ = try UnifiedSocialCreditCode(holderCode, allowList: usccAllowList) } catch {
                    problems.append(LicenceFieldProblem(field: "holder.id_number", message: error.description, reason: "check_character"))
                }
            }
        case .other:
            if holderCodeTypeCode.isEmpty {
                problems.append(LicenceFieldProblem(field: "holder.id_type", message: "a holder code type other than resident ID or USCC needs its standard code", reason: "required"))
            }
        }
        if let validUntil, validUntil < validFrom {
            problems.append(LicenceFieldProblem(field: "valid_until", message: "ends (\(validUntil)) before it starts (\(validFrom))", reason: "range"))
        }
        for (key, value) in extraFields where key.isEmpty || value.isEmpty {
            problems.append(LicenceFieldProblem(field: "extra_fields", message: "field “\(key)” needs a name and a value", reason: "required"))
        }
        for (index, condition) in conditions.enumerated() where condition.trimmingCharacters(in: .whitespaces).isEmpty {
            problems.append(LicenceFieldProblem(field: "conditions[\(index)]", message: "empty condition", reason: "required"))
        }
        return problems
    }
}
