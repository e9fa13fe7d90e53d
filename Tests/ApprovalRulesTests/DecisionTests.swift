import ApprovalRules
import Foundation
import OneSealCore
import Testing

@Suite("Instant approval, revocation, cancellation, findings")
struct DecisionTests {
    static let licences = [
        CaseMaterial(requirementCode: "YYZZ", name: "营业执照", form: "electronic", licenceIdentifier: "1.2.156.3005.2.x.y.001.001.A", licenceNumber: "9137", licenceVerified: true),
        CaseMaterial(requirementCode: "SFZ", name: "身份证", form: "electronic", licenceIdentifier: "1.2.156.3005.2.x.z.002.001.B", licenceNumber: "3713", licenceVerified: true),
    ]

    @Test("instant approval grants when every declared rule passes, with the trace stored")
    func instantGrant() throws {
        var state = openCase(.sole, acceptedOn: "2026-09-21", materials: Self.licences, instant: true, ruleSet: "e-licence-complete")
        let result = try state.instantApprove(ruleSet: InstantRuleSet.builtIn["e-licence-complete"], facts: [:], requestedBy: "case.opened",
                                              on: day("2026-09-21"), at: noon("2026-09-21"), calendar: calendar)
        #expect(result.granted)
        #expect(result.trace.map(\.ruleID) == ["acceptance.complete", "materials.e-licences"])
        #expect(state.status == .granted)
        #expect(state.decision?.instant == true)
        #expect(state.decision?.ruleTrace == result.trace)
        #expect(state.decision?.workingDaysTaken == 0)
        #expect(state.instantAttempts.count == 1)
        #expect(state.steps.allSatisfy { $0.status == .completed })
    }

    @Test("instant approval falls back to the officer when a rule fails or cannot be verified")
    func instantFallback() throws {
        var materials = Self.licences
        materials.append(CaseMaterial(requirementCode: "PMT", name: "平面图", form: "original", fileID: "file-1"))
        var state = openCase(.sole, acceptedOn: "2026-09-21", materials: materials, kind: .deficiency, instant: true, ruleSet: "e-licence-complete")
        let result = try state.instantApprove(ruleSet: InstantRuleSet.builtIn["e-licence-complete"], facts: [:], requestedBy: "case.opened",
                                              on: day("2026-09-21"), at: noon("2026-09-21"), calendar: calendar)
        #expect(!result.granted)
        #expect(result.trace.map(\.passed) == [false, false])
        #expect(result.trace[1].detail.contains("PMT"))
        #expect(state.status == .inProgress)
        #expect(state.nextRole == .officer)
        #expect(state.instantAttempts.last?.passed == false)
        // A fact-based rule set: facts supplied with the request are checked; missing ones fail.
        let facts = InstantRuleSet(name: "area", rules: [
            InstantRule(id: "area", description: "经营面积不超过200平方米", condition: .factAtMost("area_m2", 200)),
            InstantRule(id: "kind", description: "申请人为企业", condition: .factEquals("applicant_kind", "legal_person")),
        ])
        let missing = try state.instantApprove(ruleSet: facts, facts: ["area_m2": "150"], requestedBy: "officer-li", on: day("2026-09-22"), at: noon("2026-09-22"), calendar: calendar)
        #expect(missing.trace.map(\.passed) == [true, false])
        #expect(!missing.granted)
        let passed = try state.instantApprove(ruleSet: facts, facts: ["area_m2": "150", "applicant_kind": "legal_person"], requestedBy: "officer-li", on: day("2026-09-22"), at: noon("2026-09-22"), calendar: calendar)
        #expect(passed.granted)
        #expect(state.instantAttempts.count == 3)
        // Items without instant approval refuse it; an undeclared rule set falls back.
        var plain = openCase(.sole)
        #expect(throws: ApprovalRuleError.self) {
            try plain.instantApprove(ruleSet: nil, facts: [:], requestedBy: "x", on: day("2026-09-22"), at: noon("2026-09-22"), calendar: calendar)
        }
        var undeclared = openCase(.sole, instant: true, ruleSet: "nope")
        let none = try undeclared.instantApprove(ruleSet: nil, facts: [:], requestedBy: "x", on: day("2026-09-22"), at: noon("2026-09-22"), calendar: calendar)
        #expect(!none.granted)
        #expect(undeclared.status == .inProgress)
    }

    func granted() throws -> CaseState {
        var state = openCase(.sole)
        try state.sign(stepID: "s0", conclusion: .proposeGrant, opinion: review, by: People.officer, at: noon("2026-09-22"), asOfficer: true)
        try state.decide(grant, by: People.officer, on: day("2026-09-22"), at: noon("2026-09-22"), calendar: calendar, defaultAppealRights: "")
        return state
    }

    @Test("revocation after a grant (Art. 69): a leader, a ground, facts; the public interest weighed except for fraud")
    func revocation() throws {
        var state = try granted()
        #expect(throws: ApprovalRuleError.self) {
            try state.revoke(ground: .unqualifiedApplicant, facts: "申请人提交的场地证明系伪造，实际不具备经营条件", publicInterestAssessment: "撤销不影响公共利益，周边另有同类经营者", publicInterestSeriouslyHarmed: false, findingID: "", by: People.officer, on: day("2026-10-12"))
        }
        #expect(throws: ApprovalRuleError.self) {
            try state.revoke(ground: .unqualifiedApplicant, facts: "申请人实际不具备经营条件", publicInterestAssessment: "", publicInterestSeriouslyHarmed: false, findingID: "", by: People.director, on: day("2026-10-12"))
        }
        #expect(throws: ApprovalRuleError.self) {
            try state.revoke(ground: .illegalProcedure, facts: "作出许可前未依法进行现场核查", publicInterestAssessment: "该店为片区唯一药品零售点，撤销将严重影响群众用药", publicInterestSeriouslyHarmed: true, findingID: "", by: People.director, on: day("2026-10-12"))
        }
        // Fraud must be revoked even when the public interest is harmed.
        try state.revoke(ground: .fraudOrBribery, facts: "被许可人以伪造的场地租赁合同骗取许可，经公安机关查证属实", publicInterestAssessment: "", publicInterestSeriouslyHarmed: true, findingID: "", by: People.director, on: day("2026-10-12"))
        #expect(state.status == .revoked)
        #expect(state.revocation?.ground == .fraudOrBribery)
        #expect(throws: ApprovalRuleError.self) {
            try state.cancel(ground: .other, facts: "被许可人申请注销该许可证件", findingID: "", by: People.director, on: day("2026-10-13"))
        }
        // A denial cannot be revoked.
        var denied = openCase(.sole)
        try denied.sign(stepID: "s0", conclusion: .proposeDeny, opinion: "经营场所与住宅混用，不符合食品安全要求，拟不予许可", by: People.officer, at: noon("2026-09-22"), asOfficer: true)
        try denied.decide(.deny(DenialTerms(reasons: ["经营场所与住宅混用，不符合食品安全要求"], legalBasis: "《食品经营许可管理办法》第十一条")), by: People.officer, on: day("2026-09-22"), at: noon("2026-09-22"), calendar: calendar, defaultAppealRights: "")
        #expect(throws: ApprovalRuleError.failedPrecondition("only a grant can be revoked; case 371302-20260921-000001 is denied")) {
            try denied.revoke(ground: .other, facts: "发现许可条件存在问题需要撤销", publicInterestAssessment: "撤销对公共利益无影响", publicInterestSeriouslyHarmed: false, findingID: "", by: People.director, on: day("2026-10-12"))
        }
    }

    @Test("findings: a withdrawal cancels the grant (Art. 70); a wrongful grant opens a revocation review for a leader")
    func findings() throws {
        var state = try granted()
        let withdrawn = FindingRecord(id: "f-1", kind: .licenceWithdrawn, departmentCode: "SCJG", departmentName: "兰山区市场监督管理局", facts: "因销售过期食品被依法吊销许可证",
                                      occurredOn: day("2026-10-15"), receivedAt: noon("2026-10-15"), effect: "")
        #expect(state.receive(withdrawn, on: day("2026-10-15")) == "cancelled")
        #expect(state.status == .cancelled)
        #expect(state.cancellation?.ground == .revokedWithdrawnOrSuspended)
        #expect(state.cancellation?.findingID == "f-1")

        var second = try granted()
        let wrong = FindingRecord(id: "f-2", kind: .revocationRecommended, departmentCode: "SCJG", departmentName: "", facts: "检查发现经营场所面积与许可申请不符",
                                  occurredOn: day("2026-10-15"), receivedAt: noon("2026-10-15"), effect: "")
        #expect(second.receive(wrong, on: day("2026-10-15")) == "revocation_review_opened")
        #expect(second.status == .granted)
        #expect(second.revocationReview?.state == .open)
        #expect(throws: ApprovalRuleError.self) { try second.dismissRevocationReview(reason: "经复核许可条件符合规定，面积差异系测量口径不同", by: People.officer) }
        try second.revoke(ground: .unqualifiedApplicant, facts: "经复核，申请人实际经营面积不足法定最低要求", publicInterestAssessment: "撤销不影响公共利益", publicInterestSeriouslyHarmed: false, findingID: "f-2", by: People.deputy, on: day("2026-10-20"))
        #expect(second.revocationReview?.state == .revoked)
        // An inspection result is only recorded.
        var third = try granted()
        let inspection = FindingRecord(id: "f-3", kind: .inspectionResult, departmentCode: "SCJG", departmentName: "", facts: "日常检查符合要求", occurredOn: nil, receivedAt: noon("2026-10-15"), effect: "")
        #expect(third.receive(inspection, on: day("2026-10-15")) == "recorded")
        #expect(third.status == .granted)
        // Cancellation by a leader with an Art. 70 ground.
        #expect(throws: ApprovalRuleError.self) { try third.cancel(ground: nil, facts: "", findingID: "", by: People.director, on: day("2026-10-16")) }
        try third.cancel(ground: .legalPersonTerminated, facts: "被许可人已办理注销登记，法人资格终止", findingID: "", by: People.director, on: day("2026-10-16"))
        #expect(third.status == .cancelled)
    }
}

@Suite("Audit hash chain")
struct AuditChainTests {
    static func chain(_ count: Int) -> [AuditRecord] {
        var records: [AuditRecord] = []
        for index in 0..<count {
            let previous = records.last.map { (sequence: $0.sequence, hash: $0.entryHash) }
            records.append(AuditRecord.next(
                after: previous, caseID: "c-\(index % 3)", action: index == 0 ? "case.opened" : "step.signed", actorSubject: "officer-li", actorRole: "officer",
                actorNode: "371302", atMicros: 1_790_000_000_000_000 + Int64(index), detailsJSON: AuditRecord.details(["opinion": "意见 \(index)", "step": "s\(index)"])))
        }
        return records
    }

    @Test("each hash covers the previous hash and the action; an intact chain verifies")
    func intact() {
        let records = Self.chain(6)
        #expect(records[0].previousHash == AuditRecord.genesis)
        #expect(records[1].previousHash == records[0].entryHash)
        #expect(records[0].entryHash.count == 32)
        let result = AuditChain.verify(records, expectedHead: (6, records[5].entryHash))
        #expect(result.intact)
        #expect(result.entriesChecked == 6)
        #expect(result.headHash == records[5].entryHash)
        #expect(AuditRecord.details(["b": "2", "a": "1/x"]) == #"{"a":"1/x","b":"2"}"#)
    }

    @Test("an edited row is named")
    func edited() {
        var records = Self.chain(6)
        records[3].detailsJSON = AuditRecord.details(["opinion": "改过的意见", "step": "s3"])
        let result = AuditChain.verify(records)
        #expect(!result.intact)
        #expect(result.firstBrokenSequence == 4)
        #expect(result.message.contains("edited"))
        // Re-hashing the edited row does not help: the next row's link breaks.
        records[3].entryHash = records[3].computedHash
        #expect(AuditChain.verify(records).firstBrokenSequence == 5)
    }

    @Test("a deleted row, and a deleted tail, are found")
    func deleted() {
        var records = Self.chain(6)
        records.remove(at: 2)
        let result = AuditChain.verify(records)
        #expect(!result.intact)
        #expect(result.firstBrokenSequence == 4)
        #expect(result.message.contains("missing"))
        let all = Self.chain(6)
        let tail = AuditChain.verify(Array(all.prefix(4)), expectedHead: (6, all[5].entryHash))
        #expect(!tail.intact)
        #expect(tail.firstBrokenSequence == 5)
    }

    @Test("reordered rows are found, whether the sequence numbers are swapped or not")
    func reordered() {
        var records = Self.chain(6)
        records.swapAt(2, 3)
        #expect(AuditChain.verify(records).firstBrokenSequence == 4)
        var renumbered = Self.chain(6)
        renumbered.swapAt(2, 3)
        renumbered[2].sequence = 3
        renumbered[3].sequence = 4
        let result = AuditChain.verify(renumbered)
        #expect(!result.intact)
        #expect(result.firstBrokenSequence == 3)
    }
}
