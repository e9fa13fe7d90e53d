import OneSealCore
/// A node (service hall) named by its GB/T 2260 division code; mirrors `common.v1.NodeRef`.
public struct NodeRef: Sendable, Hashable, Codable {
    /// Six digits, e.g. "371300" 临沂市; the identity of the node.
    public var divisionCode: String
    /// Display name, informational.
    public var name: String
    public var level: AdministrativeLevel?

    public init(divisionCode: String, name: String = "", level: AdministrativeLevel? = nil) {
        self.divisionCode = divisionCode
        self.name = name
        self.level = level
    }

    enum CodingKeys: String, CodingKey {
        case divisionCode = "division_code", name, level
    }

    /// True for six ASCII digits, the shape of a GB/T 2260 code.
    public static func isDivisionCode(_ text: String) -> Bool {
        text.utf8.count == 6 && text.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
    }
}

/// A department or section; mirrors `common.v1.DepartmentRef`.
public struct DepartmentRef: Sendable, Hashable, Codable {
    /// The department's USCC when it has one, otherwise the code the node's configuration gives it.
    public var code: String
    public var name: String
    /// Division code of the node the department belongs to.
    public var node: String

    public init(code: String, name: String, node: String = "") {
        self.code = code
        self.name = name
        self.node = node
    }
}

/// Names an electronic licence offered as a material; mirrors `common.v1.LicenceRef`.
public struct LicenceRef: Sendable, Hashable, Codable {
    public var licenceIdentifier: String
    public var licenceNumber: String
    public var licenceTypeCode: String
    public var licenceName: String

    public init(licenceIdentifier: String = "", licenceNumber: String = "", licenceTypeCode: String = "", licenceName: String = "") {
        self.licenceIdentifier = licenceIdentifier
        self.licenceNumber = licenceNumber
        self.licenceTypeCode = licenceTypeCode
        self.licenceName = licenceName
    }

    enum CodingKeys: String, CodingKey {
        case licenceIdentifier = "licence_identifier", licenceNumber = "licence_number"
        case licenceTypeCode = "licence_type_code", licenceName = "licence_name"
    }
}
