import Foundation
import OneSealCore
import OneSealOutbox
import OneSealPrivacy
import OneSealProto
import OneSealServiceKit
import OneSealStore
import SupervisionRules
import SwiftProtobuf

/// Grants, licences, revocations and cancellations coming from approval and certificate: each becomes
/// one push per responsible department (boundary list). Runs inside the inbox transaction, so a
/// redelivered event has no second effect; the (fact, department) uniqueness of pushes covers two
/// services reporting the same revocation.
///
/// Every event is recorded in `source_events` with what became of it; events of a type supervision
/// does not consume are kept there with their payload, never dropped.
public struct SupervisionEventConsumer: EventConsumer {
    let api: SupervisionAPI

    public init(api: SupervisionAPI) { self.api = api }

    public func consume(_ event: Events_EventEnvelope, in transaction: PostgresConnection) async throws {
        do {
            try await apply(event, in: transaction)
        } catch let error as SwiftProtobuf.BinaryDecodingError {
            // A payload that does not decode would be redelivered forever and block the queue behind
            // it: keep it for the operator and acknowledge it.
            try await unfileable(event, reason: "payload does not decode as \(event.type): \(error)", in: transaction)
        } catch let error as Unfileable {
            try await unfileable(event, reason: error.reason, in: transaction)
        }
    }

    /// An event supervision consumes but cannot act on (no case, no item): kept with its payload.
    struct Unfileable: Error { var reason: String }

    private func unfileable(_ event: Events_EventEnvelope, reason: String, in transaction: PostgresConnection) async throws {
        api.logger.warning("event kept unfileable", metadata: ["event_id": "\(event.eventID)", "type": "\(event.type)", "reason": "\(reason)"])
        try await SourceEventStore.record(
            eventID: event.eventID, type: event.type, sourceNode: event.sourceNode, caseID: "", implementationCode: "",
            outcome: .unfileable, pushes: 0, note: reason, payload: Array(event.payload), in: transaction)
    }

    private func apply(_ event: Events_EventEnvelope, in transaction: PostgresConnection) async throws {
        let payload = event.payload
        switch event.type {
        case Approval_CaseDecided.protoMessageName:
            let message = try Approval_CaseDecided(serializedBytes: payload)
            guard case .grant(let grant)? = message.decision.outcome else {
                try await record(event, caseID: message.header.caseID, item: message.header.implementationCode, .notPushed, note: "not a grant: nothing to supervise", in: transaction)
                return
            }
            var push = template(message.header, sourceNode: event.sourceNode)
            // Only what supervision needs of the holder (docs/law.md#supervision-push: item, holder, licence …), stored
            // already in the supervisory shape of the one disclosure rule (`Disclosure`).
            push.holder = message.applicant.disclosed(.supervisory)
            push.scope = grant.scope
            push.conditions = grant.conditions
            push.place = grant.place
            if grant.hasValidFrom { push.validFrom = grant.validFrom }
            if grant.hasValidUntil { push.validUntil = grant.validUntil }
            push.decidedOn = message.decision.decidedOn
            push.acceptanceKind = message.acceptanceKind
            push.licence = Common_LicenceRef.with { $0.licenceTypeCode = message.item.licenceTypeCode; $0.licenceName = message.item.licenceName }
            let sourceAt = message.decision.hasDecidedAt ? message.decision.decidedAt.date : api.clock()
            try await api.createPushes(
                PushSource(fact: .grant(commitment: message.acceptanceKind == .commitment), caseID: message.header.caseID, implementationCode: message.header.implementationCode),
                template: push, sourceAt: sourceAt, sourceOn: message.decision.decidedOn.civilDate ?? CivilDate(sourceAt), event: event, in: transaction)
        case Approval_GrantRevoked.protoMessageName:
            let message = try Approval_GrantRevoked(serializedBytes: payload)
            var push = template(message.header, sourceNode: event.sourceNode)
            push.licence = message.licence
            push.reason = ["撤销", message.revocation.facts].filter { !$0.isEmpty }.joined(separator: "：")
            push.decidedOn = message.revocation.effectiveOn
            let sourceAt = api.clock()
            try await api.createPushes(
                PushSource(fact: .revoked, caseID: message.header.caseID, implementationCode: message.header.implementationCode),
                template: push, sourceAt: sourceAt, sourceOn: message.revocation.effectiveOn.civilDate ?? CivilDate(sourceAt), event: event, in: transaction)
        case Approval_GrantCancelled.protoMessageName:
            let message = try Approval_GrantCancelled(serializedBytes: payload)
            var push = template(message.header, sourceNode: event.sourceNode)
            push.licence = message.licence
            push.reason = ["注销", message.cancellation.facts].filter { !$0.isEmpty }.joined(separator: "：")
            push.decidedOn = message.cancellation.effectiveOn
            let sourceAt = api.clock()
            try await api.createPushes(
                PushSource(fact: .cancelled, caseID: message.header.caseID, implementationCode: message.header.implementationCode),
                template: push, sourceAt: sourceAt, sourceOn: message.cancellation.effectiveOn.civilDate ?? CivilDate(sourceAt), event: event, in: transaction)
        case Certificate_LicenceIssued.protoMessageName:
            let message = try Certificate_LicenceIssued(serializedBytes: payload)
            let content = message.licence.content
            var push = Supervision_Push()
            push.caseID = content.caseID
            push.caseNumber = content.caseNumber
            push.implementationCode = content.implementationCode
            push.itemName = content.licenceName
            push.holder = Self.holder(name: content.holderName, code: content.holderCode, type: content.holderCodeType)
            push.licence = Common_LicenceRef.with {
                $0.licenceIdentifier = content.licenceIdentifier
                $0.licenceNumber = content.licenceNumber
                $0.licenceTypeCode = content.licenceTypeCode
                $0.licenceName = content.licenceName
            }
            push.licenceVersion = content.version
            if content.hasValidFrom { push.validFrom = content.validFrom }
            if content.hasValidUntil { push.validUntil = content.validUntil }
            push.decidedOn = content.issueDate
            push.scope = content.scope
            push.conditions = content.conditions
            push.place = content.place
            push.sourceNode = content.issuingNode.isEmpty ? event.sourceNode : content.issuingNode
            let sourceAt = message.licence.hasIssuedAt ? message.licence.issuedAt.date : api.clock()
            try await api.createPushes(
                PushSource(fact: .licenceIssued(licenceIdentifier: content.licenceIdentifier, version: content.version), caseID: content.caseID, implementationCode: content.implementationCode),
                template: push, sourceAt: sourceAt, sourceOn: content.issueDate.civilDate ?? CivilDate(sourceAt), event: event, in: transaction)
        case Certificate_LicenceStatusChanged.protoMessageName:
            let message = try Certificate_LicenceStatusChanged(serializedBytes: payload)
            let fact: PushSource.Fact
            switch message.status {
            case .revoked: fact = .revoked
            case .cancelled: fact = .cancelled
            default:
                try await record(event, caseID: message.caseID, item: message.implementationCode, .notPushed, note: "licence status \(message.status): nothing to push", in: transaction)
                return
            }
            var push = Supervision_Push()
            push.caseID = message.caseID
            push.implementationCode = message.implementationCode
            push.itemName = message.licence.licenceName
            push.holder = Common_Applicant.with { $0.name = message.holderName; $0.masked = true }
            push.licence = message.licence
            push.reason = [message.status == .revoked ? "撤销" : "注销", message.reason].filter { !$0.isEmpty }.joined(separator: "：")
            push.decidedOn = message.effectiveOn
            push.sourceNode = event.sourceNode
            let sourceAt = api.clock()
            try await api.createPushes(
                PushSource(fact: fact, caseID: message.caseID, implementationCode: message.implementationCode),
                template: push, sourceAt: sourceAt, sourceOn: message.effectiveOn.civilDate ?? CivilDate(sourceAt), event: event, in: transaction)
        default:
            api.logger.warning("event kept unconsumed", metadata: ["event_id": "\(event.eventID)", "type": "\(event.type)"])
            try await SourceEventStore.record(
                eventID: event.eventID, type: event.type, sourceNode: event.sourceNode, caseID: "", implementationCode: "",
                outcome: .unknownType, pushes: 0, note: "supervision does not consume \(event.type)", payload: Array(event.payload), in: transaction)
        }
    }

    private func template(_ header: Approval_CaseHeader, sourceNode: String) -> Supervision_Push {
        var push = Supervision_Push()
        push.caseID = header.caseID
        push.caseNumber = header.caseNumber
        push.implementationCode = header.implementationCode
        push.itemName = header.itemName
        push.sourceNode = header.decidingNode.divisionCode.isEmpty ? sourceNode : header.decidingNode.divisionCode
        return push
    }

    private func record(_ event: Events_EventEnvelope, caseID: String, item: String, _ outcome: SourceEventStore.Outcome, note: String, in transaction: PostgresConnection) async throws {
        try await SourceEventStore.record(eventID: event.eventID, type: event.type, sourceNode: event.sourceNode, caseID: caseID, implementationCode: item,
                                          outcome: outcome, pushes: 0, note: note, payload: nil, in: transaction)
    }

    /// The holder as a push shows it; the code normalised as everywhere (a peer's event may carry it
    /// as typed), a personal one masked.
    static func holder(name: String, code: String, type: Certificate_HolderCodeType) -> Common_Applicant {
        let code = IdentityCode.normalized(code)
        return Common_Applicant.with {
            $0.name = name
            switch type {
            case .uscc:
                $0.kind = .legalPerson
                $0.idType = .uscc
                $0.idNumber = code
            case .residentID:
                $0.kind = .naturalPerson
                $0.idType = .residentID
                $0.idNumber = Masking.idNumber(code)
            default:
                $0.idType = .other
                $0.idNumber = Masking.idNumber(code)
            }
            $0.masked = true
        }
    }
}
