/// One entry of an item's materials list (申请材料目录), as the window clerk checks it and the public
/// guide shows it. Mirrors `intake.v1.MaterialRequirement`; the catalogue file uses the proto names.
public struct Material: Sendable, Hashable, Codable {
    /// Stable code within the item ("M01"); applications refer to materials by it, and in a bundle
    /// the same code on several items is one shared material.
    public var code: String
    public var name: String
    public var required: Bool
    /// Forms accepted; a provided material in any other form is defective.
    public var forms: [MaterialForm]
    /// Paper copies needed (0 when only electronic).
    public var copies: Int
    public var source: MaterialSource?
    /// Who issues it ("公安机关"), required when the source is the government or an intermediary.
    public var sourceDescription: String
    /// An electronic licence of this type (证照类型代码) satisfies the material (亮证即用).
    public var licenceTypeCode: String
    public var blankFormURL: String
    public var sampleURL: String
    /// What the clerk checks (受理标准).
    public var acceptanceStandard: String
    /// A non-core material that may be missing at 容缺受理; core materials never may.
    public var deficiencyAllowed: Bool
    public var note: String

    public init(
        code: String, name: String, required: Bool = true, forms: [MaterialForm] = [.original],
        copies: Int = 1, source: MaterialSource? = .applicant, sourceDescription: String = "",
        licenceTypeCode: String = "", blankFormURL: String = "", sampleURL: String = "",
        acceptanceStandard: String = "", deficiencyAllowed: Bool = false, note: String = ""
    ) {
        self.code = code
        self.name = name
        self.required = required
        self.forms = forms
        self.copies = copies
        self.source = source
        self.sourceDescription = sourceDescription
        self.licenceTypeCode = licenceTypeCode
        self.blankFormURL = blankFormURL
        self.sampleURL = sampleURL
        self.acceptanceStandard = acceptanceStandard
        self.deficiencyAllowed = deficiencyAllowed
        self.note = note
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case code, name, required, forms, copies, source
        case sourceDescription = "source_description"
        case licenceTypeCode = "licence_type_code"
        case blankFormURL = "blank_form_url"
        case sampleURL = "sample_url"
        case acceptanceStandard = "acceptance_standard"
        case deficiencyAllowed = "deficiency_allowed"
        case note
    }
}

/// A fee charged for the item (most are free). Mirrors `intake.v1.Fee`.
public struct Fee: Sendable, Hashable, Codable {
    public var name: String
    /// In fen (分), so no fractions are ever rounded.
    public var amountFen: Int
    /// Legal basis of the fee; required when the amount is not zero.
    public var basis: String

    public init(name: String, amountFen: Int, basis: String = "") {
        self.name = name
        self.amountFen = amountFen
        self.basis = basis
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, amountFen = "amount_fen", basis
    }
}
