import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealProto
import OneSealServiceKit

/// Who may act on *which* application — the per-object half of authorization (the method table in
/// `IntakeServiceDefinition.policy` is the per-method half). docs/security.md lists the rule of
/// every method; `ApplicationAccessTests` has a row per rule.
///
/// - This node's window clerks act on every application of their node (the method table already
///   limits window acts to them).
/// - An applicant token acts only on applications where its subject is the applicant's or the
///   agent's ID number (resident ID or USCC, compared by keyed blind index, case-insensitively).
/// - An integrator acts only on the applications it submitted itself.
/// - Staff readers (officers, directors, evaluators, operators …) of this node may read, never act;
///   the back office of the node an application was forwarded to reads it too (its materials:
///   the only method whose table admits the node above).
/// - Services of this and trusted nodes (role node) act as the event flow needs.
extension IntakeAPI {
    enum Act: String {
        case read, correct, withdraw
        /// Choosing how the result is delivered (ChooseDelivery): the person's own act.
        case chooseDelivery = "choose the delivery of"
    }

    /// The blind index an applicant token's subject must match. The index normalises the code
    /// (`IdentityCode.normalized`), so "91371302ma3c1234x7" and the stored "91371302MA3C1234X7"
    /// are the same company.
    func subjectIndex(_ subject: String) -> [UInt8] {
        keyring.blindIndex(subject, purpose: "id_number")
    }

    /// The keyed index of the submitter, "role:subject".
    func submitterIndex(_ caller: Caller) -> [UInt8] {
        keyring.blindIndex("\(caller.role.rawValue):\(caller.subject)", purpose: "submitter")
    }

    /// Whether `caller` is the person the application is about (its applicant or agent).
    func isDataSubject(_ application: StoredApplication, _ caller: Caller?) -> Bool {
        guard let caller, caller.role == .applicant else { return false }
        let mine = subjectIndex(caller.subject)
        return application.applicantIndex == mine || application.agentIndex == mine
    }

    /// Refuses `act` on `application` by `caller` with PERMISSION_DENIED unless the rule allows it.
    /// The message does not say whose the application is.
    func authorize(_ act: Act, on application: StoredApplication, by caller: Caller) throws {
        let allowed: Bool
        // The delivery choice is the applicant's (or their agent's) alone: the method table admits
        // only applicant tokens; the per-object rule is theirs below.
        if act == .chooseDelivery, caller.role != .applicant {
            throw RPCError(code: .permissionDenied, message: "only the applicant chooses how the result of \(application.number) is delivered")
        }
        switch caller.role {
        case .windowClerk: allowed = caller.node == node
        case .peerNode: allowed = true
        case .applicant: allowed = isDataSubject(application, caller)
        case .integrator: allowed = application.submitterIndex == submitterIndex(caller)
        case .officer, .sectionChief, .deputyDirector, .director:
            // The back office of this node, or of the node the application was forwarded to
            // (审核转报: the case, and its 案卷, are there).
            allowed = act == .read && (caller.node == node || application.state.forwarding?.toNode.divisionCode == caller.node)
        case .evaluator, .leader, .operator, .certificateOperator, .department:
            allowed = act == .read && caller.node == node
        }
        guard allowed else {
            throw RPCError(
                code: .permissionDenied,
                message: "a \(caller.role.rawValue) token may not \(act.rawValue) application \(application.number): it is not one this token's holder submitted or is named in")
        }
    }

    /// An applicant token submits only in its own name: the applicant or the agent must be the
    /// token's subject (the online hall signs its calls with the person's own token).
    func authorizeSubmission(_ request: Intake_SubmitApplicationRequest, by caller: Caller) throws {
        guard caller.role == .applicant else { return }
        let subject = IdentityCode.normalized(caller.subject)
        let named = [request.applicant.idNumber] + (request.hasAgent ? [request.agent.idNumber] : [])
        guard named.contains(where: { IdentityCode.normalized($0) == subject }) else {
            throw RPCError(
                code: .permissionDenied,
                message: "an applicant token submits only in its own name: applicant.id_number or agent.id_number must be the token's subject")
        }
    }
}
