/// A material the applicant provided; mirrors `intake.v1.ProvidedMaterial`.
public struct ProvidedMaterial: Sendable, Hashable, Codable {
    /// `Material.code` of the requirement it satisfies.
    public var requirementCode: String
    /// Items of a bundle it serves; empty = every item that requires `requirementCode`, which is
    /// how a shared material (the business licence) is provided once for the whole bundle.
    public var implementationCodes: [String]
    public var name: String
    public var form: MaterialForm?
    public var copies: Int
    /// Stored upload or scan; nil when an electronic licence is offered instead.
    public var fileID: String?
    public var electronicLicence: LicenceRef?
    /// Result of verifying `electronicLicence` with the issuing certificate service.
    public var licenceVerified: Bool
    /// Why verification failed ("expired", "revoked", "unknown issuer" …).
    public var licenceVerificationDetail: String

    public init(
        requirementCode: String, implementationCodes: [String] = [], name: String = "", form: MaterialForm?,
        copies: Int = 1, fileID: String? = nil, electronicLicence: LicenceRef? = nil,
        licenceVerified: Bool = false, licenceVerificationDetail: String = ""
    ) {
        self.requirementCode = requirementCode
        self.implementationCodes = implementationCodes
        self.name = name
        self.form = form
        self.copies = copies
        self.fileID = fileID
        self.electronicLicence = electronicLicence
        self.licenceVerified = licenceVerified
        self.licenceVerificationDetail = licenceVerificationDetail
    }

    /// Whether it is offered for the item `implementationCode`.
    public func serves(_ implementationCode: String) -> Bool {
        implementationCodes.isEmpty || implementationCodes.contains(implementationCode)
    }
}

/// Something wrong with the materials, as the automatic check finds it and a correction notice
/// lists it; mirrors `intake.v1.MaterialProblem`.
public struct MaterialProblem: Sendable, Hashable, Codable {
    /// The item it concerns; empty = every item of the bundle (a shared material).
    public var implementationCode: String
    public var requirementCode: String
    public var materialName: String
    public var kind: MaterialProblemKind
    /// What exactly to supply or fix, in words the applicant understands.
    public var howToFix: String

    public init(implementationCode: String, requirementCode: String, materialName: String, kind: MaterialProblemKind, howToFix: String) {
        self.implementationCode = implementationCode
        self.requirementCode = requirementCode
        self.materialName = materialName
        self.kind = kind
        self.howToFix = howToFix
    }

    /// Identity of the problem for comparing a notice with the check: which material of which item.
    /// The wording of `howToFix` is the clerk's and may differ.
    public var key: MaterialKey { MaterialKey(implementationCode: implementationCode, requirementCode: requirementCode) }
}

/// A material of an item; `implementationCode` empty means the material shared by every item of
/// the bundle that lists the code.
public struct MaterialKey: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var implementationCode: String
    public var requirementCode: String

    public init(implementationCode: String, requirementCode: String) {
        self.implementationCode = implementationCode
        self.requirementCode = requirementCode
    }

    public static func < (lhs: MaterialKey, rhs: MaterialKey) -> Bool {
        (lhs.implementationCode, lhs.requirementCode) < (rhs.implementationCode, rhs.requirementCode)
    }

    public var description: String {
        implementationCode.isEmpty ? requirementCode : "\(implementationCode)/\(requirementCode)"
    }
}
