import Foundation
import GRPCCore
import OneSealAuth
import OneSealLocalCluster
import OneSealProto
import Testing

/// The city (371300) and the county (371302) as ten real processes, driven through RPC only:
/// every flow of docs/architecture.md#the-life-of-a-case from the window to the rating, across both nodes.
@Suite("Two nodes end to end (ten processes, real PostgreSQL, RPC only)", .serialized)
struct TwoNodeScenarioTests {
    static let city = Hall.city
    static let county = Hall.county

    @Test("window → approval → licence → delivery → push → claim → rating, at the county and across to the city, with every statutory turn")
    func statutoryWalk() async throws {
        try await withTwoNodes { cluster, hall in
            var tally = Tally()
            let sole = try await soleOfficerAtCounty(hall, &tally)
            try await instantApproval(hall, presenting: sole.licence, &tally)
            try await cityItemThroughCounty(hall, &tally)
            try await correctionThenSupplement(hall, &tally)
            try await notAccepted(hall, &tally)
            let denied = try await denialWithReasons(hall, &tally)
            try await threeItemBundle(hall, &tally)
            try await suspensionAndExtension(hall, &tally)
            try await withdrawalCancelsEverywhere(hall, licence: sole.licence, caseID: sole.caseID)
            try await badReviewRectified(hall, caseID: denied, &tally)
            try await figuresMatch(hall, tally)
        }
    }

    @Test("an application left without an outcome for 5 working days is deemed accepted from the day it was received (the executables' clock moved on)")
    func deemedAcceptance() async throws {
        let clockFile = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-e2e-clock-\(UUID().uuidString.prefix(8))")
        try "0".write(to: clockFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: clockFile) }
        try await withTwoNodes(environment: ["ONESEAL_TEST_CLOCK_FILE": clockFile.path, "ONESEAL_SWEEP_INTERVAL_SECONDS": "0.5"]) { _, hall in
            let submitted = try await hall.submit(at: Self.county, items: [Hall.countyFoodItem])
            let id = submitted.application.applicationID
            let receivedOn = submitted.application.submittedOn
            let due = submitted.application.intakeDeadline.dueOn
            try await Task.sleep(for: .seconds(2))
            #expect(try await hall.application(at: Self.county, id).status == .submitted, "not deemed before the limit")

            // Ten calendar days later the clerk has still not acted: past 5 working days, whatever the holidays.
            try String(10 * 86_400).write(to: clockFile, atomically: true, encoding: .utf8)
            let deemed = try await eventually("application \(id) deemed accepted (due \(due))") {
                let application = try await hall.application(at: Self.county, id)
                return application.status == .accepted ? application : nil
            }
            #expect(deemed.outcome == .deemedAccepted, "outcome \(deemed.outcome)")
            let opened = try #require(try await hall.cases(of: id, at: Self.county).first)
            #expect(opened.acceptedOn == receivedOn, "the statutory clock runs from the day the application was received")
            #expect(opened.acceptanceKind == .deemed)
            await #expect { _ = try await hall.accept(at: Self.county, id) } throws: { ($0 as? RPCError)?.code == .failedPrecondition }
        }
    }

    /// What the scenarios did at the county window, to check the evaluation figures against.
    struct Tally {
        var received = 0
        var accepted = 0
        var corrections = 0
        var notAccepted = 0
        var granted = 0
        var denied = 0
        var ratings = 0
        var badReviews = 0
    }

    // MARK: Scenarios

    /// 食品经营许可 (county, sole officer): the whole life of one case at one node.
    func soleOfficerAtCounty(_ hall: Hall, _ tally: inout Tally) async throws -> (caseID: String, licence: Certificate_Licence) {
        let submitted = try await hall.submit(at: Self.county, items: [Hall.countyFoodItem])
        #expect(submitted.checkFindings.isEmpty, "complete materials: \(submitted.checkFindings)")
        let id = submitted.application.applicationID
        let accepted = try await hall.accept(at: Self.county, id)
        #expect(accepted.status == .accepted)
        tally.received += 1
        tally.accepted += 1

        let opened = try #require(try await hall.cases(of: id, at: Self.county).first)
        #expect(opened.item.tier == .sole && opened.decidingNode.divisionCode == Self.county)
        // The window learns the case number from approval's CaseOpened, a moment after acceptance.
        let window = try await eventually("the window shows the case number") {
            let application = try await hall.application(at: Self.county, id)
            return application.items[0].caseNumber.isEmpty ? nil : application
        }
        #expect(window.items[0].caseNumber == opened.caseNumber)
        #expect(window.items[0].progress == .inApproval)

        let decided = try await hall.grant(opened.caseID, at: Self.county)
        #expect(decided.status == .granted)
        tally.granted += 1
        let licence = try await hall.licence(ofCase: opened.caseID, at: Self.county)
        #expect(licence.status == .valid)
        #expect(licence.content.holderName == Hall.company.name)
        // The issuer is the hall as its settings name it (ONESEAL_NODE_NAME / ONESEAL_NODE_USCC).
        #expect(licence.content.issuerName == "临沂市兰山区行政审批服务局" && licence.content.issuerCode == "11371302MB2850286Q")
        #expect(licence.content.licenceIdentifier.contains(".11371302MB2850286Q."))
        let ready = try await hall.awaitProgress(at: Self.county, id, .licenceIssued)
        #expect(ready.items[0].licence.licenceIdentifier == licence.content.licenceIdentifier)
        let delivered = try await hall.deliver(at: Self.county, id)
        #expect(delivered.status == .delivered)

        // Both market regulators are told (boundary list by basic code); the county one claims.
        let pushes = try await hall.pushes(of: opened.caseID, to: Hall.countyMarket, at: Self.county, count: 2)
        #expect(Set(pushes.map(\.kind)) == [.grant, .licence], "pushes: \(pushes.map(\.kind))")
        for push in pushes {
            let claimed = try await hall.claim(push.pushID, by: Hall.countyMarket, at: Self.county)
            #expect(claimed.status == .claimed)
        }
        _ = try await hall.pushes(of: opened.caseID, to: Hall.cityMarket, at: Self.county, count: 2)

        // The applicant verifies the licence at either node (互认) and rates the case.
        let here = try await hall.verify(licence.content.licenceIdentifier, at: Self.county)
        #expect(here.valid && here.authenticity == .authentic)
        let there = try await hall.verify(licence.content.licenceIdentifier, at: Self.city)
        #expect(there.valid && there.answeredByPeer, "the city verifies the county's licence through the county")
        let rating = try await hall.eventuallyRate(opened.caseID, at: Self.county, level: 5)
        #expect(!rating.rating.bad)
        tally.ratings += 1
        return (opened.caseID, licence)
    }

    /// 秒批: an item whose every material is an electronic licence, verified by intake against the
    /// issuing certificate service, is granted by the rules the moment its case opens.
    func instantApproval(_ hall: Hall, presenting licence: Certificate_Licence, _ tally: inout Tally) async throws {
        // The sample catalogue's instant item, as scripts/cluster imports it: one material, the food
        // licence itself, as a verified electronic licence.
        let item = try await hall.item(Hall.countyInstantItem, at: Self.county)
        #expect(item.instantApprovalAllowed && item.instantRuleSet == "e-licence-complete")
        #expect(item.materials.map(\.licenceTypeCode) == [licence.content.licenceTypeCode])
        let presented = Intake_ProvidedMaterial.with {
            $0.requirementCode = "M01"; $0.implementationCodes = [item.implementationCode]; $0.name = "食品经营许可证"; $0.form = .electronic; $0.copies = 0
            $0.electronicLicence = Common_LicenceRef.with {
                $0.licenceIdentifier = licence.content.licenceIdentifier; $0.licenceNumber = licence.content.licenceNumber
                $0.licenceTypeCode = licence.content.licenceTypeCode; $0.licenceName = licence.content.licenceName
            }
        }
        let submitted = try await hall.submit(at: Self.county, items: [item.implementationCode], leaving: ["M01"], materials: [presented])
        #expect(submitted.checkFindings.isEmpty, "\(submitted.checkFindings)")
        let material = try #require(submitted.application.materials.first)
        #expect(material.licenceVerified, "intake verified the licence with certificate@371302: \(material.licenceVerificationDetail)")
        let id = submitted.application.applicationID
        _ = try await hall.accept(at: Self.county, id)
        tally.received += 1
        tally.accepted += 1
        let decided = try await eventually("the instant case granted") {
            let cases = try await hall.cases(of: id, at: Self.county)
            return cases.first { $0.status == .granted }
        }
        #expect(decided.decision.instant)
        #expect(decided.decision.ruleTrace.allSatisfy(\.passed) && decided.decision.ruleTrace.count == 2)
        tally.granted += 1
        _ = try await hall.licence(ofCase: decided.caseID, at: Self.county)
    }

    /// 取水许可 (city, deputy director) handed in at the county: forwarded, decided and issued by the
    /// city, handed out at the county window.
    func cityItemThroughCounty(_ hall: Hall, _ tally: inout Tally) async throws {
        let id = try await acceptedAtCounty(hall, [Hall.cityWaterItem], &tally)
        let forwarded = try await hall.clients.intake(Self.county).forwardToCity(.with {
            $0.applicationID = id
            $0.firstReviewOpinion = "经初审，取水地点位于沂河兰山段，水资源论证报告结论明确，材料齐全，建议准予"
        }, metadata: try hall.clerk(Self.county)).application
        #expect(forwarded.status == .forwarded)

        let opened = try #require(try await hall.cases(of: id, at: Self.city).first)
        #expect(opened.item.tier == .deputy && opened.acceptingNode.divisionCode == Self.county)
        #expect(opened.firstReviewOpinion.hasPrefix("经初审"))
        let decided = try await hall.grant(opened.caseID, at: Self.city)
        #expect(decided.status == .granted)
        #expect(decided.steps.count >= 3, "officer, section chief and deputy director signed: \(decided.steps.map(\.role))")
        let licence = try await hall.licence(ofCase: opened.caseID, at: Self.city)
        #expect(licence.content.issuingNode == Self.city)
        let ready = try await hall.awaitProgress(at: Self.county, id, .licenceIssued)
        #expect(ready.items[0].licence.licenceIdentifier == licence.content.licenceIdentifier)
        let delivered = try await hall.deliver(at: Self.county, id)
        #expect(delivered.status == .delivered)
        let pushes = try await hall.pushes(of: opened.caseID, to: Hall.cityWater, at: Self.city, count: 2)
        #expect(pushes.allSatisfy { $0.status == .pending })
        // The county's approval never saw the city's case.
        let countyCases = try await hall.clients.approval(Self.county).listCases(.with { $0.applicationID = id }, metadata: try hall.clients.metadata(.director, "director-zhou", node: Self.county)).cases
        #expect(countyCases.isEmpty)
    }

    /// One correction notice listing exactly what the check found; the applicant corrects; then a
    /// supplement on another application before the clerk's outcome.
    func correctionThenSupplement(_ hall: Hall, _ tally: inout Tally) async throws {
        let submitted = try await hall.submit(at: Self.county, items: [Hall.countyFoodItem], leaving: ["M01"])
        #expect(submitted.checkFindings.map(\.requirementCode) == ["M01"])
        let id = submitted.application.applicationID
        tally.received += 1
        let notice = try await hall.clients.intake(Self.county).issueCorrectionNotice(.with {
            $0.applicationID = id; $0.problems = submitted.checkFindings
        }, metadata: try hall.clerk(Self.county))
        #expect(notice.application.status == .correctionRequested)
        tally.corrections += 1
        // A second notice is refused: the notice is one-time.
        await #expect { _ = try await hall.clients.intake(Self.county).issueCorrectionNotice(.with { $0.applicationID = id; $0.problems = submitted.checkFindings }, metadata: try hall.clerk(Self.county)) } throws: {
            ($0 as? RPCError)?.code == .failedPrecondition
        }
        let item = try await hall.item(Hall.countyFoodItem, at: Self.county)
        let missing = Hall.materials(for: [item]).filter { $0.requirementCode == "M01" }
        let corrected = try await hall.clients.intake(Self.county).submitCorrection(.with { $0.applicationID = id; $0.materials = missing }, metadata: try hall.clerk(Self.county))
        #expect(corrected.stillOpen.isEmpty)
        _ = try await hall.accept(at: Self.county, id)
        tally.accepted += 1
        _ = try await hall.cases(of: id, at: Self.county)

        // A supplement: materials added while the application still waits for the clerk.
        let second = try await hall.submit(at: Self.county, items: [Hall.countyFoodItem], leaving: ["M01"])
        tally.received += 1
        let supplemented = try await hall.clients.intake(Self.county).submitCorrection(.with {
            $0.applicationID = second.application.applicationID; $0.materials = missing
        }, metadata: try hall.clerk(Self.county))
        #expect(supplemented.stillOpen.isEmpty && supplemented.application.correctionNotices.isEmpty)
        _ = try await hall.accept(at: Self.county, second.application.applicationID)
        tally.accepted += 1
    }

    /// 不予受理 with its ground, reason, legal basis and the competent agency.
    func notAccepted(_ hall: Hall, _ tally: inout Tally) async throws {
        let submitted = try await hall.submit(at: Self.county, items: [Hall.countyFoodItem])
        tally.received += 1
        let rejected = try await hall.clients.intake(Self.county).rejectApplication(.with {
            $0.applicationID = submitted.application.applicationID
            $0.ground = .outsidePowers
            $0.reason = "经营场所位于河东区，不属于本机关管辖范围"
            $0.legalBasis = "《中华人民共和国行政许可法》第三十二条第一款第二项"
            $0.competentAgency = "临沂市河东区行政审批服务局"
        }, metadata: try hall.clerk(Self.county))
        #expect(rejected.application.status == .notAccepted)
        #expect(rejected.notice.competentAgency == "临沂市河东区行政审批服务局")
        tally.notAccepted += 1
        // Nothing reaches approval.
        try await Task.sleep(for: .milliseconds(500))
        let cases = try await hall.clients.approval(Self.county).listCases(.with { $0.applicationID = submitted.application.applicationID }, metadata: try hall.clients.metadata(.director, "director-zhou", node: Self.county)).cases
        #expect(cases.isEmpty)
    }

    /// 不予许可: reasons and legal basis reach the window; no licence, no push.
    func denialWithReasons(_ hall: Hall, _ tally: inout Tally) async throws -> String {
        let id = try await acceptedAtCounty(hall, [Hall.countyFoodItem], &tally)
        let opened = try #require(try await hall.cases(of: id, at: Self.county).first)
        let denied = try await hall.deny(opened.caseID, at: Self.county,
                                         reasons: ["经现场核查，经营场所与污染源距离不足二十五米，不符合食品经营许可条件"],
                                         legalBasis: "《食品经营许可和备案管理办法》第十二条")
        #expect(denied.status == .denied)
        #expect(denied.decision.denial.appealRights.contains("六十日内"))
        tally.denied += 1
        let window = try await hall.awaitProgress(at: Self.county, id, .denied)
        #expect(window.items[0].denialSummary.contains("二十五米"))
        let licences = try await hall.clients.certificate(Self.county).listLicences(.with { $0.caseID = opened.caseID }, metadata: try hall.clients.metadata(.certificateOperator, "cert-1", node: Self.county)).licences
        #expect(licences.isEmpty)
        return opened.caseID
    }

    /// One application, three county items (一件事): three cases, three licences.
    func threeItemBundle(_ hall: Hall, _ tally: inout Tally) async throws {
        let codes = [Hall.countyFoodItem, "000117016000371302002", "000127009000371302013"]
        let submitted = try await hall.submit(at: Self.county, items: codes)
        #expect(submitted.checkFindings.isEmpty, "\(submitted.checkFindings)")
        let id = submitted.application.applicationID
        _ = try await hall.accept(at: Self.county, id)
        tally.received += 1
        tally.accepted += 1
        let cases = try await hall.cases(of: id, at: Self.county, count: 3)
        #expect(Set(cases.map(\.item.implementationCode)) == Set(codes))
        #expect(Set(cases.map(\.bundleID)).count == 1 && !cases[0].bundleID.isEmpty)
        for item in cases {
            try await hall.grant(item.caseID, at: Self.county)
            tally.granted += 1
        }
        for item in cases { _ = try await hall.licence(ofCase: item.caseID, at: Self.county) }
        let ready = try await hall.awaitProgress(at: Self.county, id, .licenceIssued)
        #expect(ready.items.count == 3)
    }

    /// 专家评审 stops the clock and the window sees it; the director grants the one extension.
    func suspensionAndExtension(_ hall: Hall, _ tally: inout Tally) async throws {
        let id = try await acceptedAtCounty(hall, [Hall.countyFoodItem], &tally)
        let opened = try #require(try await hall.cases(of: id, at: Self.county).first)
        let officer = try hall.clients.metadata(.officer, "officer-li", node: Self.county)
        let suspended = try await hall.clients.approval(Self.county).suspendClock(.with {
            $0.caseID = opened.caseID; $0.reason = .expertReview; $0.expectedDays = 5
            $0.noticeText = "因需组织专家评审，审批期限中止，评审时间不计入审批期限"
        }, metadata: officer)
        #expect(suspended.case.status == .suspended)
        _ = try await hall.awaitProgress(at: Self.county, id, .suspended)
        let resumed = try await hall.clients.approval(Self.county).resumeClock(.with { $0.caseID = opened.caseID; $0.result = "专家组评审通过，认为设施布局符合标准" }, metadata: officer)
        #expect(resumed.case.status == .inProgress)
        _ = try await hall.awaitProgress(at: Self.county, id, .inApproval)
        let director = try hall.clients.metadata(.director, "director-zhou", node: Self.county)
        let reason = "现场核查发现需补充检测报告，二十日内难以作出决定，经本机关负责人批准延长十日"
        let extended = try await hall.clients.approval(Self.county).requestExtension(.with { $0.caseID = opened.caseID; $0.reason = reason }, metadata: director)
        #expect(extended.case.extension.extensionDays == 10)
        await #expect { _ = try await hall.clients.approval(Self.county).requestExtension(.with { $0.caseID = opened.caseID; $0.reason = reason }, metadata: director) } throws: {
            ($0 as? RPCError)?.code == .failedPrecondition
        }
        // The window's deadline follows the statutory one (DeadlineExtended reaches intake).
        #expect(extended.case.statutoryDeadline.extensionWorkingDays == 10, "\(extended.case.statutoryDeadline)")
        let due = extended.case.deadline.dueOn
        let shown = try await eventually("the window shows the case's deadline after the extension (\(due))") {
            let item = try await hall.application(at: Self.county, id).items[0]
            return item.deadline.dueOn == due && item.notices.count == 2 ? item : nil
        }
        // Both written notices reached the window, numbered, with their text, for the applicant.
        #expect(shown.notices.map(\.title) == ["暂停计时告知书", "延长审批期限告知书"])
        #expect(shown.notices.map(\.number) == [suspended.suspension.notice.number, extended.case.extension.notice.number])
        #expect(shown.notices.allSatisfy { !$0.content.isEmpty && !$0.number.isEmpty })
        // The applicant downloads them with their own token (typed in lower case: the same company),
        // each with its legal ground; the extension's names the new statutory due date.
        let mine = try await hall.clients.intake(Self.county).getApplication(.with { $0.applicationID = id },
            metadata: try hall.clients.metadata(.applicant, Hall.uscc.lowercased(), node: Self.county)).application.items[0].notices
        #expect(mine.map(\.number) == shown.notices.map(\.number))
        let suspensionText = String(decoding: mine[0].content, as: UTF8.self)
        #expect(suspensionText.contains(mine[0].number) && suspensionText.contains("第四十五条") && suspensionText.contains("5个工作日"), "\(suspensionText)")
        let statutoryDue = extended.case.statutoryDeadline.dueOn
        #expect(statutoryDue.year >= 2026)
        let extensionText = String(decoding: mine[1].content, as: UTF8.self)
        #expect(extensionText.contains(mine[1].number) && extensionText.contains("第四十二条")
                && extensionText.contains("\(statutoryDue.year)年\(statutoryDue.month)月\(statutoryDue.day)日"), "\(extensionText)")
        try await hall.grant(opened.caseID, at: Self.county)
        tally.granted += 1
    }

    /// The department withdraws the licence (吊销): approval cancels the grant (注销), the certificate
    /// service marks the licence, verification shows it cancelled at both nodes, and so does the window.
    func withdrawalCancelsEverywhere(_ hall: Hall, licence: Certificate_Licence, caseID: String) async throws {
        let push = try #require(try await hall.pushes(of: caseID, to: Hall.countyMarket, at: Self.county, count: 2).first { $0.kind == .licence })
        var finding = Supervision_Finding()
        finding.kind = .licenceWithdrawn
        finding.pushID = push.pushID
        finding.licence.licenceNumber = licence.content.licenceNumber
        finding.penalty = Supervision_Penalty.with {
            $0.decisionNumber = "兰市监罚〔2026〕88号"; $0.penaltyType = "吊销许可证"; $0.decidedOn = push.decidedOn
        }
        finding.facts = "经营者使用过期原料生产食品，情节严重，依法吊销食品经营许可证"
        finding.occurredOn = push.decidedOn
        let submitted = try await hall.clients.supervision(Self.county).submitFinding(.with { $0.finding = finding; $0.idempotencyKey = "scjg-88" }, metadata: try hall.department(Hall.countyMarket))
        #expect(submitted.finding.effect == .cancellation)
        let cancelled = try await eventually("case \(caseID) cancelled at approval@\(Self.county)") {
            let state = try await hall.getCase(caseID, at: Self.county)
            return state.status == .cancelled ? state : nil
        }
        #expect(cancelled.cancellation.findingID == submitted.finding.findingID)
        for node in [Self.county, Self.city] {
            let answer = try await eventually("licence cancelled as seen from \(node)") {
                let answer = try await hall.verify(licence.content.licenceIdentifier, at: node)
                return answer.status == .cancelled ? answer : nil
            }
            #expect(!answer.valid)
        }
        // The window that accepted it shows the cancellation too (GrantCancelled reaches intake).
        let window = try await hall.awaitProgress(at: Self.county, cancelled.applicationID, .cancelled)
        #expect(window.status == .delivered)
        // The cancellation is pushed too (once), to the departments on the boundary list.
        let after = try await hall.pushes(of: caseID, to: Hall.countyMarket, at: Self.county, count: 3)
        #expect(after.filter { $0.kind == .cancellation }.count == 1, "\(after.map(\.kind))")
    }

    /// A bad review opens a rectification ticket: call-back, rectification, the applicant rates the fix.
    func badReviewRectified(_ hall: Hall, caseID: String, _ tally: inout Tally) async throws {
        let bad = try await hall.eventuallyRate(caseID, at: Self.county, level: 1, comment: "窗口未一次性告知所需材料", phone: "13912345678")
        #expect(bad.rating.bad)
        tally.ratings += 1
        tally.badReviews += 1
        let ticket = bad.rectification
        #expect(!ticket.rectificationID.isEmpty)
        let evaluation = hall.clients.evaluation(Self.county)
        var call = Evaluation_RecordCallBackRequest()
        call.rectificationID = ticket.rectificationID
        call.callBack.reached = true
        call.callBack.summary = "电话回访申请人"
        call.callBack.verifiedFacts = "窗口人员未一次性告知，情况属实"
        call.callBack.justified = true
        _ = try await evaluation.recordCallBack(call, metadata: try hall.clients.metadata(.evaluator, "evaluator-1", node: Self.county))
        var complete = Evaluation_CompleteRectificationRequest()
        complete.rectificationID = ticket.rectificationID
        complete.measures = "对窗口人员开展一次性告知培训"
        complete.feedback = "已电话致歉并告知整改措施"
        let rectified = try await evaluation.completeRectification(complete, metadata: try hall.clients.metadata(.sectionChief, "chief-zhao", node: Self.county)).rectification
        #expect(rectified.status == .rectified)
        var rateFix = Evaluation_RateRectificationRequest()
        rateFix.rectificationID = ticket.rectificationID
        rateFix.level = .satisfied
        let closed = try await evaluation.rateRectification(rateFix, metadata: try hall.applicant(node: Self.county)).rectification
        #expect(closed.status == .closed)
    }

    /// The county's figures for today count exactly what the scenarios did at its window.
    func figuresMatch(_ hall: Hall, _ tally: Tally) async throws {
        let today = try await hall.application(at: Self.county, try await anyApplication(hall)).submittedOn
        var request = Evaluation_EfficiencyFiguresRequest()
        request.period.from = today
        request.period.to = today
        let leader = try hall.clients.metadata(.leader, "leader-1", node: Self.county)
        let figures = try await eventually("county figures count every event", timeout: .seconds(60)) {
            let total = try await hall.clients.evaluation(Self.county).efficiencyFigures(request, metadata: leader).total.metrics
            return total.received == tally.received && total.granted >= tally.granted ? total : nil
        }
        #expect(figures.received == Int64(tally.received))
        #expect(figures.accepted == Int64(tally.accepted))
        #expect(figures.corrections == Int64(tally.corrections))
        #expect(figures.notAccepted == Int64(tally.notAccepted))
        #expect(figures.denied == Int64(tally.denied))
        #expect(figures.ratings == Int64(tally.ratings))
        #expect(figures.badReviews == Int64(tally.badReviews))
    }

    /// The clerk takes a complete application at the county window and accepts it.
    func acceptedAtCounty(_ hall: Hall, _ items: [String], _ tally: inout Tally) async throws -> String {
        let submitted = try await hall.submit(at: Self.county, items: items)
        let id = submitted.application.applicationID
        _ = try await hall.accept(at: Self.county, id)
        tally.received += 1
        tally.accepted += 1
        return id
    }

    func anyApplication(_ hall: Hall) async throws -> String {
        try await hall.clients.intake(Self.county).listApplications(Intake_ListApplicationsRequest(), metadata: try hall.clerk(Self.county)).applications[0].applicationID
    }
}

extension Hall {
    /// Evaluation learns of a case from approval's events; a rating right after the decision may
    /// find it not there yet (NOT_FOUND), so the applicant's app retries for a while.
    func eventuallyRate(_ caseID: String, at node: String, level: Int, comment: String = "", phone: String = "") async throws -> Evaluation_SubmitRatingResponse {
        try await eventually("rating of case \(caseID) accepted") {
            do {
                return try await rate(caseID, at: node, level: level, comment: comment, phone: phone)
            } catch let error as RPCError where error.code == .notFound {
                return nil
            }
        }
    }
}
