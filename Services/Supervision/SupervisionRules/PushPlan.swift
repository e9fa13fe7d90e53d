import Foundation
import OneSealCore

/// A fact another service reported that supervision pushes: a grant (approval), a licence issued or
/// re-issued (certificate), a revocation or cancellation (approval, and certificate's status change
/// for the same licence).
public struct PushSource: Sendable, Hashable {
    public enum Fact: Sendable, Hashable {
        /// A grant; `commitment` when the application was accepted by 告知承诺 (the department verifies it).
        case grant(commitment: Bool)
        /// A licence issued; `version` "001" is the first issue, anything later is a change / re-issue.
        case licenceIssued(licenceIdentifier: String, version: String)
        case revoked
        case cancelled
        /// Decisions and status changes supervision does not push (denials, expiries …).
        case notPushed(reason: String)
    }

    public var fact: Fact
    public var caseID: String
    public var implementationCode: String

    public init(fact: Fact, caseID: String, implementationCode: String) {
        self.fact = fact
        self.caseID = caseID
        self.implementationCode = implementationCode
    }

    /// What kind of push the fact makes (nil: nothing to push).
    public var kind: PushKind? {
        switch fact {
        case .grant(let commitment): commitment ? .commitment : .grant
        case .licenceIssued(_, let version): (version.isEmpty || version == "001") ? .licence : .change
        case .revoked: .revocation
        case .cancelled: .cancellation
        case .notPushed: nil
        }
    }

    /// The identity of the pushed fact, so each department gets it once however many events report it:
    /// approval's GrantRevoked and certificate's LicenceStatusChanged name the same revocation, and a
    /// redelivered event names the same grant. Stored unique with the department code.
    public var subjectKey: String? {
        switch fact {
        case .grant: "grant:\(caseID)"
        case .licenceIssued(let identifier, let version): "licence:\(identifier):\(version)"
        case .revoked: "revocation:\(caseID)"
        case .cancelled: "cancellation:\(caseID)"
        case .notPushed: nil
        }
    }
}

/// The pushes one fact makes: one per responsible department, in boundary-list order, without repeats.
public enum PushPlanner {
    public struct Planned: Sendable, Hashable {
        public var kind: PushKind
        public var subjectKey: String
        public var department: SupervisingDepartment
    }

    public static func plan(_ source: PushSource, boundary: BoundaryList) -> [Planned] {
        guard let kind = source.kind, let key = source.subjectKey else { return [] }
        var seen = Set<String>()
        return boundary.responsibleDepartments(for: source.implementationCode).compactMap { department in
            guard seen.insert(department.code).inserted else { return nil }
            return Planned(kind: kind, subjectKey: key, department: department)
        }
    }
}
