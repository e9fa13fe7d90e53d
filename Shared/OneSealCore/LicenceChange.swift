/// A change of a licence's matters (变更, 行政许可法 Art. 49): "被许可人要求变更行政许可事项的，应当向作出
/// 行政许可决定的行政机关提出申请；符合法定条件、标准的，行政机关应当依法办理变更手续。"
///
/// Which matters need a review is the item's to say (`change_review_matters` in the catalogue): a
/// change of, say, the scope is decided by the item's sign-off chain, while a new legal
/// representative is only recorded. Either way the licence is re-issued as its next version and
/// the old version is superseded, not revoked: the grant behind it goes on.
public struct LicenceChangeRequest: Sendable, Hashable, Codable {
    /// The matters a change may touch, by their proto field names.
    public static let matters = ["holder_name", "legal_representative", "place", "scope"]

    public var licenceID: String
    public var licenceIdentifier: String
    public var licenceNumber: String
    public var licenceTypeCode: String
    public var licenceName: String
    /// New values; empty = unchanged.
    public var holderName: String
    public var legalRepresentative: String
    public var place: String
    public var scope: String
    /// The changed matters the item reviews; empty = a recorded change (备案式变更).
    public var reviewed: [String]

    public init(
        licenceID: String, licenceIdentifier: String, licenceNumber: String = "", licenceTypeCode: String = "", licenceName: String = "",
        holderName: String = "", legalRepresentative: String = "", place: String = "", scope: String = "", reviewed: [String] = []
    ) {
        self.licenceID = licenceID
        self.licenceIdentifier = licenceIdentifier
        self.licenceNumber = licenceNumber
        self.licenceTypeCode = licenceTypeCode
        self.licenceName = licenceName
        self.holderName = holderName
        self.legalRepresentative = legalRepresentative
        self.place = place
        self.scope = scope
        self.reviewed = reviewed
    }

    /// The matters this request changes, in `matters` order.
    public var changed: [String] {
        zip(Self.matters, [holderName, legalRepresentative, place, scope]).filter { !$0.1.allSatisfy(\.isWhitespace) }.map(\.0)
    }

    /// True when no changed matter needs a review: the change is recorded and re-issued at once.
    public var isRecordedOnly: Bool { reviewed.isEmpty }

    /// "变更事项：法定代表人 → 张三；地址 → …", for the decision and the case file.
    public var summary: String {
        let names = ["holder_name": "持证主体名称", "legal_representative": "法定代表人", "place": "地址", "scope": "许可范围"]
        let values = ["holder_name": holderName, "legal_representative": legalRepresentative, "place": place, "scope": scope]
        return changed.map { "\(names[$0]!) → \(values[$0]!)" }.joined(separator: "；")
    }
}

/// Whether a change application may be received (Art. 49): the holder's own licence, in force, of
/// the item applied for, at the agency that granted it, with at least one new value. Every problem
/// is a `FieldViolation` under `change`.
public enum LicenceChangeEligibility {
    public static func check(
        _ request: LicenceChangeRequest, licence: RenewableLicence, applicantCode: String, itemLicenceTypeCode: String,
        reviewMatters: [String], decidingNode: String
    ) -> Result<LicenceChangeRequest, FieldViolations> {
        var problems: [FieldViolation] = []
        let field = "change.licence.licence_identifier"
        if request.changed.isEmpty {
            problems.append(FieldViolation(field: "change", description: "至少填写一项变更后的内容（持证主体名称、法定代表人、地址或许可范围）", reason: "change.nothing"))
        }
        if licence.holderCode != applicantCode {
            problems.append(FieldViolation(field: field, description: "证照 \(licence.identifier) 的持证主体不是申请人；只有被许可人本人可以申请变更", reason: "change.not_holder"))
        }
        if !itemLicenceTypeCode.isEmpty, licence.typeCode.uppercased() != itemLicenceTypeCode.uppercased() {
            problems.append(FieldViolation(field: field, description: "证照类型 \(licence.typeCode) 不是所申请事项颁发的证照类型 \(itemLicenceTypeCode)", reason: "change.other_item"))
        }
        if !decidingNode.isEmpty, licence.issuingNode != decidingNode {
            problems.append(FieldViolation(field: field, description: "证照由 \(licence.issuingNode) 颁发；变更申请应当向作出行政许可决定的行政机关提出（《行政许可法》第四十九条）", reason: "change.other_agency"))
        }
        if !licence.inForce {
            problems.append(FieldViolation(field: field, description: "证照 \(licence.identifier) \(licence.statusText)，不能变更", reason: "change.not_in_force"))
        }
        guard problems.isEmpty else { return .failure(FieldViolations(problems)) }
        var out = request
        out.licenceID = licence.licenceID
        out.licenceIdentifier = licence.identifier
        out.licenceNumber = licence.number
        out.licenceTypeCode = licence.typeCode
        out.licenceName = licence.name
        out.reviewed = request.changed.filter(reviewMatters.contains)
        return .success(out)
    }
}
