import ApprovalContracts
import ApprovalRules
import Foundation
import OneSealCore
import OneSealOutbox
import OneSealProto
import OneSealServiceKit
import OneSealStore
import SwiftProtobuf

/// Events approval consumes, each exactly once (the inbox row is written in the same transaction):
/// intake's acceptances (one case per item) and forwardings (with the county's first-review
/// opinion), supervision's findings (cancellation, revocation review), and certificate's issued
/// licences (so a revocation names the licence). Anything it cannot file is kept in
/// `unmatched_events` and acknowledged, never dropped.
public struct ApprovalEventConsumer: EventConsumer {
    let api: ApprovalAPI

    public init(api: ApprovalAPI) { self.api = api }

    public func consume(_ event: Events_EventEnvelope, in transaction: PostgresConnection) async throws {
        do {
            try await apply(event, in: transaction)
        } catch let error as BinaryDecodingError {
            // A payload that does not parse would otherwise be redelivered forever: keep it instead.
            try await keepUnmatched(event, reason: "payload of \(event.type) does not parse: \(error)", in: transaction)
        }
    }

    func apply(_ event: Events_EventEnvelope, in transaction: PostgresConnection) async throws {
        let source = CaseActor(subject: "\(event.sourceService)@\(event.sourceNode)", role: "node", node: event.sourceNode)
        switch event.type {
        case Intake_ApplicationAccepted.protoMessageName:
            let message = try Intake_ApplicationAccepted(serializedBytes: event.payload)
            try await openCases(message, firstReviewOpinion: "", event: event, source: source, in: transaction)
        case Intake_ApplicationForwarded.protoMessageName:
            let message = try Intake_ApplicationForwarded(serializedBytes: event.payload)
            try await openCases(message.accepted, firstReviewOpinion: message.forwarding.firstReviewOpinion, event: event, source: source, in: transaction)
        case Supervision_FindingSubmitted.protoMessageName:
            let message = try Supervision_FindingSubmitted(serializedBytes: event.payload)
            try await finding(message.finding, event: event, source: source, in: transaction)
        case Certificate_LicenceIssued.protoMessageName:
            let message = try Certificate_LicenceIssued(serializedBytes: event.payload)
            let content = message.licence.content
            let unmatched = "no case '\(content.caseID)' at node \(api.node)"
            guard let id = UUID(uuidString: content.caseID) else { return try await keepUnmatched(event, reason: unmatched, in: transaction) }
            try await api.changingHeld(id, in: transaction) { stored in
                guard let stored else { return try await keepUnmatched(event, reason: unmatched, in: transaction) }
                _ = try await api.store(stored, by: source, { state, _ in
                    state.recordLicence(LicenceInfo(identifier: content.licenceIdentifier, number: content.licenceNumber, typeCode: content.licenceTypeCode, name: content.licenceName))
                    return ApprovalAPI.Change("licence.issued", ["licence_identifier": content.licenceIdentifier, "licence_number": content.licenceNumber])
                }, in: transaction)
            }
        default:
            try await keepUnmatched(event, reason: "approval does not consume \(event.type)", in: transaction)
        }
    }

    /// One case per accepted item (materials that serve the item travel with it).
    func openCases(_ accepted: Intake_ApplicationAccepted, firstReviewOpinion: String, event: Events_EventEnvelope, source: CaseActor, in transaction: PostgresConnection) async throws {
        guard let acceptedOn = accepted.acceptedOn.civilDate, let kind = AcceptanceKind(proto: accepted.acceptanceKind), !accepted.items.isEmpty else {
            try await keepUnmatched(event, reason: "acceptance of \(accepted.applicationNumber) lacks a date, a kind or items", in: transaction)
            return
        }
        for item in accepted.items {
            if item.implementingNode.divisionCode.isEmpty == false, item.implementingNode.divisionCode != api.node {
                try await keepUnmatched(event, reason: "item \(item.implementationCode) is implemented by \(item.implementingNode.divisionCode), not \(api.node)", in: transaction)
                continue
            }
            let materials = accepted.materials
                .filter { $0.implementationCodes.isEmpty || $0.implementationCodes.contains(item.implementationCode) }
                .map(CaseMaterial.init(intake:))
            let opening = ApprovalAPI.Opening(
                applicationID: accepted.applicationID, applicationNumber: accepted.applicationNumber, bundleID: accepted.bundleID,
                acceptingNode: accepted.acceptingNode, item: ItemSnapshot(accepted: item), applicant: accepted.applicant, kind: kind,
                acceptedOn: acceptedOn, materials: materials, firstReviewOpinion: firstReviewOpinion, assignee: nil,
                renewal: accepted.hasRenewal ? accepted.renewal.subject : nil,
                change: accepted.hasChange ? accepted.change.request : nil)
            _ = try await api.open(opening, by: source, in: transaction)
        }
    }

    func finding(_ finding: Supervision_Finding, event: Events_EventEnvelope, source: CaseActor, in transaction: PostgresConnection) async throws {
        guard let id = UUID(uuidString: finding.caseID), let stored = try await CaseStore.find(id: id, forUpdate: true, on: transaction) else {
            try await keepUnmatched(event, reason: "finding \(finding.findingID) names no case of node \(api.node) ('\(finding.caseID)')", in: transaction)
            return
        }
        let kind = FindingKind(proto: finding.kind) ?? .other
        let record = FindingRecord(
            id: finding.findingID, kind: kind, departmentCode: finding.department.code, departmentName: finding.department.name, facts: finding.facts,
            occurredOn: finding.hasOccurredOn ? finding.occurredOn.civilDate : nil, receivedAt: api.clock(), effect: "")
        let on = api.today
        _ = try await api.store(stored, by: source, { state, _ in
            let effect = state.receive(record, on: on)
            let events = effect == "cancelled" ? try api.cancelled(state, id: id) : []
            return ApprovalAPI.Change("finding.received", ["finding_id": finding.findingID, "kind": kind.rawValue, "department": finding.department.code, "effect": effect],
                                      events: events)
        }, in: transaction)
    }

    func keepUnmatched(_ event: Events_EventEnvelope, reason: String, in transaction: PostgresConnection) async throws {
        api.logger.warning("event kept unmatched", metadata: ["event_id": "\(event.eventID)", "type": "\(event.type)", "reason": "\(reason)"])
        try await transaction.execute("""
            INSERT INTO unmatched_events (event_id, type, source_node, reason, payload)
            VALUES (\(event.eventID), \(event.type), \(event.sourceNode), \(reason), \(Array(event.payload)))
            ON CONFLICT (event_id) DO NOTHING
            """)
    }
}
