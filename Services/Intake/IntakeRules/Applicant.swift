import Foundation
import OneSealCore

/// The person or organisation applying; mirrors `common.v1.Applicant` (requests only, so no
/// `masked` flag).
public struct Applicant: Sendable, Hashable, Codable {
    public var kind: ApplicantKind?
    /// Full name of the person, or the registered name of the organisation.
    public var name: String
    public var idType: IdType?
    public var idNumber: String
    public var phone: String
    public var address: String
    public var legalRepresentative: String
    public var contactName: String
    public var contactPhone: String
    public var email: String

    public init(
        kind: ApplicantKind?, name: String, idType: IdType?, idNumber: String, phone: String = "",
        address: String = "", legalRepresentative: String = "", contactName: String = "",
        contactPhone: String = "", email: String = ""
    ) {
        self.kind = kind
        self.name = name
        self.idType = idType
        self.idNumber = idNumber
        self.phone = phone
        self.address = address
        self.legalRepresentative = legalRepresentative
        self.contactName = contactName
        self.contactPhone = contactPhone
        self.email = email
    }
}

/// Checks applicants at the window so a mistyped ID number is caught before a licence is issued
/// to the wrong holder code. Configured per node: the USCC allow-list of real pilot codes whose
/// check character is wrong.
public struct ApplicantValidator: Sendable, Hashable {
    /// Upper-case USCCs that fail the GB 32100 check but are real (per node).
    public var usccAllowList: Set<String>

    public init(usccAllowList: Set<String> = []) {
        self.usccAllowList = Set(usccAllowList.map(IdentityCode.normalized))
    }

    /// Every problem at once, each with its path under `prefix` ("applicant.id_number"). `today` is
    /// the day of checking (Beijing time) so a birth date in the future is refused.
    public func violations(of applicant: Applicant, today: CivilDate, prefix: String = "applicant") -> [FieldViolation] {
        var out: [FieldViolation] = []
        func field(_ name: String) -> String { joinPath(prefix, name) }
        func bad(_ name: String, _ description: String, _ reason: String) {
            out.append(FieldViolation(field: field(name), description: description, reason: reason))
        }
        if applicant.name.isBlank { out.append(.required(field("name"))) }
        let number = applicant.idNumber.trimmingCharacters(in: .whitespaces)

        switch applicant.kind {
        case nil:
            out.append(FieldViolation(field: field("kind"), description: "required: natural_person or legal_person", reason: "required"))
        case .naturalPerson:
            switch applicant.idType {
            case nil:
                out.append(FieldViolation(field: field("id_type"), description: "required (resident_id for a citizen)", reason: "required"))
            case .uscc:
                bad("id_type", "a natural person is identified by a personal document, not a unified social credit code", "id_type.mismatch")
            case .residentID:
                if number.isEmpty {
                    out.append(.required(field("id_number")))
                } else {
                    do { _ = try ResidentID(number, today: today) } catch {
                        bad("id_number", error.description, Self.reason(error))
                    }
                }
            default:
                if number.isEmpty { out.append(.required(field("id_number"))) }
            }
            if applicant.phone.isBlank {
                out.append(.required(field("phone")))
            } else if !PhoneNumber.isValid(applicant.phone) {
                bad("phone", "“\(applicant.phone)” is neither a mobile number (11 digits starting 13–19) nor a landline with area code (e.g. 0539-8123456)", "phone.format")
            }
        case .legalPerson:
            if applicant.idType != .uscc {
                bad("id_type", applicant.idType == nil ? "required: uscc for an organisation" : "an organisation is identified by its unified social credit code (uscc)", applicant.idType == nil ? "required" : "id_type.mismatch")
            }
            if number.isEmpty {
                out.append(.required(field("id_number")))
            } else if applicant.idType == .uscc || applicant.idType == nil {
                do { _ = try UnifiedSocialCreditCode(number, allowList: usccAllowList) } catch {
                    bad("id_number", error.description, Self.reason(error))
                }
            }
            if applicant.legalRepresentative.isBlank { out.append(.required(field("legal_representative"))) }
            if applicant.contactName.isBlank { out.append(.required(field("contact_name"))) }
            if applicant.contactPhone.isBlank {
                out.append(.required(field("contact_phone")))
            } else if !PhoneNumber.isValid(applicant.contactPhone) {
                bad("contact_phone", "“\(applicant.contactPhone)” is neither a mobile number (11 digits starting 13–19) nor a landline with area code (e.g. 0539-8123456)", "phone.format")
            }
            if !applicant.phone.isBlank, !PhoneNumber.isValid(applicant.phone) {
                bad("phone", "“\(applicant.phone)” is neither a mobile number nor a landline with area code", "phone.format")
            }
        }
        return out
    }

    /// Throws `invalidArgument` with every violation, or returns when the applicant is valid.
    public func validate(_ applicant: Applicant, today: CivilDate, prefix: String = "applicant") throws(IntakeRuleError) {
        let found = violations(of: applicant, today: today, prefix: prefix)
        if !found.isEmpty { throw .invalidArgument(found) }
    }

    static func reason(_ error: ResidentIDError) -> String {
        switch error {
        case .wrongLength: "id_number.length"
        case .invalidCharacter: "id_number.character"
        case .invalidBirthDate: "id_number.birth_date"
        case .checksumMismatch: "id_number.checksum"
        }
    }

    static func reason(_ error: UnifiedSocialCreditCodeError) -> String {
        switch error {
        case .wrongLength: "id_number.length"
        case .invalidCharacter: "id_number.character"
        case .checksumMismatch: "id_number.checksum"
        }
    }
}

/// Chinese telephone numbers as applicants write them.
public enum PhoneNumber {
    /// A mobile number `1[3-9]` + 9 digits (an optional +86 / 86 prefix is allowed), or a landline:
    /// area code 0 + 2–3 digits, optional “-” or space, 7–8 digits, optional extension “-1…6 digits”.
    public static func isValid(_ text: String) -> Bool {
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        if s.hasPrefix("+86") { s = s.dropFirst(3) } else if s.hasPrefix("86"), s.count == 13 { s = s.dropFirst(2) }
        s = s.drop { $0 == " " || $0 == "-" }
        let digits = Array(s)
        func allDigits<C: Collection>(_ c: C) -> Bool where C.Element == Character { !c.isEmpty && c.allSatisfy { $0.isASCII && $0.isNumber } }
        if digits.count == 11, digits[0] == "1", ("3"..."9").contains(digits[1]), allDigits(digits) { return true }
        // Landline.
        guard digits.first == "0" else { return false }
        let parts = s.split(omittingEmptySubsequences: false) { $0 == "-" || $0 == " " }
        switch parts.count {
        case 1:
            // 0 + 2–3 area digits + 7–8 local digits written together: 10–12 digits.
            return allDigits(parts[0]) && (10...12).contains(parts[0].count)
        case 2, 3:
            let area = parts[0], local = parts[1]
            guard allDigits(area), (3...4).contains(area.count), allDigits(local), (7...8).contains(local.count) else { return false }
            if parts.count == 3 { return allDigits(parts[2]) && parts[2].count <= 6 }
            return true
        default:
            return false
        }
    }
}
