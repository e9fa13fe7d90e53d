import ApprovalRules
import Foundation
import GRPCCore
import IntakeRules
import OneSealAuth
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealStore
import Testing
@testable import ApprovalService

@Suite("Approval service: clock, warnings, instant approval, revocation", .serialized)
struct ApprovalClockTests {
    typealias F = ApprovalFixtures
    static let code = "000117016000371302002"
    static func date(_ text: String) -> CivilDate { CivilDate(text)! }

    @Test("a suspension across the National Day holiday stops the clock; intake is told; the extension once and never twice")
    func suspensionAndExtension() async throws {
        try await withApprovalNode(today: Self.date("2026-09-21")) { node in
            let id = try #require(try await node.accept([F.item(Self.code, tier: .section)])[Self.code]).caseID
            _ = try await node.approval.claimStep(Approval_ClaimStepRequest.with { $0.caseID = id }, metadata: try node.officer)
            node.clock.set(Self.date("2026-09-24"))
            await #expect {
                _ = try await node.approval.suspendClock(Approval_SuspendClockRequest.with { $0.caseID = id; $0.reason = .expertReview }, metadata: try node.officer)
            } throws: { error in
                let failure = rpcFailure(error)
                return failure?.code == .invalidArgument && Set(failure!.fields) == ["expected_days", "notice_text"]
            }
            let suspended = try await node.approval.suspendClock(Approval_SuspendClockRequest.with {
                $0.caseID = id; $0.reason = .expertReview; $0.expectedDays = 10; $0.noticeText = "需组织专家评审，预计10个工作日，期间不计入办理时限"
            }, metadata: try node.officer)
            #expect(suspended.case.status == .suspended)
            #expect(suspended.case.deadline.suspended)
            #expect(suspended.suspension.suspendedOn.civilDate == Self.date("2026-09-24"))
            // The numbered written notice (Art. 45): number, ground, the procedure and its time.
            let notice = suspended.suspension.notice
            #expect(notice.title == "暂停计时告知书" && notice.number == "371302审暂〔2026〕1号")
            #expect(notice.issuedOn.civilDate == Self.date("2026-09-24"))
            let noticeText = String(decoding: notice.content, as: UTF8.self)
            #expect(noticeText.contains("第四十五条") && noticeText.contains("专家评审") && noticeText.contains("10个工作日"))
            #expect(suspended.case.suspensions.first?.notice == notice)
            // Signing while suspended is refused.
            await #expect {
                _ = try await node.approval.reviewStep(Approval_ReviewStepRequest.with { $0.caseID = id; $0.conclusion = .proposeGrant; $0.opinion = F.review }, metadata: try node.officer)
            } throws: { rpcFailure($0)?.code == .failedPrecondition }
            node.clock.set(Self.date("2026-10-09"))
            let resumed = try await node.approval.resumeClock(Approval_ResumeClockRequest.with { $0.caseID = id; $0.result = "专家组评审通过，认为卫生设施符合标准" }, metadata: try node.officer)
            // 22, 23, then Saturday 10-10 (make-up working day), 10-12, 10-13.
            #expect(resumed.case.deadline.dueOn.civilDate == Self.date("2026-10-13"))
            #expect(resumed.case.statutoryDeadline.dueOn.civilDate == Self.date("2026-11-03"))
            #expect(resumed.case.deadline.workingDaysUsed == 2)
            #expect(try await node.destinations(of: Approval_ClockSuspended.self) == ["intake@371302", "evaluation@371302"])
            let resumedEvent = try Approval_ClockResumed(serializedBytes: OutboxRows.of(Approval_ClockResumed.self, in: try await node.outbox())[0].payload)
            #expect(resumedEvent.deadline.dueOn.civilDate == Self.date("2026-10-13"))

            // The extension: an officer may not; the director may once; a second is refused.
            let reason = "案情复杂，需进一步核实申请人提交的检测报告"
            await #expect {
                _ = try await node.approval.requestExtension(Approval_RequestExtensionRequest.with { $0.caseID = id; $0.reason = reason }, metadata: try node.officer)
            } throws: { rpcFailure($0)?.code == .permissionDenied }
            await #expect {
                _ = try await node.approval.requestExtension(Approval_RequestExtensionRequest.with { $0.caseID = id; $0.reason = reason; $0.approvedBySubject = "director-x" }, metadata: try node.director)
            } throws: { rpcFailure($0)?.fields == ["approved_by_subject"] }
            let extended = try await node.approval.requestExtension(Approval_RequestExtensionRequest.with { $0.caseID = id; $0.reason = reason }, metadata: try node.director)
            #expect(extended.case.extension.extensionDays == 10)
            #expect(extended.case.statutoryDeadline.dueOn.civilDate == Self.date("2026-11-17"))
            #expect(extended.case.deadline.extensionWorkingDays == 10)
            // Its numbered written notice (Art. 42): the reason and the new due date.
            let extensionNotice = extended.case.extension.notice
            #expect(extensionNotice.title == "延长审批期限告知书" && extensionNotice.number == "371302审延〔2026〕1号")
            let extensionText = String(decoding: extensionNotice.content, as: UTF8.self)
            #expect(extensionText.contains("第四十二条") && extensionText.contains(reason) && extensionText.contains("2026年11月17日"))
            await #expect {
                _ = try await node.approval.requestExtension(Approval_RequestExtensionRequest.with { $0.caseID = id; $0.extensionDays = 5; $0.reason = reason }, metadata: try node.director)
            } throws: { error in
                let failure = rpcFailure(error)
                return failure?.code == .failedPrecondition && failure!.message.contains("one extension")
            }
            let told = try Approval_DeadlineExtended(serializedBytes: OutboxRows.of(Approval_DeadlineExtended.self, in: try await node.outbox())[0].payload)
            #expect(told.extension.reason == reason)
            #expect(told.extension.notice.number == "371302审延〔2026〕1号")
            #expect(told.header.caseID == id)
        }
    }

    @Test("the sample catalogue's joint-handling item: 45 working days across the National Day holiday, one extension of up to 15, its notice citing Art. 42 ¶2")
    func jointHandlingItem() async throws {
        let joint = try #require(try SampleCatalogue.items.first { $0.jointHandling })
        #expect(joint.implementationCode == "000121005000371302015" && joint.statutoryDays == 45)
        try await withApprovalNode(today: Self.date("2026-09-21")) { node in
            var item = F.item(joint.implementationCode, tier: .section, name: joint.name, promised: Int32(joint.promisedDays))
            item.statutoryDays = Int32(joint.statutoryDays)
            item.jointHandling = joint.jointHandling
            let opened = try #require(try await node.accept([item])[joint.implementationCode])
            // Accepted Monday 2026-09-21: 45 working days skip 09-25…27 and 10-01…07, count the
            // make-up Saturday 10-10: due Monday 2026-11-30; the promised 20 fall on 2026-10-26.
            #expect(opened.statutoryDeadline.dueOn.civilDate == Self.date("2026-11-30"))
            #expect(opened.deadline.dueOn.civilDate == Self.date("2026-10-26"))
            let reason = "涉及消防、人防、交通等多部门联合审查，部门意见尚需协调一致"
            await #expect {
                _ = try await node.approval.requestExtension(Approval_RequestExtensionRequest.with { $0.caseID = opened.caseID; $0.extensionDays = 16; $0.reason = reason }, metadata: try node.director)
            } throws: { rpcFailure($0)?.fields == ["extension_days"] }
            let extended = try await node.approval.requestExtension(Approval_RequestExtensionRequest.with { $0.caseID = opened.caseID; $0.reason = reason }, metadata: try node.director)
            #expect(extended.case.extension.extensionDays == 15)
            #expect(extended.case.statutoryDeadline.dueOn.civilDate == Self.date("2026-12-21"))
            let text = String(decoding: extended.case.extension.notice.content, as: UTF8.self)
            #expect(text.contains("第四十二条第二款") && text.contains("本级人民政府负责人") && text.contains("15个工作日") && text.contains("2026年12月21日"), "\(text)")
        }
    }

    @Test("the warning sweeper raises yellow (configured days before) and red (overdue) once each, with events")
    func warningSweeper() async throws {
        try await withApprovalNode(today: Self.date("2026-09-21"), settings: ["approval.yellow_days_before": "2"]) { node in
            // Promised 10 working days: due 2026-10-12; yellow from 10-09 (2 days left).
            let id = try #require(try await node.accept([F.item(Self.code, tier: .section, promised: 10)])[Self.code]).caseID
            let sweeper = WarningSweeper(api: node.api)
            node.clock.set(Self.date("2026-10-08"))
            #expect(try await sweeper.sweepOnce() == 0)
            node.clock.set(Self.date("2026-10-09"))
            #expect(try await sweeper.sweepOnce() == 1)
            #expect(try await sweeper.sweepOnce() == 0)  // once per level
            let yellow = try await node.approval.listCases(Approval_ListCasesRequest.with { $0.minWarning = .yellow }, metadata: try node.director)
            #expect(yellow.cases.map(\.caseID) == [id])
            #expect(yellow.cases[0].deadline.warning == .yellow)
            node.clock.set(Self.date("2026-10-13"))
            #expect(try await sweeper.sweepOnce() == 1)
            let overdue = try await node.approval.listCases(Approval_ListCasesRequest.with { $0.overdueOnly = true }, metadata: try node.director)
            #expect(overdue.cases.map(\.caseID) == [id])
            #expect(overdue.cases[0].deadline.overdue)
            let warnings = OutboxRows.of(Approval_CaseWarningChanged.self, in: try await node.outbox())
            #expect(warnings.map(\.destination) == ["evaluation@371302", "evaluation@371302"])
            #expect(try warnings.map { try Approval_CaseWarningChanged(serializedBytes: $0.payload).level } == [.yellow, .red])
            let actions = try await node.database.query("SELECT action FROM audit_entries ORDER BY sequence").map { try $0.decode("action", as: String.self) }
            #expect(actions.filter { $0 == "clock.warning" }.count == 2)
            // A red case is not swept again.
            node.clock.set(Self.date("2026-10-14"))
            #expect(try await sweeper.sweepOnce() == 0)
        }
    }

    static func licence(_ code: String, verified: Bool = true) -> Intake_ProvidedMaterial {
        Intake_ProvidedMaterial.with {
            $0.requirementCode = code
            $0.name = code == "YYZZ" ? "营业执照" : "身份证"
            $0.form = .electronic
            $0.electronicLicence = Common_LicenceRef.with { $0.licenceIdentifier = "1.2.156.3005.2.\(code).001.A"; $0.licenceNumber = "N-\(code)" }
            $0.licenceVerified = verified
        }
    }

    @Test("instant approval decides at once when every rule passes (trace stored); otherwise it falls back to the officer")
    func instantApproval() async throws {
        try await withApprovalNode(today: Self.date("2026-09-21")) { node in
            let item = F.item(Self.code, tier: .sole, instant: true, ruleSet: "e-licence-complete")
            let fast = try #require(try await node.accept([item], materials: [Self.licence("YYZZ"), Self.licence("SFZ")])[Self.code])
            #expect(fast.status == .granted)
            #expect(fast.decision.instant)
            #expect(fast.decision.ruleTrace.map(\.passed) == [true, true])
            #expect(fast.instantAttempts.count == 1)
            #expect(try await node.destinations(of: Approval_CaseDecided.self).contains("certificate@371302"))

            let slow = try #require(try await node.accept([item], materials: [Self.licence("YYZZ"), Self.licence("SFZ", verified: false)])[Self.code])
            #expect(slow.status == .inProgress)
            #expect(slow.nextRole == .officer)
            #expect(slow.instantAttempts[0].trace.map(\.passed) == [true, false])
            #expect(slow.instantAttempts[0].trace[1].detail.contains("SFZ"))
            // The officer can ask again (still failing), then review by hand.
            let again = try await node.approval.instantApprove(Approval_InstantApproveRequest.with { $0.caseID = slow.caseID }, metadata: try node.officer)
            #expect(!again.granted)
            #expect(again.case.instantAttempts.count == 2)
            let actions = try await node.database.query("SELECT action FROM audit_entries WHERE case_id = \(slow.caseID) ORDER BY sequence").map { try $0.decode("action", as: String.self) }
            #expect(actions == ["case.opened", "instant.fell_back", "instant.fell_back"])
            // Items without instant approval refuse it.
            let plain = try #require(try await node.accept([F.item(Self.code, tier: .sole)])[Self.code])
            await #expect {
                _ = try await node.approval.instantApprove(Approval_InstantApproveRequest.with { $0.caseID = plain.caseID }, metadata: try node.officer)
            } throws: { rpcFailure($0)?.code == .failedPrecondition }
        }
    }

    func grantedCase(_ node: ApprovalNode) async throws -> String {
        let id = try #require(try await node.accept([F.item(Self.code, tier: .sole)])[Self.code]).caseID
        _ = try await node.approval.reviewStep(Approval_ReviewStepRequest.with { $0.caseID = id; $0.conclusion = .proposeGrant; $0.opinion = F.review }, metadata: try node.officer)
        _ = try await node.approval.decide(Approval_DecideRequest.with { $0.caseID = id; $0.grant = F.grant }, metadata: try node.officer)
        return id
    }

    @Test("revocation after a grant propagates to certificate, supervision, evaluation and the window; findings cancel or open a review")
    func revocation() async throws {
        try await withApprovalNode(today: Self.date("2026-09-21")) { node in
            let id = try await grantedCase(node)
            // The licence issued by certificate is recorded on the case.
            var issued = Certificate_LicenceIssued()
            issued.licence.content.caseID = id
            issued.licence.content.licenceIdentifier = "1.2.156.3005.2.11100000000013338W001.11371302MB2867042X.000001.001.K"
            issued.licence.content.licenceNumber = "JY13713020000001"
            try await node.deliver(issued, from: "certificate")
            #expect(try await node.get(id).licence.licenceNumber == "JY13713020000001")
            let revocation = Approval_Revocation.with {
                $0.ground = .fraudOrBribery
                $0.facts = "被许可人以伪造的场地租赁合同骗取许可，经公安机关查证属实"
            }
            await #expect {
                _ = try await node.approval.revoke(Approval_RevokeRequest.with { $0.caseID = id; $0.revocation = revocation }, metadata: try node.officer)
            } throws: { rpcFailure($0)?.code == .permissionDenied }
            await #expect {
                _ = try await node.approval.revoke(Approval_RevokeRequest.with { $0.caseID = id; $0.revocation = Approval_Revocation() }, metadata: try node.director)
            } throws: { error in
                let failure = rpcFailure(error)
                return failure?.code == .invalidArgument && Set(failure!.fields) == ["revocation.ground", "revocation.facts"]
            }
            let revoked = try await node.approval.revoke(Approval_RevokeRequest.with { $0.caseID = id; $0.revocation = revocation }, metadata: try node.director)
            #expect(revoked.case.status == .revoked)
            #expect(try await node.destinations(of: Approval_GrantRevoked.self) == ["certificate@371302", "supervision@371302", "evaluation@371302", "intake@371302"])
            let event = try Approval_GrantRevoked(serializedBytes: OutboxRows.of(Approval_GrantRevoked.self, in: try await node.outbox())[0].payload)
            #expect(event.licence.licenceNumber == "JY13713020000001")
            #expect(event.revocation.ground == .fraudOrBribery)
            await #expect {
                _ = try await node.approval.revoke(Approval_RevokeRequest.with { $0.caseID = id; $0.revocation = revocation }, metadata: try node.director)
            } throws: { rpcFailure($0)?.code == .failedPrecondition }

            // A department's withdrawal finding cancels another grant (Art. 70 (4)).
            let second = try await grantedCase(node)
            var withdrawn = Supervision_FindingSubmitted()
            withdrawn.finding.findingID = "F-1"
            withdrawn.finding.kind = .licenceWithdrawn
            withdrawn.finding.caseID = second
            withdrawn.finding.department = Common_DepartmentRef.with { $0.code = "SCJG"; $0.name = "兰山区市场监督管理局" }
            withdrawn.finding.facts = "因销售过期食品被依法吊销许可证"
            try await node.deliver(withdrawn, from: "supervision")
            let cancelled = try await node.get(second)
            #expect(cancelled.status == .cancelled)
            #expect(cancelled.cancellation.ground == .revokedWithdrawnOrSuspended)
            #expect(cancelled.findings.map(\.effect) == ["cancelled"])
            #expect(try await node.destinations(of: Approval_GrantCancelled.self).count == 4)

            // "Should not have been granted" opens a revocation review in the leaders' list.
            let third = try await grantedCase(node)
            var wrongful = Supervision_FindingSubmitted()
            wrongful.finding.findingID = "F-2"
            wrongful.finding.kind = .revocationRecommended
            wrongful.finding.caseID = third
            wrongful.finding.facts = "检查发现经营场所面积与许可申请不符"
            try await node.deliver(wrongful, from: "supervision")
            let open = try await node.approval.listCases(Approval_ListCasesRequest.with { $0.revocationReviewOpen = true }, metadata: try node.director)
            #expect(open.cases.map(\.caseID) == [third])
            let dismissed = try await node.approval.dismissRevocationReview(Approval_DismissRevocationReviewRequest.with {
                $0.caseID = third; $0.reason = "经复核许可条件符合规定，面积差异系测量口径不同"
            }, metadata: try node.deputy)
            #expect(dismissed.case.revocationReview.state == "dismissed")
            #expect(dismissed.case.status == .granted)
        }
    }
}
