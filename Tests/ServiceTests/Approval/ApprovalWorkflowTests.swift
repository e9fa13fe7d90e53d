import ApprovalRules
import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealStore
import Testing
@testable import ApprovalService

@Suite("Approval service: work queue, precise refusals, withdrawal, replicas", .serialized)
struct ApprovalWorkflowTests {
    typealias F = ApprovalFixtures
    static let code = "000117016000371302002"
    static let monday = CivilDate(year: 2026, month: 9, day: 21)!

    @Test("delegation and reassignment through RPC; stale revisions, wrong roles and other sections are refused precisely")
    func queue() async throws {
        try await withApprovalNode(today: Self.monday) { node in
            let id = try #require(try await node.accept([F.item(Self.code, tier: .section)])[Self.code]).caseID
            let claimed = try await node.approval.claimStep(Approval_ClaimStepRequest.with { $0.caseID = id }, metadata: try node.officer)
            #expect(claimed.case.steps[0].assignee.subject == "officer-li")
            // An officer of another section cannot take or sign it.
            let other = try node.metadata(.officer, "officer-wu", department: "SC-09")
            await #expect {
                _ = try await node.approval.reviewStep(Approval_ReviewStepRequest.with { $0.caseID = id; $0.conclusion = .proposeGrant; $0.opinion = F.review }, metadata: other)
            } throws: { error in
                let failure = rpcFailure(error)
                return failure?.code == .permissionDenied && failure!.message.contains("SC-09")
            }
            // Officers cannot reassign (not in the method's roles); the chief can.
            await #expect {
                _ = try await node.approval.reassign(Approval_ReassignRequest.with { $0.caseID = id; $0.newAssigneeSubject = "officer-wang"; $0.reason = "调整" }, metadata: try node.officer)
            } throws: { rpcFailure($0)?.code == .permissionDenied }
            let reassigned = try await node.approval.reassign(Approval_ReassignRequest.with { $0.caseID = id; $0.newAssigneeSubject = "officer-wang"; $0.reason = "承办人出差，工作量调整" }, metadata: try node.chief)
            #expect(reassigned.case.steps[0].assignee.subject == "officer-wang")
            // officer-wang delegates back to officer-li while on leave.
            let delegated = try await node.approval.delegateStep(Approval_DelegateStepRequest.with {
                $0.caseID = id; $0.delegateSubject = "officer-li"; $0.reason = "年休假 09-22 至 09-25"
            }, metadata: try node.officer2)
            #expect(delegated.case.steps[0].delegatedBy.subject == "officer-wang")
            #expect(delegated.case.steps[0].delegationReason.contains("年休假"))
            // A stale revision is refused; a vague opinion is named.
            await #expect {
                _ = try await node.approval.reviewStep(Approval_ReviewStepRequest.with {
                    $0.caseID = id; $0.conclusion = .proposeGrant; $0.opinion = F.review; $0.expectedRevision = claimed.case.revision
                }, metadata: try node.officer)
            } throws: { error in
                let failure = rpcFailure(error)
                return failure?.code == .failedPrecondition && failure!.message.contains("changed since you read it")
            }
            await #expect {
                _ = try await node.approval.reviewStep(Approval_ReviewStepRequest.with { $0.caseID = id; $0.opinion = "已阅" }, metadata: try node.officer)
            } throws: { error in
                let failure = rpcFailure(error)
                return failure?.code == .invalidArgument && failure!.fields == ["conclusion", "opinion"] && failure!.reasons.contains("opinion.too_vague")
            }
            let reviewed = try await node.approval.reviewStep(Approval_ReviewStepRequest.with {
                $0.caseID = id; $0.conclusion = .proposeGrant; $0.opinion = F.review; $0.expectedRevision = delegated.case.revision
            }, metadata: try node.officer)
            #expect(reviewed.case.steps[0].completedBy.subject == "officer-li")
            let steps = OutboxRows.of(Approval_StepCompleted.self, in: try await node.outbox())
            #expect(steps.map(\.destination) == ["evaluation@371302"])
            // Paging through a work list.
            _ = try await node.accept([F.item(Self.code, tier: .section)])
            let first = try await node.approval.listCases(Approval_ListCasesRequest.with { $0.page.pageSize = 1 }, metadata: try node.director)
            #expect(first.cases.count == 1)
            #expect(first.page.totalSize == 2)
            let second = try await node.approval.listCases(Approval_ListCasesRequest.with { $0.page.pageSize = 1; $0.page.pageToken = first.page.nextPageToken }, metadata: try node.director)
            #expect(second.cases.count == 1)
            #expect(second.cases[0].caseID != first.cases[0].caseID)
            #expect(second.page.nextPageToken.isEmpty)
            await #expect {
                _ = try await node.approval.listCases(Approval_ListCasesRequest.with { $0.page.pageToken = "x" }, metadata: try node.director)
            } throws: { rpcFailure($0)?.fields == ["page.page_token"] }
        }
    }

    @Test("a change starts from the case this process holds; a copy the row moved on from, or a refusal made on it, runs again on the stored row (#21 step 17)")
    func heldCopies() async throws {
        try await withApprovalNode(today: Self.monday) { node in
            let id = try #require(try await node.accept([F.item(Self.code, tier: .section)])[Self.code]).caseID
            let caseID = try #require(UUID(uuidString: id))
            // The opening remembered the case it wrote; each change starts from that copy.
            #expect(CaseStore.heldStates.entry(caseID)?.revision == 1)
            let claimed = try await node.approval.claimStep(Approval_ClaimStepRequest.with { $0.caseID = id }, metadata: try node.officer)
            #expect(CaseStore.heldStates.entry(caseID)?.revision == claimed.case.revision)
            // Another process writes the row: the copy held here is now one revision behind it.
            try await node.database.execute("UPDATE cases SET revision = revision + 1 WHERE id = \(caseID)")
            // The officer read the row as it is: on the held copy the revisions differ (a refusal),
            // so the change runs again on the stored row, where they agree.
            let reviewed = try await node.approval.reviewStep(Approval_ReviewStepRequest.with {
                $0.caseID = id; $0.conclusion = .proposeGrant; $0.opinion = F.review; $0.expectedRevision = claimed.case.revision + 1
            }, metadata: try node.officer)
            #expect(reviewed.case.revision == claimed.case.revision + 2)
            #expect(reviewed.case.steps[0].completedBy.subject == "officer-li")
            // Written once: one audit entry for the review, and the chain holds.
            let reviews = try await node.database.query("SELECT count(*) AS n FROM audit_entries WHERE case_id = \(id) AND action LIKE 'step.review%'")
                .one().decode("n", as: Int.self)
            #expect(reviews == 1)
            // Another row version at the same revision (the copy's write finds the row moved on).
            try await node.database.execute("UPDATE cases SET state = state WHERE id = \(caseID)")
            await #expect {
                _ = try await node.approval.reviewStep(Approval_ReviewStepRequest.with {
                    $0.caseID = id; $0.conclusion = .proposeGrant; $0.opinion = F.review; $0.expectedRevision = claimed.case.revision + 1
                }, metadata: try node.officer)
            } throws: { error in
                // Answered from the stored row: the revision the row has, not the copy's.
                let failure = rpcFailure(error)
                return failure?.code == .failedPrecondition && failure!.message.contains("revision \(reviewed.case.revision)")
            }
            let stored = try #require(try await node.database.withConnection { try await CaseStore.find(id: caseID, on: $0) })
            #expect(stored.revision == reviewed.case.revision)
        }
    }

    @Test("the work list pages by key: every open case once, in due-date order, with a case filed between pages and with the work list's own filters")
    func keysetPages() async throws {
        try await withApprovalNode(today: Self.monday) { node in
            // Seven cases accepted over four days (different due dates), two of the same day.
            var accepted: [String] = []
            for offset in [3, 0, 2, 0, 1, 3, 2] {
                let day = Self.monday.adding(days: -offset)
                accepted.append(try #require(try await node.accept([F.item(Self.code, tier: .section)], acceptedOn: day)[Self.code]).caseID)
            }
            func page(_ token: String) async throws -> Approval_ListCasesResponse {
                try await node.approval.listCases(Approval_ListCasesRequest.with {
                    $0.statuses = [.inProgress, .suspended]; $0.nextRole = .officer; $0.unassignedOnly = true
                    $0.page.pageSize = 3; $0.page.pageToken = token
                }, metadata: try node.director)
            }
            let first = try await page("")
            #expect(first.cases.count == 3 && first.page.totalSize == 7 && !first.page.nextPageToken.isEmpty)
            // Filed after the first page was read: it sorts last (latest due date) and is not lost.
            let late = try #require(try await node.accept([F.item(Self.code, tier: .section)])[Self.code]).caseID
            var seen = first.cases
            var token = first.page.nextPageToken
            while !token.isEmpty {
                let next = try await page(token)
                seen += next.cases
                token = next.page.nextPageToken
            }
            #expect(seen.map(\.caseID).sorted() == (accepted + [late]).sorted())
            #expect(Set(seen.map(\.caseID)).count == seen.count)
            let keys = seen.map { ($0.deadline.dueOn.civilDate!, $0.acceptedOn.civilDate!) }
            #expect(zip(keys, keys.dropFirst()).allSatisfy { $0 <= $1 })
            // Claimed by the officer: leaves the unassigned queue, appears under the assignee.
            _ = try await node.approval.claimStep(Approval_ClaimStepRequest.with { $0.caseID = seen[0].caseID }, metadata: try node.officer)
            #expect(try await page("").page.totalSize == 7)
            let mine = try await node.approval.listCases(Approval_ListCasesRequest.with {
                $0.statuses = [.inProgress, .suspended]; $0.assigneeSubject = "officer-li"
            }, metadata: try node.director)
            #expect(mine.cases.map(\.caseID) == [seen[0].caseID])
            // A token altered or from elsewhere is refused by its field.
            for bad in ["c1.", "c1.bm9wZQ", "c1." + Base64URL.encode(Array("2026-13-01|2026-09-21|X".utf8)), "12", String(repeating: "c", count: 300)] {
                await #expect {
                    _ = try await page(bad)
                } throws: { rpcFailure($0)?.fields == ["page.page_token"] }
            }
        }
    }

    @Test("withdrawal by the window: intake and evaluation told; nothing can follow; an item of another node opens no case")
    func withdrawal() async throws {
        try await withApprovalNode(today: Self.monday) { node in
            let id = try #require(try await node.accept([F.item(Self.code, tier: .section)])[Self.code]).caseID
            await #expect {
                _ = try await node.approval.withdraw(Approval_WithdrawRequest.with { $0.caseID = id }, metadata: try node.metadata(.windowClerk, "clerk-07"))
            } throws: { rpcFailure($0)?.fields == ["withdrawal.reason"] }
            let withdrawn = try await node.approval.withdraw(Approval_WithdrawRequest.with {
                $0.caseID = id; $0.withdrawal.reason = "申请人决定暂不开业"; $0.withdrawal.requestFileID = "file-w1"
            }, metadata: try node.metadata(.windowClerk, "clerk-07"))
            #expect(withdrawn.case.status == .withdrawn)
            #expect(withdrawn.case.deadline.finishedOn.civilDate == Self.monday)
            #expect(try await node.destinations(of: Approval_CaseWithdrawn.self) == ["intake@371302", "evaluation@371302"])
            await #expect {
                _ = try await node.approval.reviewStep(Approval_ReviewStepRequest.with { $0.caseID = id; $0.conclusion = .proposeGrant; $0.opinion = F.review }, metadata: try node.officer)
            } throws: { error in
                let failure = rpcFailure(error)
                return failure?.code == .failedPrecondition && failure!.message.contains("withdrawn")
            }
            // An acceptance naming an item the city implements is kept for the operator, not opened here.
            let cases = try await node.accept([F.item("000116001000371300005", tier: .section, name: "取水许可", node: "371300")])
            #expect(cases.isEmpty)
            let reasons = try await node.database.query("SELECT reason FROM unmatched_events").map { try $0.decode("reason", as: String.self) }
            #expect(reasons.count == 1)
            #expect(reasons[0].contains("implemented by 371300"))
            // A payload that does not parse is acknowledged and kept, not redelivered forever.
            var envelope = Events_EventEnvelope()
            envelope.eventID = UUID().uuidString
            envelope.type = Intake_ApplicationAccepted.protoMessageName
            envelope.sourceService = "intake"
            envelope.sourceNode = "371302"
            envelope.payload = Data([0xff, 0xff, 0xff])
            var metadata = Metadata()
            metadata.addString("Bearer \(try node.token(.peerNode, "intake@371302"))", forKey: "authorization")
            let delivered = try await Events_EventSink.Client(wrapping: node.grpc).deliver(Events_DeliverRequest.with { $0.events = [envelope] }, metadata: metadata)
            #expect(delivered.acceptedEventIds == [envelope.eventID])
            let kept = try await node.database.query("SELECT reason FROM unmatched_events WHERE event_id = \(envelope.eventID)").map { try $0.decode("reason", as: String.self) }
            #expect(kept.first?.contains("does not parse") == true)
        }
    }

    @Test("two sweepers (replicas) on one database raise each warning once")
    func replicas() async throws {
        try await withApprovalNode(today: Self.monday) { node in
            for _ in 0..<6 { _ = try await node.accept([F.item(Self.code, tier: .section, promised: 3)]) }
            node.clock.set(CivilDate(year: 2026, month: 10, day: 12)!)
            let first = WarningSweeper(api: node.api, batchSize: 2)
            let second = WarningSweeper(api: node.api, batchSize: 2)
            async let a = first.sweepOnce()
            async let b = second.sweepOnce()
            #expect(try await a + b == 6)
            // Promised 3 days with yellow at 3 left: each case opened yellow (told at once), then turned red.
            let warnings = OutboxRows.of(Approval_CaseWarningChanged.self, in: try await node.outbox())
            let levels = try warnings.map { try Approval_CaseWarningChanged(serializedBytes: $0.payload).level }
            #expect(levels.filter { $0 == .yellow }.count == 6)
            #expect(levels.filter { $0 == .red }.count == 6)
            let red = try await node.database.query("SELECT count(*)::int8 AS n FROM cases WHERE warning = 'red'").one().decode("n", as: Int.self)
            #expect(red == 6)
            #expect(try await node.approval.verifyAuditChain(Approval_VerifyAuditChainRequest(), metadata: try node.operatorToken).intact)
        }
    }
}
