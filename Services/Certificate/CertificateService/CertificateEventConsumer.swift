import CertificateRules
import Foundation
import GRPCCore
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealStore
import SwiftProtobuf

/// Approval's decisions, applied exactly once (the inbox row is in the same transaction): a grant
/// becomes a licence; a revocation (撤销) or cancellation (注销) of a grant changes its licence's
/// status. Events this service cannot apply (no licence for the case, an invalid grant) are kept in
/// `unmatched_events` for the operator and acknowledged, so one bad event never blocks the rest.
public struct CertificateEventConsumer: EventConsumer {
    let api: CertificateAPI

    public init(api: CertificateAPI) { self.api = api }

    public func consume(_ event: Events_EventEnvelope, in transaction: PostgresConnection) async throws {
        let payload = event.payload
        switch event.type {
        case Approval_CaseDecided.protoMessageName:
            let message = try Approval_CaseDecided(serializedBytes: payload)
            guard case .grant(let grant)? = message.decision.outcome else { return }  // a denial issues nothing
            guard !message.item.licenceTypeCode.isEmpty else {
                api.logger.info("grant without a licence type: nothing to issue", metadata: ["case": "\(message.header.caseID)"])
                return
            }
            let input = IssueInput(decided: message, grant: grant)
            let violations = api.problems(input)
            guard violations.isEmpty else {
                try await keepUnmatched(event, reason: "grant cannot be issued: " + violations.map { "\($0.field): \($0.description_p)" }.joined(separator: "; "), in: transaction)
                return
            }
            do {
                if message.hasChange {
                    _ = try await api.applyChange(input, change: message.change, actor: "approval@\(event.sourceNode)", in: transaction)
                } else if message.hasRenewal {
                    _ = try await api.renew(input, renewal: message.renewal, actor: "approval@\(event.sourceNode)", in: transaction)
                } else {
                    _ = try await api.issue(input, actor: "approval@\(event.sourceNode)", in: transaction)
                }
            } catch let error as RPCError where error.code == .failedPrecondition {
                try await keepUnmatched(event, reason: error.message, in: transaction)
            }
        case Approval_GrantRevoked.protoMessageName:
            let message = try Approval_GrantRevoked(serializedBytes: payload)
            let ground = Self.groundCode(message.revocation.ground)
            try await change(event, header: message.header, licence: message.licence, to: .revoked,
                             reason: message.revocation.facts.isEmpty ? "依法撤销行政许可" : message.revocation.facts,
                             ground: ground, effectiveOn: message.revocation.hasEffectiveOn ? message.revocation.effectiveOn.civilDate : nil, in: transaction)
        case Approval_GrantCancelled.protoMessageName:
            let message = try Approval_GrantCancelled(serializedBytes: payload)
            try await change(event, header: message.header, licence: message.licence, to: .cancelled,
                             reason: message.cancellation.facts.isEmpty ? "依法办理注销手续" : message.cancellation.facts,
                             ground: Self.groundCode(message.cancellation.ground),
                             effectiveOn: message.cancellation.hasEffectiveOn ? message.cancellation.effectiveOn.civilDate : nil, in: transaction)
        default:
            try await keepUnmatched(event, reason: "certificate does not consume \(event.type)", in: transaction)
        }
    }

    private func change(
        _ event: Events_EventEnvelope, header: Approval_CaseHeader, licence ref: Common_LicenceRef, to act: LicenceAct,
        reason: String, ground: String, effectiveOn: CivilDate?, in transaction: PostgresConnection
    ) async throws {
        var licence: StoredLicence?
        if !ref.licenceIdentifier.isEmpty {
            licence = try await LicenceStore.find(identifier: ref.licenceIdentifier.uppercased(), forUpdate: true, on: transaction)
        }
        if licence == nil, !header.caseID.isEmpty, let first = try await LicenceStore.find(caseID: header.caseID, on: transaction) {
            licence = try await LicenceStore.latest(serial: first.serial, forUpdate: true, on: transaction)
        }
        guard let licence else {
            try await keepUnmatched(event, reason: "no licence '\(ref.licenceIdentifier)' for case '\(header.caseID)' at this node", in: transaction)
            return
        }
        do {
            _ = try await api.changeStatus(licence, to: act, reason: reason, groundCode: ground, effectiveOn: effectiveOn, actor: "approval@\(event.sourceNode)", in: transaction)
        } catch let error as LicenceStatusError {
            try await keepUnmatched(event, reason: error.description, in: transaction)
        }
    }

    /// The ground's name as approval.v1 spells it (`fraudOrBribery` → `FRAUD_OR_BRIBERY`).
    static func groundCode(_ value: some Any) -> String {
        var out = ""
        for character in "\(value)" {
            if character.isUppercase { out += "_" }
            out += character.uppercased()
        }
        return out
    }

    private func keepUnmatched(_ event: Events_EventEnvelope, reason: String, in transaction: PostgresConnection) async throws {
        api.logger.warning("event kept unmatched", metadata: ["event_id": "\(event.eventID)", "type": "\(event.type)", "reason": "\(reason)"])
        try await transaction.execute("""
            INSERT INTO unmatched_events (event_id, type, source_node, reason, payload)
            VALUES (\(event.eventID), \(event.type), \(event.sourceNode), \(reason), \(Array(event.payload)))
            ON CONFLICT (event_id) DO NOTHING
            """)
    }
}
