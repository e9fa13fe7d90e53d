import Foundation
import IntakeContracts
import IntakeRules
import OneSealProto
import OneSealServiceKit
import OneSealStore
import SwiftProtobuf

/// Results coming back to the window that accepted the application: cases opened, clocks stopped
/// and restarted, decisions and later revocations or cancellations (approval), licences issued and
/// their status changes (certificate). Each updates the item's
/// progress and deadline, so the window knows when to hand the result out (出件) and the public
/// look-up shows where the case is.
///
/// An event about an application this node does not have is kept in `unmatched_events` for the
/// operator (and acknowledged, so one bad event cannot block the rest): nothing is dropped silently.
public struct IntakeEventConsumer: EventConsumer {
    let api: IntakeAPI

    public init(api: IntakeAPI) { self.api = api }

    public func consume(_ event: Events_EventEnvelope, in transaction: PostgresConnection) async throws {
        let payload = event.payload
        switch event.type {
        case Approval_CaseOpened.protoMessageName:
            let message = try Approval_CaseOpened(serializedBytes: payload)
            try await update(event, header: message.header, in: transaction) { item, _ in
                item.report(.inApproval)
                item.deadline = ReportedDeadline(proto: message.deadline)
                return "\(message.header.itemName)：已立案（\(message.header.caseNumber)）"
            }
        case Approval_ClockSuspended.protoMessageName:
            let message = try Approval_ClockSuspended(serializedBytes: payload)
            try await update(event, header: message.header, in: transaction) { item, _ in
                item.report(.suspended)
                var deadline = item.deadline ?? ReportedDeadline()
                deadline.suspended = true
                item.deadline = deadline
                // The written notice, for the applicant to read and download (Art. 45).
                guard message.suspension.hasNotice else { return "\(message.header.itemName)：暂停计时" }
                item.notices.append(IssuedDocument(proto: message.suspension.notice))
                return "\(message.header.itemName)：暂停计时（\(message.suspension.notice.title) \(message.suspension.notice.number)）"
            }
        case Approval_ClockResumed.protoMessageName:
            let message = try Approval_ClockResumed(serializedBytes: payload)
            try await update(event, header: message.header, in: transaction) { item, _ in
                item.report(.inApproval)
                item.deadline = ReportedDeadline(proto: message.deadline)
                return "\(message.header.itemName)：恢复计时"
            }
        case Approval_DeadlineExtended.protoMessageName:
            let message = try Approval_DeadlineExtended(serializedBytes: payload)
            try await update(event, header: message.header, in: transaction) { item, _ in
                item.deadline = ReportedDeadline(proto: message.deadline)
                guard message.extension.hasNotice else { return "\(message.header.itemName)：经批准延长办理期限" }
                item.notices.append(IssuedDocument(proto: message.extension.notice))
                return "\(message.header.itemName)：经批准延长办理期限（\(message.extension.notice.title) \(message.extension.notice.number)）"
            }
        case Approval_CaseDecided.protoMessageName:
            let message = try Approval_CaseDecided(serializedBytes: payload)
            try await update(event, header: message.header, in: transaction) { item, _ in
                switch message.decision.outcome {
                case .grant?:
                    item.report(.granted)
                    return "\(message.header.itemName)：准予许可"
                case .denial?:
                    item.report(.denied)
                    item.denialSummary = Self.denialSummary(message.decision)
                    return "\(message.header.itemName)：不予许可"
                case nil:
                    return nil
                }
            }
        case Approval_CaseWithdrawn.protoMessageName:
            let message = try Approval_CaseWithdrawn(serializedBytes: payload)
            try await update(event, header: message.header, in: transaction) { item, _ in
                item.report(.withdrawn)
                return "\(message.header.itemName)：申请人撤回"
            }
        case Approval_GrantRevoked.protoMessageName:
            let message = try Approval_GrantRevoked(serializedBytes: payload)
            try await ended(event, message.header, as: .revoked, "准予许可已撤销", on: message.revocation.effectiveOn, message.revocation.facts, in: transaction)
        case Approval_GrantCancelled.protoMessageName:
            let message = try Approval_GrantCancelled(serializedBytes: payload)
            try await ended(event, message.header, as: .cancelled, "行政许可已注销", on: message.cancellation.effectiveOn, message.cancellation.facts, in: transaction)
        case Certificate_LicenceStatusChanged.protoMessageName:
            let message = try Certificate_LicenceStatusChanged(serializedBytes: payload)
            try await licenceStatusChanged(event, message, in: transaction)
        case Certificate_LicenceIssued.protoMessageName:
            let message = try Certificate_LicenceIssued(serializedBytes: payload)
            var header = Approval_CaseHeader()
            header.applicationID = message.applicationID
            header.caseID = message.licence.content.caseID
            header.implementationCode = message.licence.content.implementationCode
            try await update(event, header: header, in: transaction) { item, itemName in
                item.report(.licenceIssued)
                item.licence = LicenceRef(
                    licenceIdentifier: message.licence.content.licenceIdentifier, licenceNumber: message.licence.content.licenceNumber,
                    licenceTypeCode: message.licence.content.licenceTypeCode, licenceName: message.licence.content.licenceName)
                return "\(itemName)：证照已制发（\(message.licence.content.licenceNumber)）"
            }
        default:
            try await keepUnmatched(event, reason: "intake does not consume \(event.type)", in: transaction)
        }
    }

    /// Finds the item the event is about and applies `change` (which returns the progress step).
    private func update(
        _ event: Events_EventEnvelope, header: Approval_CaseHeader, in transaction: PostgresConnection,
        _ change: (_ item: inout ItemTrack, _ itemName: String) -> String?
    ) async throws {
        let unmatched = "no application '\(header.applicationID)' at this node"
        guard let id = UUID(uuidString: header.applicationID) else { return try await keepUnmatched(event, reason: unmatched, in: transaction) }
        try await api.changingHeld(id, in: transaction) { application in
            guard let application else { return try await keepUnmatched(event, reason: unmatched, in: transaction) }
            try await update(event, header: header, application: application, in: transaction, change)
        }
    }

    /// `update` on the application found (held or read and locked).
    private func update(
        _ event: Events_EventEnvelope, header: Approval_CaseHeader, application: StoredApplication, in transaction: PostgresConnection,
        _ change: (_ item: inout ItemTrack, _ itemName: String) -> String?
    ) async throws {
        guard let pinned = application.state.items.first(where: { $0.item.implementationCode == header.implementationCode }) else {
            try await keepUnmatched(event, reason: "application \(application.number) has no item '\(header.implementationCode)'", in: transaction)
            return
        }
        _ = try await api.store(application, changedBy: { application, transaction in
            // The case's row is written in the transaction that first names the case on the item,
            // so an item already naming it has its row: the case's later events skip the insert (#21).
            let named = application.state.itemTracks.first { $0.implementationCode == header.implementationCode }?.caseID
            if !header.caseID.isEmpty, named != header.caseID {
                try await transaction.executeWithNext("""
                    INSERT INTO application_cases (case_id, application_id, implementation_code)
                    VALUES (\(header.caseID), \(application.id), \(header.implementationCode)) ON CONFLICT (case_id) DO NOTHING
                    """)
            }
            // The rules keep the further progress when old news arrives late.
            let step = application.state.updateItem(header.implementationCode) { item in
                if !header.caseID.isEmpty { item.caseID = header.caseID }
                if !header.caseNumber.isEmpty { item.caseNumber = header.caseNumber }
                if header.hasDecidingNode { item.implementingNode = NodeRef(proto: header.decidingNode) }
                return change(&item, pinned.item.name)
            } ?? nil
            return (step.map { [$0] } ?? [], [])
        }, in: transaction)
    }

    /// A grant ended after the decision by the node that made it: the item says so, with the day and
    /// the facts the applicant is told.
    private func ended(
        _ event: Events_EventEnvelope, _ header: Approval_CaseHeader, as progress: ItemProgress, _ what: String,
        on effectiveOn: Common_CivilDate, _ facts: String, in transaction: PostgresConnection
    ) async throws {
        try await update(event, header: header, in: transaction) { item, _ in
            item.report(progress)
            let since = effectiveOn.civilDate.map { "（\($0.iso8601)起）" } ?? ""
            return "\(header.itemName)：\(what)\(since)：\(facts)"
        }
    }

    /// The licence's own status, from certificate. A revocation or cancellation was already told by
    /// approval's GrantRevoked / GrantCancelled (with the facts), so it only confirms the progress
    /// (no second line); an expiry or a re-issue is news to the window and becomes a line of its own.
    private func licenceStatusChanged(
        _ event: Events_EventEnvelope, _ message: Certificate_LicenceStatusChanged, in transaction: PostgresConnection
    ) async throws {
        let rows = try await transaction.query("""
            SELECT application_id::text AS application_id, implementation_code FROM application_cases WHERE case_id = \(message.caseID)
            """)
        guard let row = rows.first else {
            try await keepUnmatched(event, reason: "no case '\(message.caseID)' at this node's window", in: transaction)
            return
        }
        var header = Approval_CaseHeader()
        header.applicationID = try row.decode("application_id", as: String.self)
        header.implementationCode = try row.decode("implementation_code", as: String.self)
        let number = message.licence.licenceNumber
        try await update(event, header: header, in: transaction) { item, itemName in
            switch message.status {
            case .revoked:
                let line = item.progress == .revoked ? nil : "\(itemName)：证照已撤销（\(number)）"
                item.report(.revoked)
                return line
            case .cancelled:
                let line = item.progress == .cancelled ? nil : "\(itemName)：证照已注销（\(number)）"
                item.report(.cancelled)
                return line
            case .expired:
                return "\(itemName)：证照已过有效期（\(number)）"
            case .superseded:
                return "\(itemName)：证照已换发（\(number) 为旧版本）"
            case .valid, .unspecified, .UNRECOGNIZED:
                return nil
            }
        }
    }

    private func keepUnmatched(_ event: Events_EventEnvelope, reason: String, in transaction: PostgresConnection) async throws {
        api.logger.warning("event kept unmatched", metadata: ["event_id": "\(event.eventID)", "type": "\(event.type)", "reason": "\(reason)"])
        try await transaction.execute("""
            INSERT INTO unmatched_events (event_id, type, source_node, reason, payload)
            VALUES (\(event.eventID), \(event.type), \(event.sourceNode), \(reason), \(Array(event.payload)))
            ON CONFLICT (event_id) DO NOTHING
            """)
    }

    /// What the clerk reads out at the window (Art. 38 ¶2): every reason and the legal basis, not
    /// just the document's title; the full decision document stays with approval.
    static func denialSummary(_ decision: Approval_Decision) -> String {
        let denial = decision.denial
        var text = "不予许可：" + (denial.reasons.isEmpty ? decision.document.title : denial.reasons.joined(separator: "；"))
        if !denial.legalBasis.isEmpty { text += "（依据：\(denial.legalBasis)）" }
        return text
    }
}
