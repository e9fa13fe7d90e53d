import OneSealCore
import Testing

@testable import IntakeRules

@Suite("Intake outcomes and transitions")
struct ApplicationStateTests {
    let monday = day("2026-03-02")

    @Test("complete materials are accepted, with the approval clock from the acceptance day")
    func accept() throws {
        var application = Fixtures.application(materials: Fixtures.completeFoodMaterials)
        #expect(application.check.isComplete)
        #expect(application.allowedOutcomes.contains(.accepted))
        try application.apply(.accept(on: day("2026-03-03")))
        #expect(application.status == .accepted && application.outcome == .accepted && application.acceptanceKind == .complete)
        #expect(application.acceptedOn == day("2026-03-03"))
        #expect(try application.approvalClock(for: "000117005000371302001")?.deadline(in: .china) == day("2026-03-31"))
        #expect(application.history.map(\.action) == ["submit", "accept"])
    }

    @Test("accepting incomplete materials is refused")
    func acceptIncomplete() {
        var application = Fixtures.application(materials: [Fixtures.paper("M01")])
        let error = intakeError { try application.apply(.accept(on: monday)) }
        #expect(error?.statusCodeName == "FAILED_PRECONDITION")
        #expect(error?.description.contains("M02") == true)
    }

    @Test("the check lists every missing required material and every defective one, with a reason")
    func materialCheck() {
        let application = Fixtures.application(materials: [
            Fixtures.paper("M01", .copy),                        // wrong form: original required
            ProvidedMaterial(requirementCode: "M03", form: .copy, copies: 1, fileID: nil),  // nothing attached
            ProvidedMaterial(requirementCode: "M02", form: .electronic, electronicLicence: LicenceRef(licenceTypeCode: Fixtures.businessLicenceType),
                             licenceVerified: false, licenceVerificationDetail: "revoked"),
        ])
        let problems = application.check.problems
        #expect(problems.map { "\($0.requirementCode):\($0.kind.rawValue)" } == ["M01:wrong_form", "M02:expired", "M03:incomplete"])
        #expect(problems.allSatisfy { !$0.howToFix.isEmpty })
        let missing = Fixtures.application(materials: []).check.problems
        #expect(missing.map(\.requirementCode) == ["M01", "M02", "M03"])  // M04 is optional
        #expect(missing.allSatisfy { $0.kind == .missing })
    }

    @Test("a verified electronic licence satisfies the material without an upload")
    func electronicLicence() {
        let application = Fixtures.application(materials: [
            Fixtures.paper("M01"), Fixtures.paper("M03", .copy),
            ProvidedMaterial(requirementCode: "M02", form: .electronic, electronicLicence: LicenceRef(licenceTypeCode: Fixtures.businessLicenceType), licenceVerified: true),
        ])
        #expect(application.check.isComplete)
    }

    @Test("correction notice, supplement, then acceptance; history kept")
    func correctionThenAccept() throws {
        var application = Fixtures.application(materials: [Fixtures.paper("M01")])
        try application.apply(.issueCorrectionNotice(problems: application.check.problems, on: monday, onTheSpot: true))
        #expect(application.status == .correctionRequested && application.outcome == .correctionRequested)
        #expect(application.correctionNotice?.problems.map(\.requirementCode) == ["M02", "M03"])
        try application.apply(.supplyCorrection(materials: [Fixtures.paper("M02", .copy), Fixtures.paper("M03", .copy)], on: day("2026-03-09")))
        #expect(application.status == .submitted && application.outcome == nil)
        // The 5-day clock restarts from the supplement: 03-10 … 03-16.
        #expect(application.intakeClockStartedOn == day("2026-03-09"))
        #expect(application.intakeDeadline == day("2026-03-16"))
        try application.apply(.accept(on: day("2026-03-10")))
        #expect(application.acceptedOn == day("2026-03-10"))
        #expect(application.history.map(\.action) == ["submit", "issue_correction_notice", "supply_correction", "accept"])
    }

    @Test("an online answer to the notice supplies only what it lists: anything else is named")
    func onlyListedMaterialsAnswerTheNotice() throws {
        var application = Fixtures.application(materials: [Fixtures.paper("M01")])
        try application.apply(.issueCorrectionNotice(problems: application.check.problems, on: monday, onTheSpot: false))
        let notice = try #require(application.correctionNotice)
        #expect(notice.unlisted([Fixtures.paper("M02"), Fixtures.paper("M03")]).isEmpty)
        #expect(notice.unlisted([Fixtures.paper("M03"), Fixtures.paper("M01"), Fixtures.paper("M99")]).map { "\($0.field) \($0.reason)" } == [
            "materials[1].requirement_code correction.not_listed", "materials[2].requirement_code correction.not_listed",
        ])
        // A material for another item of a bundle is not what the notice asks for this item.
        #expect(notice.unlisted([Fixtures.paper("M02", items: ["000117005000371302001"])]).isEmpty)
        let scoped = CorrectionNotice(
            issuedOn: monday, problems: [MaterialProblem(implementationCode: "A", requirementCode: "M02", materialName: "x", kind: .missing, howToFix: "")],
            onTheSpot: false)
        #expect(scoped.unlisted([Fixtures.paper("M02", items: ["B"])]).count == 1)
        #expect(scoped.unlisted([Fixtures.paper("M02", items: ["A"])]).isEmpty)
    }

    @Test("one-time correction: a second notice is refused")
    func secondNoticeRefused() throws {
        var application = Fixtures.application(materials: [Fixtures.paper("M01")])
        try application.apply(.issueCorrectionNotice(problems: application.check.problems, on: monday))
        try application.apply(.supplyCorrection(materials: [Fixtures.paper("M02", .copy)], on: day("2026-03-04")))
        let stillMissing = application.check.problems
        #expect(stillMissing.map(\.requirementCode) == ["M03"])
        let error = intakeError { try application.apply(.issueCorrectionNotice(problems: stillMissing, on: day("2026-03-05"))) }
        #expect(error?.statusCodeName == "FAILED_PRECONDITION")
        #expect(error?.description.contains("already issued") == true)
        #expect(application.allowedOutcomes.contains(.correctionRequested) == false)
        // The way out: refuse because the correction was not made.
        try application.apply(.reject(NotAcceptedDecision(ground: .correctionNotMade, reason: "未按补正告知提交食品安全管理制度文本",
                                                          legalBasis: "《中华人民共和国行政许可法》第三十二条"), on: day("2026-03-05")))
        #expect(application.status == .notAccepted)
    }

    @Test("one-time correction: a notice listing a material the check found complete is refused")
    func noticeListsCompleteMaterial() {
        var application = Fixtures.application(materials: [Fixtures.paper("M01"), Fixtures.paper("M02", .copy)])
        var problems = application.check.problems
        problems.append(MaterialProblem(implementationCode: "000117005000371302001", requirementCode: "M01", materialName: "食品经营许可申请书", kind: .incomplete, howToFix: "重新填写"))
        let error = intakeError { try application.apply(.issueCorrectionNotice(problems: problems, on: monday)) }
        #expect(error?.fieldViolations.map(\.field) == ["problems[1]"])
        #expect(error?.fieldViolations.first?.reason == "correction.lists_complete_material")
        #expect(application.status == .submitted && application.correctionNotice == nil)
    }

    @Test("one-time correction: a notice that leaves out a missing material is refused")
    func noticeMissesSomething() {
        var application = Fixtures.application(materials: [Fixtures.paper("M01")])
        let partial = application.check.problems.filter { $0.requirementCode == "M02" }
        let error = intakeError { try application.apply(.issueCorrectionNotice(problems: partial, on: monday)) }
        #expect(error?.fieldViolations.map(\.text) == ["problems: the notice leaves out 000117005000371302001/M03; Art. 32 requires everything to be told at once"])
        let empty = intakeError { try application.apply(.issueCorrectionNotice(problems: [], on: monday)) }
        #expect(empty?.fieldViolations.first?.field == "problems")
    }

    @Test("not accepted needs ground, reason and legal basis, and the competent agency when outside our powers")
    func notAccepted() throws {
        var application = Fixtures.application(materials: Fixtures.completeFoodMaterials)
        let blank = intakeError { try application.apply(.reject(NotAcceptedDecision(ground: nil, reason: "", legalBasis: " "), on: monday)) }
        #expect(Set(blank?.fieldViolations.map(\.field) ?? []) == ["ground", "reason", "legal_basis"])
        let noAgency = intakeError {
            try application.apply(.reject(NotAcceptedDecision(ground: .outsidePowers, reason: "属省级事权", legalBasis: "《中华人民共和国行政许可法》第三十二条第一款第二项"), on: monday))
        }
        #expect(noAgency?.fieldViolations.map(\.field) == ["competent_agency"])
        let noNotice = intakeError {
            try application.apply(.reject(NotAcceptedDecision(ground: .correctionNotMade, reason: "未补正", legalBasis: "第三十二条"), on: monday))
        }
        #expect(noNotice?.statusCodeName == "FAILED_PRECONDITION")
        try application.apply(.reject(NotAcceptedDecision(ground: .outsidePowers, reason: "申请事项属省级事权", legalBasis: "《中华人民共和国行政许可法》第三十二条第一款第二项",
                                                          competentAgency: "山东省市场监督管理局"), on: monday))
        #expect(application.status == .notAccepted && application.outcome == .notAccepted)
        #expect(application.notAccepted?.competentAgency == "山东省市场监督管理局")
    }

    @Test("容缺受理 for a non-core material, with a cure deadline in working days, then cured")
    func deficiency() throws {
        var application = Fixtures.application(materials: [Fixtures.paper("M01"), Fixtures.paper("M02", .copy)])
        #expect(application.allowedOutcomes.contains(.acceptedWithDeficiency))
        let key = MaterialKey(implementationCode: "000117005000371302001", requirementCode: "M03")
        try application.apply(.acceptWithDeficiency(DeficiencyDecision(missing: [key], supplyWithinDays: 10, undertaking: "承诺十个工作日内补齐"), on: monday))
        #expect(application.outcome == .acceptedWithDeficiency && application.acceptanceKind == .deficiency)
        // 10 working days after Mon 2026-03-02: 03-03 … 03-06 (4), 03-09 … 03-13 (9), 03-16 (10).
        #expect(application.deficiency?.supplyBy == day("2026-03-16"))
        let early = intakeError { try application.apply(.cureDeficiency(materials: [], on: day("2026-03-05"))) }
        #expect(early?.statusCodeName == "FAILED_PRECONDITION")
        try application.apply(.cureDeficiency(materials: [Fixtures.paper("M03", .copy)], on: day("2026-03-05")))
        #expect(application.deficiency?.suppliedOn == day("2026-03-05"))
        #expect(intakeError { try application.apply(.cureDeficiency(materials: [], on: day("2026-03-06"))) } != nil)
    }

    @Test("容缺受理 is refused for a core material")
    func deficiencyCoreRefused() {
        var application = Fixtures.application(materials: [Fixtures.paper("M01"), Fixtures.paper("M03", .copy)])
        #expect(!application.allowedOutcomes.contains(.acceptedWithDeficiency))
        let key = MaterialKey(implementationCode: "000117005000371302001", requirementCode: "M02")
        let error = intakeError { try application.apply(.acceptWithDeficiency(DeficiencyDecision(missing: [key], supplyWithinDays: 5, undertaking: "承诺补齐"), on: monday)) }
        #expect(error?.statusCodeName == "FAILED_PRECONDITION")
        #expect(error?.description.contains("core material") == true)
        #expect(application.status == .submitted)
    }

    @Test("容缺受理 is refused on an item that does not allow it, and needs days and an undertaking")
    func deficiencyItemAndFields() {
        var application = Fixtures.application(Fixtures.foodLicence(deficiencyAllowed: false), materials: [Fixtures.paper("M01"), Fixtures.paper("M02", .copy)])
        let key = MaterialKey(implementationCode: "000117005000371302001", requirementCode: "M03")
        let item = intakeError { try application.apply(.acceptWithDeficiency(DeficiencyDecision(missing: [key], supplyWithinDays: 5, undertaking: "承诺"), on: monday)) }
        #expect(item?.description.contains("does not allow 容缺受理") == true)
        let fields = intakeError { try application.apply(.acceptWithDeficiency(DeficiencyDecision(missing: [key], supplyWithinDays: 0, undertaking: ""), on: monday)) }
        #expect(Set(fields?.fieldViolations.map(\.field) ?? []) == ["supply_within_days", "undertaking"])
    }

    @Test("告知承诺 on an item that allows it records the commitment text")
    func commitment() throws {
        var application = Fixtures.application(Fixtures.foodLicence(commitmentAllowed: true), materials: [Fixtures.paper("M01"), Fixtures.paper("M02", .copy)])
        let uncovered = intakeError { try application.apply(.acceptByCommitment(CommitmentDecision(commitmentText: "本人承诺符合条件"), on: monday)) }
        #expect(uncovered?.description.contains("M03") == true)
        let blank = intakeError { try application.apply(.acceptByCommitment(CommitmentDecision(commitmentText: "", replacedRequirementCodes: ["M03", "M99"]), on: monday)) }
        #expect(Set(blank?.fieldViolations.map(\.field) ?? []) == ["commitment_text", "replaced_requirement_codes[1]"])
        try application.apply(.acceptByCommitment(CommitmentDecision(commitmentText: "本人承诺已建立食品安全管理制度", replacedRequirementCodes: ["M03"], signedFileID: "f-1"), on: monday))
        #expect(application.outcome == .acceptedByCommitment && application.acceptanceKind == .commitment)
        #expect(application.commitment?.commitmentText == "本人承诺已建立食品安全管理制度")
    }

    @Test("告知承诺 is refused on an item that does not allow it")
    func commitmentRefused() {
        var application = Fixtures.application(Fixtures.foodLicence(commitmentAllowed: false), materials: Fixtures.completeFoodMaterials)
        #expect(!application.allowedOutcomes.contains(.acceptedByCommitment))
        let error = intakeError { try application.apply(.acceptByCommitment(CommitmentDecision(commitmentText: "承诺"), on: monday)) }
        #expect(error?.statusCodeName == "FAILED_PRECONDITION")
        #expect(error?.description.contains("does not allow 告知承诺") == true)
    }

    @Test("every act on a decided application is refused with FAILED_PRECONDITION")
    func illegalTransitions() throws {
        let decision = NotAcceptedDecision(ground: .other, reason: "r", legalBasis: "b")
        let key = MaterialKey(implementationCode: "000117005000371302001", requirementCode: "M03")
        let acts: [IntakeAction] = [
            .accept(on: monday), .issueCorrectionNotice(problems: [], on: monday), .reject(decision, on: monday),
            .acceptWithDeficiency(DeficiencyDecision(missing: [key], supplyWithinDays: 5, undertaking: "u"), on: monday),
            .acceptByCommitment(CommitmentDecision(commitmentText: "c"), on: monday),
            .supplyCorrection(materials: [], on: monday), .deemAccept(today: day("2026-03-20")), .withdraw(reason: "", on: monday),
        ]
        var accepted = Fixtures.application(Fixtures.foodLicence(commitmentAllowed: true), materials: Fixtures.completeFoodMaterials)
        try accepted.apply(.accept(on: monday))
        var rejected = Fixtures.application(materials: Fixtures.completeFoodMaterials)
        try rejected.apply(.reject(decision, on: monday))
        var withdrawn = Fixtures.application(materials: Fixtures.completeFoodMaterials)
        try withdrawn.apply(.withdraw(reason: "不再需要", on: monday))
        #expect(withdrawn.status == .withdrawn)
        for var state in [accepted, rejected, withdrawn] {
            let before = state
            for act in acts {
                let error = intakeError { try state.apply(act) }
                #expect(error?.statusCodeName == "FAILED_PRECONDITION", "\(act.name) on \(state.status)")
                #expect(state == before)
            }
            #expect(intakeError { try state.apply(.cureDeficiency(materials: [], on: monday)) }?.statusCodeName == "FAILED_PRECONDITION")
        }
        // While waiting for a correction, only the supplement, a refusal or a withdrawal are possible.
        var waiting = Fixtures.application(materials: [Fixtures.paper("M01")])
        try waiting.apply(.issueCorrectionNotice(problems: waiting.check.problems, on: monday))
        for act in [acts[0], acts[3], acts[4], acts[6]] {
            #expect(intakeError { try waiting.apply(act) }?.statusCodeName == "FAILED_PRECONDITION", "\(act.name) while correction requested")
        }
        // Supplying without a notice is refused too.
        var fresh = Fixtures.application(materials: [])
        #expect(intakeError { try fresh.apply(.supplyCorrection(materials: [], on: monday)) }?.statusCodeName == "FAILED_PRECONDITION")
    }

    @Test("an act dated before receipt is refused")
    func beforeReceipt() {
        var application = Fixtures.application(materials: Fixtures.completeFoodMaterials)
        #expect(intakeError { try application.apply(.accept(on: day("2026-03-01"))) }?.fieldViolations.first?.field == "on")
    }

    @Test("an inactive item cannot be applied for; the same item twice is refused")
    func submissionChecks() {
        var item = Fixtures.foodLicence()
        item.active = false
        #expect(intakeError { _ = try ApplicationState(items: [Fixtures.pinned(item)], materials: [], receivedOn: day("2026-03-02")) }?.statusCodeName == "FAILED_PRECONDITION")
        let pinned = Fixtures.pinned(Fixtures.foodLicence())
        #expect(intakeError { _ = try ApplicationState(items: [pinned, pinned], materials: [], receivedOn: day("2026-03-02")) }?.fieldViolations.map(\.field) == ["items[1]"])
    }
}

@Suite("Supplements before the decision")
struct SupplementTests {
    @Test("materials added while waiting for the decision; the 5-day clock keeps its start; refused once decided")
    func supplement() throws {
        var application = Fixtures.application(materials: [Fixtures.paper("M01")])
        let deadline = application.intakeDeadline
        #expect(application.check.problems.map(\.requirementCode) == ["M02", "M03"])
        try application.apply(.supplement(materials: [Fixtures.paper("M02", .copy), Fixtures.paper("M03", .copy)], on: day("2026-03-03")))
        #expect(application.status == .submitted)
        #expect(application.intakeDeadline == deadline)
        #expect(application.check.isComplete)
        #expect(application.history.map(\.action) == ["submit", "supplement"])
        try application.apply(.accept(on: day("2026-03-03")))
        #expect(intakeError { try application.apply(.supplement(materials: [], on: day("2026-03-04"))) }?.statusCodeName == "FAILED_PRECONDITION")
    }

    @Test("an item's progress never goes back when another service's old news arrives late")
    func progressIsMonotonic() {
        // LicenceIssued (certificate) overtook CaseDecided (approval) while approval's relay was down.
        #expect(ItemProgress.licenceIssued.advanced(to: .granted) == .licenceIssued)
        // A CaseOpened delivered after the decision.
        #expect(ItemProgress.granted.advanced(to: .inApproval) == .granted)
        #expect(ItemProgress.denied.advanced(to: .suspended) == .denied)
        #expect(ItemProgress.delivered.advanced(to: .licenceIssued) == .delivered)
        // Forward moves, and suspension/resumption within the approval stage, apply.
        #expect(ItemProgress.pendingIntake.advanced(to: .inApproval) == .inApproval)
        #expect(ItemProgress.inApproval.advanced(to: .suspended) == .suspended)
        #expect(ItemProgress.suspended.advanced(to: .inApproval) == .inApproval)
        #expect(ItemProgress.granted.advanced(to: .licenceIssued) == .licenceIssued)
        #expect(ItemProgress.inApproval.advanced(to: .withdrawn) == .withdrawn)
        #expect(ItemProgress.allCases.allSatisfy { $0.advanced(to: $0) == $0 })
        // A revocation or cancellation comes after everything, even the delivery; a LicenceIssued
        // relayed late does not bring a cancelled licence back.
        #expect(ItemProgress.delivered.advanced(to: .cancelled) == .cancelled)
        #expect(ItemProgress.granted.advanced(to: .revoked) == .revoked)
        #expect(ItemProgress.cancelled.advanced(to: .licenceIssued) == .cancelled)
        #expect(ItemProgress.revoked.advanced(to: .delivered) == .revoked)
        #expect(ItemProgress.cancelled.isDecided && ItemProgress.revoked.isDecided)
    }
}
