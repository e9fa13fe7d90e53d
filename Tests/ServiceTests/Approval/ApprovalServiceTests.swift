import ApprovalRules
import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealStore
import SwiftProtobuf
import Testing
@testable import ApprovalService

/// The back office through real RPC (OneSeal TCP, auth, a real PostgreSQL), on real dates.
@Suite("Approval service", .serialized)
struct ApprovalServiceTests {
    static let sole = "000117005000371302001"
    static let section = "000117016000371302002"
    static let deputy = "000105008000371302004"
    static let collective = "000123001000371302009"
    static let monday = CivilDate(year: 2026, month: 9, day: 21)!

    typealias F = ApprovalFixtures

    @Test("duplicate accepted-events create one case per item; CaseOpened goes to the window and evaluation")
    func duplicates() async throws {
        try await withApprovalNode(today: Self.monday) { node in
            var accepted = Intake_ApplicationAccepted()
            accepted.applicationID = "3f2a6c1e-0000-4000-8000-000000000001"
            accepted.applicationNumber = "371302202609210000011"
            accepted.acceptingNode = Common_NodeRef.with { $0.divisionCode = "371302" }
            accepted.acceptanceKind = .complete
            accepted.acceptedOn = Common_CivilDate(Self.monday)
            accepted.applicant = F.company
            accepted.items = [F.item(Self.sole, tier: .sole), F.item(Self.section, tier: .section, name: "公共场所卫生许可")]
            let id = UUID()
            try await node.deliver(accepted, id: id)
            try await node.deliver(accepted, id: id)       // the same event again (inbox)
            try await node.deliver(accepted, id: UUID())   // a repeated acceptance (unique constraint)
            let cases = try await node.cases(of: accepted.applicationID)
            #expect(cases.count == 2)
            let count = try await node.database.query("SELECT count(*)::int8 AS n FROM cases").one().decode("n", as: Int.self)
            #expect(count == 2)
            let soleCase = try #require(cases[Self.sole])
            #expect(soleCase.caseNumber == "371302-20260921-000001")
            #expect(soleCase.status == .inProgress)
            #expect(soleCase.steps.map(\.role) == [.officer])
            #expect(soleCase.deadline.dueOn.civilDate == CivilDate(year: 2026, month: 9, day: 29))
            #expect(soleCase.statutoryDeadline.dueOn.civilDate == CivilDate(year: 2026, month: 10, day: 26))
            #expect(soleCase.applicant.idNumber == "91371302MA3C1234X7")  // the director of this node sees it in full
            let destinations = try await node.destinations(of: Approval_CaseOpened.self)
            #expect(destinations == ["intake@371302", "evaluation@371302", "intake@371302", "evaluation@371302"])
            let opened = try Approval_CaseOpened(serializedBytes: OutboxRows.of(Approval_CaseOpened.self, in: try await node.outbox())[0].payload)
            #expect(opened.header.caseNumber == soleCase.caseNumber)
            #expect(opened.header.applicationID == accepted.applicationID)
            #expect(opened.header.implementationCode == Self.sole)
            #expect(opened.deadline.dueOn.civilDate == CivilDate(year: 2026, month: 9, day: 29))
            // An evaluator sees the applicant masked.
            let masked = try await node.approval.getCase(Approval_GetCaseRequest.with { $0.caseID = soleCase.caseID }, metadata: try node.metadata(.evaluator, "eval-1"))
            #expect(masked.case.applicant.masked)
            #expect(masked.case.applicant.idNumber != "91371302MA3C1234X7")
            // A page of the work list read in full is logged one row per case, in one statement
            // (one transaction) — and a masked read is not logged.
            let before = try await node.database.query("SELECT coalesce(max(seq), 0)::int8 AS n FROM personal_data_reads").one().decode("n", as: Int.self)
            let page = try await node.approval.listCases(Approval_ListCasesRequest.with { $0.applicationID = accepted.applicationID }, metadata: try node.director)
            #expect(page.cases.count == 2 && page.cases.allSatisfy { !$0.applicant.masked })
            let reads = try await node.database.query("""
                SELECT case_id, subject, purpose, xmin::text AS tx FROM personal_data_reads WHERE seq > \(before) ORDER BY seq
                """).map { (try $0.decode("case_id", as: UUID.self), try $0.decode("subject", as: String.self), try $0.decode("tx", as: String.self)) }
            #expect(Set(reads.map { $0.0.uuidString.lowercased() }) == Set(page.cases.map { $0.caseID.lowercased() }))
            #expect(reads.allSatisfy { $0.1 == "director-zhou" } && Set(reads.map(\.2)).count == 1)
            _ = try await node.approval.listCases(Approval_ListCasesRequest.with { $0.applicationID = accepted.applicationID }, metadata: try node.metadata(.evaluator, "eval-1"))
            let after = try await node.database.query("SELECT count(*)::int8 AS n FROM personal_data_reads WHERE seq > \(before)").one().decode("n", as: Int.self)
            #expect(after == 2 && reads.allSatisfy { $0.2 != "" })
            // OpenCase by RPC is idempotent on (application, item) too.
            var open = Approval_OpenCaseRequest()
            open.applicationID = accepted.applicationID
            open.acceptingNode = accepted.acceptingNode
            open.item = soleCase.item
            open.applicant = F.company
            open.acceptanceKind = .complete
            open.acceptedOn = Common_CivilDate(Self.monday)
            let again = try await node.approval.openCase(open, metadata: try node.metadata(.integrator, "platform"))
            #expect(!again.created)
            #expect(again.case.caseID == soleCase.caseID)
            // Bad input is refused field by field; an unknown event type is kept, not dropped.
            await #expect { _ = try await node.approval.openCase(Approval_OpenCaseRequest(), metadata: try node.metadata(.integrator, "platform")) } throws: { error in
                let failure = rpcFailure(error)
                return failure?.code == .invalidArgument && Set(failure!.fields).isSuperset(of: ["application_id", "item.implementation_code", "item.tier", "acceptance_kind", "accepted_on"])
            }
            try await node.deliver(Intake_ApplicationWithdrawn.with { $0.applicationID = "x" })
            let unmatched = try await node.database.query("SELECT count(*)::int8 AS n FROM unmatched_events").one().decode("n", as: Int.self)
            #expect(unmatched == 1)
        }
    }

    @Test("all four tiers end to end through RPC, with CaseDecided to the window, certificate, supervision and evaluation")
    func allTiers() async throws {
        try await withApprovalNode(today: Self.monday) { node in
            let cases = try await node.accept([
                F.item(Self.sole, tier: .sole), F.item(Self.section, tier: .section, name: "公共场所卫生许可"),
                F.item(Self.deputy, tier: .deputy, name: "林木采伐许可证核发"), F.item(Self.collective, tier: .collective, name: "医疗机构执业登记"),
            ])
            #expect(cases.count == 4)
            // Every case starts in the officer queue (unassigned); the officer claims them.
            let queue = try await node.approval.listCases(Approval_ListCasesRequest.with { $0.nextRole = .officer; $0.unassignedOnly = true }, metadata: try node.officer)
            #expect(queue.cases.count == 4)
            for (_, item) in cases {
                _ = try await node.approval.claimStep(Approval_ClaimStepRequest.with { $0.caseID = item.caseID }, metadata: try node.officer)
                let reviewed = try await node.approval.reviewStep(Approval_ReviewStepRequest.with {
                    $0.caseID = item.caseID; $0.stepID = "s0"; $0.conclusion = .proposeGrant; $0.opinion = F.review
                }, metadata: try node.officer)
                #expect(reviewed.case.steps[0].status == .completed)
            }
            let mine = try await node.approval.listCases(Approval_ListCasesRequest.with { $0.assigneeSubject = "officer-li" }, metadata: try node.officer)
            #expect(mine.cases.map(\.item.implementationCode) == [Self.sole])  // only the sole case still waits for her (to decide)

            // Sole: the officer decides.
            let sole = try await node.approval.decide(Approval_DecideRequest.with { $0.caseID = cases[Self.sole]!.caseID; $0.grant = F.grant }, metadata: try node.officer)
            #expect(sole.case.status == .granted)
            #expect(sole.case.decision.document.number == "371302许准〔2026〕1号")
            #expect(sole.case.decision.grant.validUntil.civilDate == CivilDate(year: 2031, month: 9, day: 20))

            // Section: the chief signs and decides; the officer cannot sign the chief's step.
            let sectionID = cases[Self.section]!.caseID
            await #expect {
                _ = try await node.approval.signOff(Approval_SignOffRequest.with { $0.caseID = sectionID; $0.conclusion = .proposeGrant; $0.opinion = F.signOff }, metadata: try node.officer)
            } throws: { rpcFailure($0)?.code == .permissionDenied }
            _ = try await node.approval.signOff(Approval_SignOffRequest.with { $0.caseID = sectionID; $0.conclusion = .proposeGrant; $0.opinion = F.signOff }, metadata: try node.chief)
            _ = try await node.approval.decide(Approval_DecideRequest.with { $0.caseID = sectionID; $0.grant = F.grant }, metadata: try node.chief)

            // Deputy: out of turn (the deputy before the chief) is refused; then chief, deputy, decision (a denial).
            let deputyID = cases[Self.deputy]!.caseID
            await #expect {
                _ = try await node.approval.signOff(Approval_SignOffRequest.with { $0.caseID = deputyID; $0.stepID = "s2"; $0.conclusion = .proposeGrant; $0.opinion = F.signOff }, metadata: try node.deputy)
            } throws: { error in
                let failure = rpcFailure(error)
                return failure?.code == .failedPrecondition && failure!.message.contains("not reached yet")
            }
            _ = try await node.approval.signOff(Approval_SignOffRequest.with { $0.caseID = deputyID; $0.conclusion = .proposeDeny; $0.opinion = "采伐作业设计未经林业主管部门审核，拟不予许可" }, metadata: try node.chief)
            _ = try await node.approval.signOff(Approval_SignOffRequest.with { $0.caseID = deputyID; $0.conclusion = .proposeDeny; $0.opinion = "同意科室意见：采伐作业设计未经审核，不予许可" }, metadata: try node.deputy)
            await #expect {
                _ = try await node.approval.decide(Approval_DecideRequest.with { $0.caseID = deputyID; $0.denial = Approval_Denial.with { $0.reasons = ["不同意"] } }, metadata: try node.deputy)
            } throws: { error in
                let failure = rpcFailure(error)
                return failure?.code == .invalidArgument && Set(failure!.fields) == ["denial.reasons[0]", "denial.legal_basis"]
            }
            let denied = try await node.approval.decide(Approval_DecideRequest.with {
                $0.caseID = deputyID
                $0.denial = Approval_Denial.with { $0.reasons = ["采伐作业设计未经林业主管部门审核，不符合法定条件"]; $0.legalBasis = "《中华人民共和国森林法》第五十六条" }
            }, metadata: try node.deputy)
            #expect(denied.case.status == .denied)
            #expect(denied.case.decision.denial.appealRights.contains("六十日内"))
            #expect(String(decoding: denied.case.decision.document.content, as: UTF8.self).contains("不予行政许可决定书"))

            // Collective: the meeting (by the director), then the director signs and decides.
            let collectiveID = cases[Self.collective]!.caseID
            let meeting = Approval_JointReview.with {
                $0.kind = .collective
                $0.location = "局三楼会议室"
                $0.conclusion = "经集体研究，申请符合《医疗机构管理条例》规定条件，同意准予执业登记"
                $0.outcome = .proposeGrant
                $0.opinions = [("director-zhou", "局长"), ("deputy-sun", "分管副局长"), ("deputy-he", "副局长")].map { who in
                    Approval_ParticipantOpinion.with {
                        $0.participant = Common_ActorRef.with { $0.subject = who.0 }
                        $0.title = who.1
                        $0.opinion = "设置符合区域卫生规划，人员设备符合标准，同意"
                        $0.vote = .agree
                    }
                }
            }
            await #expect {
                _ = try await node.approval.recordJointReview(Approval_RecordJointReviewRequest.with { $0.caseID = collectiveID; $0.review = meeting }, metadata: try node.deputy)
            } throws: { rpcFailure($0)?.code == .permissionDenied }
            var future = meeting
            future.heldAt = Google_Protobuf_Timestamp(date: node.clock.date.addingTimeInterval(86_400))
            future.outcome = .unspecified
            await #expect {
                _ = try await node.approval.recordJointReview(Approval_RecordJointReviewRequest.with { $0.caseID = collectiveID; $0.review = future }, metadata: try node.director)
            } throws: { rpcFailure($0)?.fields == ["review.outcome", "review.held_at"] }
            // The form sent twice at once and once more (same idempotency key): one meeting.
            var keyed = try node.director
            keyed.addString("web:371302:jr-form-1", forKey: "idempotency-key")
            let once = keyed
            async let a = node.approval.recordJointReview(Approval_RecordJointReviewRequest.with { $0.caseID = collectiveID; $0.review = meeting }, metadata: once)
            async let b = node.approval.recordJointReview(Approval_RecordJointReviewRequest.with { $0.caseID = collectiveID; $0.review = meeting }, metadata: once)
            let (first, second) = try await (a, b)
            #expect(first.case.jointReviews.count == 1 && second.case.jointReviews.count == 1)
            let met = try await node.approval.recordJointReview(Approval_RecordJointReviewRequest.with { $0.caseID = collectiveID; $0.review = meeting }, metadata: once)
            #expect(met.case.jointReviews.count == 1)
            let recorded = try await node.database.query("SELECT count(*)::int8 AS n FROM audit_entries WHERE action = 'joint_review.recorded' AND lower(case_id) = lower(\(collectiveID))").one().decode("n", as: Int.self)
            #expect(recorded == 1)
            // Without the key a second record is a second meeting, refused here: the meeting step is done.
            await #expect {
                _ = try await node.approval.recordJointReview(Approval_RecordJointReviewRequest.with { $0.caseID = collectiveID; $0.review = meeting }, metadata: try node.director)
            } throws: { rpcFailure($0)?.code == .failedPrecondition }
            #expect(met.case.nextRole == .director)
            _ = try await node.approval.signOff(Approval_SignOffRequest.with { $0.caseID = collectiveID; $0.conclusion = .proposeGrant; $0.opinion = "依据集体研究结论，准予医疗机构执业登记" }, metadata: try node.director)
            let collective = try await node.approval.decide(Approval_DecideRequest.with { $0.caseID = collectiveID; $0.grant = F.grant }, metadata: try node.director)
            #expect(collective.case.status == .granted)

            // A closed case refuses further acts.
            await #expect {
                _ = try await node.approval.decide(Approval_DecideRequest.with { $0.caseID = collectiveID; $0.grant = F.grant }, metadata: try node.director)
            } throws: { rpcFailure($0)?.code == .failedPrecondition }
            let decided = try await node.destinations(of: Approval_CaseDecided.self)
            #expect(decided.count == 16)
            #expect(Array(decided.prefix(4)) == ["intake@371302", "certificate@371302", "supervision@371302", "evaluation@371302"])
            let payload = OutboxRows.of(Approval_CaseDecided.self, in: try await node.outbox())[0].payload
            let message = try Approval_CaseDecided(serializedBytes: payload)
            #expect(message.applicant.idNumber == "91371302MA3C1234X7")  // certificate needs the holder in full
            #expect(message.header.caseNumber == sole.case.caseNumber)
            #expect(message.item.licenceName == "食品经营许可证")
            // Unknown case, bad id.
            await #expect { _ = try await node.approval.getCase(Approval_GetCaseRequest.with { $0.caseID = UUID().uuidString }, metadata: try node.director) } throws: { rpcFailure($0)?.code == .notFound }
            await #expect { _ = try await node.approval.getCase(Approval_GetCaseRequest.with { $0.caseID = "nope" }, metadata: try node.director) } throws: { rpcFailure($0)?.fields == ["case_id"] }
            try await expectStoredStatesRoundTrip(CaseState.self, table: "cases", encode: CaseStore.encode, in: node.database)
        }
    }

    @Test("sole approval on the spot: one Decide with the review opinion records the review and the decision in one transaction; other tiers refuse it")
    func soleOnTheSpot() async throws {
        try await withApprovalNode(today: Self.monday) { node in
            let cases = try await node.accept([F.item(Self.sole, tier: .sole), F.item(Self.section, tier: .section, name: "公共场所卫生许可")])
            let soleID = cases[Self.sole]!.caseID
            let sectionID = cases[Self.section]!.caseID
            // A section case is reviewed, signed and decided apart: refused, nothing recorded.
            await #expect {
                _ = try await node.approval.decide(Approval_DecideRequest.with { $0.caseID = sectionID; $0.grant = F.grant; $0.opinion = F.review }, metadata: try node.officer)
            } throws: { rpcFailure($0)?.code == .failedPrecondition && (rpcFailure($0)?.message.contains("独任审批") ?? false) }
            // The opinion is checked like a review's.
            await #expect {
                _ = try await node.approval.decide(Approval_DecideRequest.with { $0.caseID = soleID; $0.grant = F.grant; $0.opinion = "同意" }, metadata: try node.officer)
            } throws: { rpcFailure($0)?.fields == ["opinion"] }
            let decided = try await node.approval.decide(Approval_DecideRequest.with { $0.caseID = soleID; $0.grant = F.grant; $0.opinion = F.review }, metadata: try node.officer)
            #expect(decided.case.status == .granted && decided.case.decision.document.number == "371302许准〔2026〕1号")
            #expect(decided.case.steps.map(\.status) == [.completed] && decided.case.steps[0].opinion == F.review && decided.case.steps[0].conclusion == .proposeGrant)
            // Two audit entries, review first, written by one transaction; the step's event goes before the decision's.
            let entries = try await node.database.query(
                "SELECT action, xmin::text AS writer FROM audit_entries WHERE case_id = \(soleID) ORDER BY sequence"
            ).map { (try $0.decode("action", as: String.self), try $0.decode("writer", as: String.self)) }
            #expect(entries.map(\.0).suffix(2) == ["step.reviewed", "case.decided"])
            #expect(Set(entries.suffix(2).map(\.1)).count == 1)
            // Appended together after the head the case's write locked: the chain still verifies.
            let chain = try await node.approval.verifyAuditChain(Approval_VerifyAuditChainRequest(), metadata: try node.operatorToken)
            #expect(chain.intact && chain.entriesChecked >= 4)
            let types = try await node.outbox().map(\.type)
            let step = try #require(types.firstIndex { $0.hasSuffix("StepCompleted") })
            let decision = try #require(types.firstIndex { $0.hasSuffix("CaseDecided") })
            #expect(step < decision)
            // The section case is untouched.
            let section = try await node.approval.getCase(Approval_GetCaseRequest.with { $0.caseID = sectionID }, metadata: try node.officer).case
            #expect(section.status == .inProgress && section.steps.allSatisfy { $0.status != .completed })
        }
    }

    @Test("a forwarded case: the city decides, results go to the county window; a county token cannot sign a city case")
    func forwarded() async throws {
        try await withApprovalNode(node: "371300", today: Self.monday) { node in
            var accepted = Intake_ApplicationAccepted()
            accepted.applicationID = UUID().uuidString.lowercased()
            accepted.applicationNumber = "371302202609210000099"
            accepted.acceptingNode = Common_NodeRef.with { $0.divisionCode = "371302" }
            accepted.acceptanceKind = .complete
            accepted.acceptedOn = Common_CivilDate(Self.monday)
            accepted.applicant = F.company
            accepted.items = [F.item("000116001000371300005", tier: .section, name: "取水许可", node: "371300")]
            var forwarded = Intake_ApplicationForwarded()
            forwarded.accepted = accepted
            forwarded.forwarding.firstReviewOpinion = "经初审，材料齐全，取水用途与水资源论证报告一致"
            try await node.deliver(forwarded, sourceNode: "371302")
            let cases = try await node.cases(of: accepted.applicationID)
            let city = try #require(cases["000116001000371300005"])
            #expect(city.firstReviewOpinion.hasPrefix("经初审"))
            #expect(city.acceptingNode.divisionCode == "371302")
            #expect(city.decidingNode.divisionCode == "371300")
            #expect(city.caseNumber.hasPrefix("371300-"))
            #expect(try await node.destinations(of: Approval_CaseOpened.self) == ["intake@371302", "evaluation@371300"])
            // A county officer's token is refused at the city node.
            await #expect {
                _ = try await node.approval.reviewStep(Approval_ReviewStepRequest.with {
                    $0.caseID = city.caseID; $0.conclusion = .proposeGrant; $0.opinion = F.review
                }, metadata: try node.metadata(.officer, "officer-county", node: "371302"))
            } throws: { error in
                let failure = rpcFailure(error)
                return failure?.code == .permissionDenied && failure!.message.contains("371302")
            }
            _ = try await node.approval.reviewStep(Approval_ReviewStepRequest.with { $0.caseID = city.caseID; $0.conclusion = .proposeGrant; $0.opinion = F.review }, metadata: try node.officer)
            _ = try await node.approval.signOff(Approval_SignOffRequest.with { $0.caseID = city.caseID; $0.conclusion = .proposeGrant; $0.opinion = F.signOff }, metadata: try node.chief)
            _ = try await node.approval.decide(Approval_DecideRequest.with { $0.caseID = city.caseID; $0.grant = F.grant }, metadata: try node.chief)
            #expect(try await node.destinations(of: Approval_CaseDecided.self) == [
                "intake@371302", "certificate@371300", "supervision@371300", "evaluation@371300", "evaluation@371302",
            ])
        }
    }
}
