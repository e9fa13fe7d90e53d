// Enumerations more than one service's rules use with the same cases and the same stored names
// (raw values): defined once here, so each has one mapping to the contracts
// (OneSealServiceKit/CoreEnums+Proto.swift) instead of one per service.

/// Level at which a power is exercised (行使层级), the level of a node, and of a department (四级).
public enum AdministrativeLevel: String, Sendable, Hashable, Codable, CaseIterable {
    case province, city, county, township
}

/// How an application was accepted (intake's outcome); later services check the obligations it
/// carries (approval's case, the deficiency and commitment terms).
public enum AcceptanceKind: String, Sendable, Hashable, Codable, CaseIterable {
    case complete, deficiency, commitment, deemed
}

/// Kinds of supervision findings (supervision.v1.FindingKind): what a department reports and what
/// approval acts on.
public enum FindingKind: String, Sendable, Hashable, Codable, CaseIterable {
    case inspectionResult, penalty, licenceWithdrawn, revocationRecommended, commitmentVerified, commitmentFalse, other
}
