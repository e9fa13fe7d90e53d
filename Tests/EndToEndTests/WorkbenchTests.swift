import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OneSealBenchSupport
import OneSealLocalCluster
import OneSealProto
import Testing

/// The staff workbench (#19) against both nodes as real processes: the operator creates an officer
/// and a window clerk with `oneseal staff add` on the county front's database, each signs in at
/// `/staff/sign-in` and sets their own password; an application accepted at the window shows in
/// the officer's work list (approval's ListCases with a token the front minted with its staff key,
/// trusted by approval for staff roles only); the clerk's session is refused the work list; a
/// disabled officer is signed out on the next click. The case page (W35–W37): a section-tier case
/// walked over HTTP by an officer and a section chief to its decision, refusals by field, a double
/// submission answered once, a clerk refused; the department inbox (W38): the inspector claims the
/// push; and the same walk in real browsers (tests/web/workbench_walk.py) with screenshots.
@Suite(.serialized) struct WorkbenchTests {
    static let county = Hall.county

    /// A browser without a cookie jar or redirect following: the test reads every answer.
    final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
        func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
            completionHandler(nil)
        }
    }

    struct Answer {
        var status: Int
        var page: String
        var location: String?
        var setCookie: String?

        var csrf: String? {
            guard let range = page.range(of: "name=\"csrf_token\" value=\"") else { return nil }
            return String(page[range.upperBound...].prefix { $0 != "\"" })
        }

        /// The value of hidden field `name` in the form with id `form` (several forms share a page).
        func field(_ name: String, in form: String) -> String? {
            guard let start = page.range(of: "id=\"\(form)\"") else { return nil }
            let rest = page[start.upperBound...]
            let end = rest.range(of: "</form>")?.lowerBound ?? rest.endIndex
            guard let range = rest[..<end].range(of: "name=\"\(name)\" value=\"") else { return nil }
            return String(rest[range.upperBound...].prefix { $0 != "\"" })
        }

        var contentType: String?
        var contentDisposition: String?
        var bytes = Data()

        func cookie(_ name: String) -> String? {
            guard let header = setCookie, let range = header.range(of: name + "=") else { return nil }
            return String(header[range.upperBound...].prefix { $0 != ";" && $0 != "," })
        }
    }

    static let browser: URLSession = {
        let settings = URLSessionConfiguration.ephemeral
        settings.httpCookieStorage = nil
        settings.httpShouldSetCookies = false
        return URLSession(configuration: settings, delegate: NoRedirects(), delegateQueue: nil)
    }()

    static func request(_ url: String, method: String = "GET", form: [String: String]? = nil, cookies: [String: String] = [:]) async throws -> Answer {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.httpShouldHandleCookies = false
        if let form {
            request.httpBody = Data(form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }.joined(separator: "&").utf8)
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        }
        if !cookies.isEmpty { request.setValue(cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; "), forHTTPHeaderField: "Cookie") }
        let (data, response) = try await browser.data(for: request)
        let http = response as! HTTPURLResponse
        var answer = Answer(status: http.statusCode, page: String(decoding: data, as: UTF8.self), location: http.value(forHTTPHeaderField: "Location"), setCookie: http.value(forHTTPHeaderField: "Set-Cookie"))
        answer.contentType = http.value(forHTTPHeaderField: "Content-Type")
        answer.contentDisposition = http.value(forHTTPHeaderField: "Content-Disposition")
        answer.bytes = data
        return answer
    }

    /// Runs `oneseal staff …` (the operator's CLI) and returns its JSON answer.
    static func staffCLI(_ cluster: LocalCluster, _ arguments: [String]) throws -> [String: Any] {
        let process = Process()
        process.executableURL = cluster.binDirectory.appendingPathComponent("oneseal")
        process.arguments = ["staff"] + arguments + ["--json"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "oneseal staff \(arguments.first ?? "")")
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    /// Signs in with the one-time password and sets the person's own; the staff cookie's value.
    static func firstSignIn(_ base: String, staffNumber: String, temporary: String) async throws -> String {
        let form = try await request(base + "/staff/sign-in")
        let jar = ["oneseal_visitor": try #require(form.cookie("oneseal_visitor"))]
        let signedIn = try await request(base + "/staff/sign-in", method: "POST", form: ["csrf_token": try #require(form.csrf), "staff_number": staffNumber, "password": temporary], cookies: jar)
        #expect(signedIn.status == 303 && signedIn.location == "/staff/password")
        let first = try #require(signedIn.cookie("oneseal_staff"))
        let change = try await request(base + "/staff/password", cookies: ["oneseal_staff": first])
        let changed = try await request(base + "/staff/password", method: "POST", form: [
            "csrf_token": try #require(change.csrf), "current_password": temporary, "new_password": "my own long secret", "new_password_confirm": "my own long secret",
        ], cookies: ["oneseal_staff": first])
        #expect(changed.status == 303 && changed.location == "/staff")
        return try #require(changed.cookie("oneseal_staff"))
    }

    @Test("the officer's work list shows the case accepted at the window, sorted by due date; the sole officer reviews and decides it on the spot; a clerk is refused it; a disabled officer is signed out")
    func workList() async throws {
        try await withTwoNodes(web: true) { cluster, hall in
            let database = try cluster.webDatabaseConninfo(Self.county)
            let base = cluster.webURL(Self.county)
            let officer = try Self.staffCLI(cluster, ["add", "--database", database, "--staff-number", "G03", "--name", "赵六", "--role", "officer"])
            let clerk = try Self.staffCLI(cluster, ["add", "--database", database, "--staff-number", "W0012", "--name", "李四", "--role", "window_clerk", "--window", "3"])
            let officerSession = try await Self.firstSignIn(base, staffNumber: "G03", temporary: try #require(officer["temporary_password"] as? String))
            let clerkSession = try await Self.firstSignIn(base, staffNumber: "W0012", temporary: try #require(clerk["temporary_password"] as? String))

            // A case at the county: submitted and accepted at the window, its first step the officer's.
            let submitted = try await hall.submit(at: Self.county, items: [Hall.countyFoodItem])
            _ = try await hall.accept(at: Self.county, submitted.application.applicationID)
            let opened = try #require(try await hall.cases(of: submitted.application.applicationID, at: Self.county).first)

            let list = try await Self.request(base + "/staff/cases", cookies: ["oneseal_staff": officerSession])
            #expect(list.status == 200, "\(list.page)")
            #expect(list.page.contains(opened.caseNumber) && list.page.contains("本岗位待认领") && list.page.contains("办结期限"))

            // 独任审批 on the spot (decision 72): the sole officer is offered the review and a decision
            // that carries the review opinion; without the opinion the field says so and nothing is
            // done; with it, one act reviews and grants.
            let casePath = "/staff/cases/\(opened.caseID)"
            let page = try await Self.request(base + casePath, cookies: ["oneseal_staff": officerSession])
            #expect(page.page.contains("id=\"form-review\"") && page.page.contains("id=\"form-decision\"") && page.page.contains("独任审批：审查并当场作出决定"))
            let grant = ["outcome": "grant", "scope": "预包装食品销售，散装食品销售"]
            let noOpinion = try await Self.post(base, page, form: "form-decision", action: casePath + "/decision", fields: grant.merging(["review_opinion": ""]) { $1 }, session: officerSession)
            #expect(noOpinion.status == 400 && noOpinion.page.contains("id=\"review_opinion-error\""), "\(noOpinion.status)")
            #expect(try await hall.getCase(opened.caseID, at: Self.county).status == .inProgress)
            let decided = try await Self.post(base, page, form: "form-decision", action: casePath + "/decision", fields: grant.merging(["review_opinion": Hall.reviewOpinion]) { $1 }, session: officerSession)
            #expect(decided.status == 303 && decided.location == casePath + "?done=decision", "\(decided.status) \(decided.page)")
            let granted = try await hall.getCase(opened.caseID, at: Self.county)
            #expect(granted.status == .granted && granted.decision.decidedBy.subject == "G03")
            #expect(granted.steps.map(\.status) == [.completed] && granted.steps[0].opinion == Hall.reviewOpinion && granted.steps[0].completedBy.subject == "G03")

            // The clerk: refused by the page (approval's ListCases would refuse a window_clerk token too).
            let refused = try await Self.request(base + "/staff/cases", cookies: ["oneseal_staff": clerkSession])
            #expect(refused.status == 403 && refused.page.contains("无权访问") && !refused.page.contains(opened.caseNumber))

            // Disabled by the operator: the next click lands on the sign-in page.
            let disabled = try Self.staffCLI(cluster, ["disable", "--database", database, "--staff-number", "G03"])
            #expect(disabled["sessions_ended"] as? Int == 1)
            let after = try await Self.request(base + "/staff/cases", cookies: ["oneseal_staff": officerSession])
            #expect(after.status == 303 && after.location == "/staff/sign-in")
        }
    }

    /// 建筑工程施工许可 of the sample catalogue: county, section tier (officer → section chief).
    static let sectionItem = "000114005000371302003"

    /// Posts the form `act` of the case page `page` with `fields`, as the browser would: its CSRF
    /// token, its one-time key, the revision and step it was drawn for.
    static func post(_ base: String, _ page: Answer, form: String, action: String, fields: [String: String], session: String) async throws -> Answer {
        var all = fields
        for name in ["csrf_token", "idempotency_key", "revision", "step_id"] {
            if let value = page.field(name, in: form) { all[name] = value }
        }
        return try await request(base + action, method: "POST", form: all, cookies: ["oneseal_staff": session])
    }

    @Test("a section-tier case walked on the case page: suspended, resumed and extended by the director, the officer reviews, a section chief signs off and decides, the inspector claims the push and reports, then ticks the licence push and claims it from the inbox; a clerk is refused; bad input by field; double submission harmless")
    func sectionCaseOnTheCasePage() async throws {
        try await withTwoNodes(web: true) { cluster, hall in
            let county = Self.county
            let database = try cluster.webDatabaseConninfo(county)
            let base = cluster.webURL(county)
            // The item's supervising department (the sample boundary list covers food and water only).
            _ = try await hall.clients.supervision(county).upsertBoundary(.with {
                $0.entry = .with {
                    $0.implementationCode = Self.sectionItem
                    $0.itemName = "建筑工程施工许可"
                    $0.departments = [.with { $0.department.code = Hall.countyMarket; $0.responsibility = "施工现场监督检查" }]
                }
            }, metadata: try hall.clients.metadata(.operator, "ops-1", node: county))

            let officer = try Self.staffCLI(cluster, ["add", "--database", database, "--staff-number", "G11", "--name", "钱七", "--role", "officer"])
            let chief = try Self.staffCLI(cluster, ["add", "--database", database, "--staff-number", "K21", "--name", "孙八", "--role", "section_chief"])
            let clerk = try Self.staffCLI(cluster, ["add", "--database", database, "--staff-number", "W0031", "--name", "周九", "--role", "window_clerk", "--window", "5"])
            let inspector = try Self.staffCLI(cluster, ["add", "--database", database, "--staff-number", "D41", "--name", "吴十", "--role", "department", "--department", Hall.countyMarket])
            let officerSession = try await Self.firstSignIn(base, staffNumber: "G11", temporary: try #require(officer["temporary_password"] as? String))
            let chiefSession = try await Self.firstSignIn(base, staffNumber: "K21", temporary: try #require(chief["temporary_password"] as? String))
            let clerkSession = try await Self.firstSignIn(base, staffNumber: "W0031", temporary: try #require(clerk["temporary_password"] as? String))
            let inspectorSession = try await Self.firstSignIn(base, staffNumber: "D41", temporary: try #require(inspector["temporary_password"] as? String))

            let submitted = try await hall.submit(at: county, items: [Self.sectionItem])
            _ = try await hall.accept(at: county, submitted.application.applicationID)
            let opened = try #require(try await hall.cases(of: submitted.application.applicationID, at: county).first)
            let casePath = "/staff/cases/\(opened.caseID)"

            // The officer: the work list links the case; the page shows the application, the
            // materials, the chain, the audit entries and only the review form.
            let list = try await Self.request(base + "/staff/cases", cookies: ["oneseal_staff": officerSession])
            #expect(list.page.contains("href=\"\(casePath)\""))
            var page = try await Self.request(base + casePath, cookies: ["oneseal_staff": officerSession])
            #expect(page.status == 200, "\(page.page)")
            #expect(page.page.contains(opened.caseNumber) && page.page.contains(Hall.company.name) && page.page.contains("审计记录") && page.page.contains("case.opened"))
            #expect(page.page.contains("id=\"form-review\"") && !page.page.contains("id=\"form-decision\"") && !page.page.contains("id=\"form-sign-off\"") && !page.page.contains("id=\"form-extension\""))

            // A material, streamed from intake's store and shown inline.
            let link = try #require(page.page.range(of: casePath + "/materials/").map { String(page.page[$0.lowerBound...].prefix { $0 != "\"" }) })
            let material = try await Self.request(base + link, cookies: ["oneseal_staff": officerSession])
            #expect(material.status == 200 && material.contentType == "application/pdf" && material.contentDisposition?.hasPrefix("inline") == true)
            #expect(material.bytes.starts(with: Array("%PDF".utf8)))
            let foreign = try await Self.request(base + casePath + "/materials/" + String(repeating: "ab", count: 32), cookies: ["oneseal_staff": officerSession])
            #expect(foreign.status == 404, "a file the case does not list is not served")

            // Bad input: every problem by its field, nothing done.
            let empty = try await Self.post(base, page, form: "form-review", action: casePath + "/review", fields: ["opinion": ""], session: officerSession)
            #expect(empty.status == 400 && empty.page.contains("id=\"conclusion-error\"") && empty.page.contains("id=\"opinion-error\""))
            let vague = try await Self.post(base, page, form: "form-review", action: casePath + "/review", fields: ["conclusion": "grant", "opinion": "同意"], session: officerSession)
            #expect(vague.status == 400 && vague.page.contains("id=\"opinion-error\""), "approval's refusal of a vague opinion is shown by the field: \(vague.status)")
            #expect(try await hall.getCase(opened.caseID, at: county).steps.allSatisfy { $0.status != .completed })

            // The clock: suspended for an expert review (bad input by field first), the notice's number
            // shown, the repeat answered once; resumed; then the director's one extension.
            let noProcedure = try await Self.post(base, page, form: "form-suspend", action: casePath + "/suspend", fields: ["expected_days": "500"], session: officerSession)
            #expect(noProcedure.status == 400 && noProcedure.page.contains("id=\"procedure-error\"") && noProcedure.page.contains("id=\"expected_days-error\"") && noProcedure.page.contains("id=\"notice_text-error\""))
            let suspend = ["procedure": "expert_review", "expected_days": "5", "notice_text": "本案须组织专家对施工图设计安全性进行评审，预计需要5个工作日，评审时间不计入审批期限"]
            for _ in 0..<2 {
                let suspended = try await Self.post(base, page, form: "form-suspend", action: casePath + "/suspend", fields: suspend, session: officerSession)
                #expect(suspended.status == 303 && suspended.location == casePath + "?done=suspend", "\(suspended.status) \(suspended.page)")
            }
            let stopped = try await hall.getCase(opened.caseID, at: county)
            #expect(stopped.status == .suspended && stopped.suspensions.count == 1 && !stopped.suspensions[0].notice.number.isEmpty)
            let suspendedPage = try await Self.request(base + casePath + "?done=suspend", cookies: ["oneseal_staff": officerSession])
            #expect(suspendedPage.page.contains(stopped.suspensions[0].notice.number) && suspendedPage.page.contains("id=\"form-resume\"") && !suspendedPage.page.contains("id=\"form-review\""))
            let resumed = try await Self.post(base, suspendedPage, form: "form-resume", action: casePath + "/resume", fields: ["result": "专家评审结论：施工图设计符合安全要求"], session: officerSession)
            #expect(resumed.status == 303, "\(resumed.page)")
            let officerExtends = try await Self.post(base, suspendedPage, form: "form-resume", action: casePath + "/extension", fields: ["extension_reason": "需补充现场核查"], session: officerSession)
            #expect(officerExtends.status == 403, "only the director approves the extension (Art. 42)")
            let director = try Self.staffCLI(cluster, ["add", "--database", database, "--staff-number", "Z01", "--name", "郑局", "--role", "director"])
            let directorSession = try await Self.firstSignIn(base, staffNumber: "Z01", temporary: try #require(director["temporary_password"] as? String))
            let directorPage = try await Self.request(base + casePath, cookies: ["oneseal_staff": directorSession])
            let extended = try await Self.post(base, directorPage, form: "form-extension", action: casePath + "/extension", fields: ["extension_days": "5", "extension_reason": "施工图设计变更，需补充现场核查，经局长批准延长审批期限"], session: directorSession)
            #expect(extended.status == 303 && extended.location == casePath + "?done=extension", "\(extended.status) \(extended.page)")
            let longer = try await hall.getCase(opened.caseID, at: county)
            #expect(longer.status == .inProgress && longer.hasExtension && longer.extension.approvedBy.subject == "Z01" && !longer.extension.notice.number.isEmpty)
            page = try await Self.request(base + casePath, cookies: ["oneseal_staff": officerSession])

            // The review, submitted twice (a double click): one act.
            let review: [String: String] = ["conclusion": "grant", "opinion": Hall.reviewOpinion]
            let reviewed = try await Self.post(base, page, form: "form-review", action: casePath + "/review", fields: review, session: officerSession)
            #expect(reviewed.status == 303 && reviewed.location == casePath + "?done=review", "\(reviewed.status) \(reviewed.page)")
            let twice = try await Self.post(base, page, form: "form-review", action: casePath + "/review", fields: review, session: officerSession)
            #expect(twice.status == 303 && twice.location == casePath + "?done=review", "the repeat is answered like the first: \(twice.status)")
            let afterReview = try await hall.getCase(opened.caseID, at: county)
            #expect(afterReview.steps.filter { $0.status == .completed }.count == 1 && afterReview.steps.first?.completedBy.subject == "G11")
            #expect(afterReview.nextRole == .sectionChief)

            // The clerk: the case page and the decision form refused by the page.
            let clerkPage = try await Self.request(base + casePath, cookies: ["oneseal_staff": clerkSession])
            #expect(clerkPage.status == 403 && clerkPage.page.contains("无权访问") && !clerkPage.page.contains(opened.caseNumber))
            let clerkHome = try await Self.request(base + "/staff", cookies: ["oneseal_staff": clerkSession])
            let clerkDecision = try await Self.request(base + casePath + "/decision", method: "POST", form: [
                "csrf_token": try #require(clerkHome.csrf), "idempotency_key": try #require(page.field("idempotency_key", in: "form-review")),
                "outcome": "grant", "scope": "房屋建筑工程施工",
            ], cookies: ["oneseal_staff": clerkSession])
            #expect(clerkDecision.status == 403 && clerkDecision.page.contains("无权访问"))

            // The section chief, a second person: signs off, then decides.
            let chiefPage = try await Self.request(base + casePath, cookies: ["oneseal_staff": chiefSession])
            #expect(chiefPage.page.contains("id=\"form-sign-off\"") && !chiefPage.page.contains("id=\"form-review\""))
            let signed = try await Self.post(base, chiefPage, form: "form-sign-off", action: casePath + "/sign-off", fields: ["conclusion": "grant", "opinion": Hall.signOffOpinion], session: chiefSession)
            #expect(signed.status == 303, "\(signed.page)")
            let decisionPage = try await Self.request(base + casePath + "?done=sign-off", cookies: ["oneseal_staff": chiefSession])
            #expect(decisionPage.page.contains("id=\"form-decision\"") && decisionPage.page.contains("办件待作出决定"))
            let noScope = try await Self.post(base, decisionPage, form: "form-decision", action: casePath + "/decision", fields: ["outcome": "grant", "scope": ""], session: chiefSession)
            #expect(noScope.status == 400 && noScope.page.contains("id=\"scope-error\""))
            let badDate = try await Self.post(base, decisionPage, form: "form-decision", action: casePath + "/decision", fields: ["outcome": "grant", "scope": "房屋建筑工程施工", "valid_until": "2031-02-30"], session: chiefSession)
            #expect(badDate.status == 400 && badDate.page.contains("id=\"valid_until-error\""))
            #expect(try await hall.getCase(opened.caseID, at: county).hasDecision == false)
            let decided = try await Self.post(base, decisionPage, form: "form-decision", action: casePath + "/decision", fields: [
                "outcome": "grant", "scope": "房屋建筑工程施工（兰山区解放路1号综合楼）", "place": "兰山区解放路1号",
            ], session: chiefSession)
            #expect(decided.status == 303 && decided.location == casePath + "?done=decision", "\(decided.page)")
            let final = try await hall.getCase(opened.caseID, at: county)
            #expect(final.status == .granted && final.decision.decidedBy.subject == "K21" && !final.decision.document.number.isEmpty)
            let shown = try await Self.request(base + casePath + "?done=decision", cookies: ["oneseal_staff": chiefSession])
            #expect(shown.page.contains(final.decision.document.number) && shown.page.contains("准予许可"))
            #expect(!shown.page.contains("id=\"form-decision\""))

            // The department inspector: the push in the inbox, claimed once even when sent twice.
            let push = try #require(try await hall.pushes(of: opened.caseID, to: Hall.countyMarket, at: county, count: 2).first { $0.kind == .grant })
            let refusedInbox = try await Self.request(base + "/staff/pushes", cookies: ["oneseal_staff": officerSession])
            #expect(refusedInbox.status == 403)
            let inbox = try await Self.request(base + "/staff/pushes", cookies: ["oneseal_staff": inspectorSession])
            #expect(inbox.status == 200 && inbox.page.contains(opened.caseNumber) && inbox.page.contains("认领期限"), "\(inbox.page)")
            let pushPage = try await Self.request(base + "/staff/pushes/\(push.pushID)", cookies: ["oneseal_staff": inspectorSession])
            let claimForm = ["csrf_token": try #require(pushPage.field("csrf_token", in: "form-claim")), "note": "纳入日常监管"]
            let claimed = try await Self.request(base + "/staff/pushes/\(push.pushID)/claim", method: "POST", form: claimForm, cookies: ["oneseal_staff": inspectorSession])
            #expect(claimed.status == 303 && claimed.location == "/staff/pushes/\(push.pushID)?done=claim", "\(claimed.page)")
            let claimedTwice = try await Self.request(base + "/staff/pushes/\(push.pushID)/claim", method: "POST", form: claimForm, cookies: ["oneseal_staff": inspectorSession])
            #expect(claimedTwice.status == 303, "\(claimedTwice.page)")
            let after = try await Self.request(base + "/staff/pushes/\(push.pushID)?done=claim", cookies: ["oneseal_staff": inspectorSession])
            #expect(after.page.contains("已认领") && after.page.contains("<dt>认领人</dt><dd>") && after.page.contains("D41"))
            let stored = try await hall.clients.supervision(county).getPush(.with { $0.pushID = push.pushID }, metadata: try hall.department(Hall.countyMarket)).push
            #expect(stored.status == .claimed && stored.claimedBy.subject == "D41")

            // A finding sent back: bad input by field, then the same form twice makes one finding.
            let findingPage = try await Self.request(base + "/staff/pushes/\(push.pushID)", cookies: ["oneseal_staff": inspectorSession])
            var finding = ["kind": "inspection_result", "inspection_result": "compliant", "facts": "", "occurred_on": "2026-13-01"]
            for name in ["csrf_token", "idempotency_key"] { finding[name] = try #require(findingPage.field(name, in: "form-finding")) }
            let badFinding = try await Self.request(base + "/staff/pushes/\(push.pushID)/findings", method: "POST", form: finding, cookies: ["oneseal_staff": inspectorSession])
            #expect(badFinding.status == 400 && badFinding.page.contains("id=\"facts-error\"") && badFinding.page.contains("id=\"occurred_on-error\""))
            finding["facts"] = "2026年12月4日现场检查施工现场，安全防护设施齐全，符合要求"
            finding["occurred_on"] = "2026-12-04"
            for _ in 0..<2 {
                let sent = try await Self.request(base + "/staff/pushes/\(push.pushID)/findings", method: "POST", form: finding, cookies: ["oneseal_staff": inspectorSession])
                #expect(sent.status == 303 && sent.location == "/staff/pushes/\(push.pushID)?done=finding", "\(sent.status) \(sent.page)")
            }
            let findings = try await hall.clients.supervision(county).getPush(.with { $0.pushID = push.pushID }, metadata: try hall.department(Hall.countyMarket)).findings
            #expect(findings.count == 1 && findings.first?.submittedBy.subject == "D41", "one finding for the same form sent twice: \(findings.count)")

            // 认领所选 (ClaimPushes, decision 71): the licence push ticked on the inbox; nothing ticked
            // is refused by the page; sent twice (a double click), one claim.
            let licence = try #require(try await hall.pushes(of: opened.caseID, to: Hall.countyMarket, at: county, count: 2).first { $0.kind == .licence })
            let selecting = try await Self.request(base + "/staff/pushes", cookies: ["oneseal_staff": inspectorSession])
            #expect(selecting.page.contains("id=\"form-claim-selected\"") && selecting.page.contains("name=\"select_\(licence.pushID)\""))
            #expect(!selecting.page.contains("name=\"select_\(push.pushID)\""), "a claimed push has no box")
            let csrf = try #require(selecting.field("csrf_token", in: "form-claim-selected"))
            let nothing = try await Self.request(base + "/staff/pushes/claim", method: "POST", form: ["csrf_token": csrf], cookies: ["oneseal_staff": inspectorSession])
            #expect(nothing.status == 400 && nothing.page.contains("id=\"claim-selected-error\""), "\(nothing.status)")
            for _ in 0..<2 {
                let ticked = try await Self.request(
                    base + "/staff/pushes/claim", method: "POST", form: ["csrf_token": csrf, "select_\(licence.pushID)": "on", "note": "证照一并纳入日常监管"],
                    cookies: ["oneseal_staff": inspectorSession])
                #expect(ticked.status == 303 && ticked.location == "/staff/pushes?claimed=1", "\(ticked.status) \(ticked.page)")
            }
            let licenceNow = try await hall.clients.supervision(county).getPush(.with { $0.pushID = licence.pushID }, metadata: try hall.department(Hall.countyMarket)).push
            #expect(licenceNow.status == .claimed && licenceNow.claimedBy.subject == "D41" && licenceNow.claimNote == "证照一并纳入日常监管")
            let told = try await Self.request(base + "/staff/pushes?claimed=1", cookies: ["oneseal_staff": inspectorSession])
            #expect(told.page.contains("已认领1条") && !told.page.contains("id=\"form-claim-selected\""))
        }
    }

    @Test("the workbench in real browsers: officer and section chief in two browsers walk a section-tier case to its decision, the sole officer decides a food case on the spot, the clerk is refused, the inspector claims a push and then the ticked ones; screenshots of every screen")
    func browserWalk() async throws {
        try await withTwoNodes(web: true) { cluster, hall in
            let county = Self.county
            let database = try cluster.webDatabaseConninfo(county)
            _ = try await hall.clients.supervision(county).upsertBoundary(.with {
                $0.entry = .with {
                    $0.implementationCode = Self.sectionItem
                    $0.itemName = "建筑工程施工许可"
                    $0.departments = [.with { $0.department.code = Hall.countyMarket; $0.responsibility = "施工现场监督检查" }]
                }
            }, metadata: try hall.clients.metadata(.operator, "ops-1", node: county))
            var people: [String: [String: String]] = [:]
            for (key, number, name, extra) in [
                ("officer", "G12", "钱七", ["--role", "officer"]), ("chief", "K22", "孙八", ["--role", "section_chief"]),
                ("clerk", "W0032", "周九", ["--role", "window_clerk", "--window", "5"]), ("inspector", "D42", "吴十", ["--role", "department", "--department", Hall.countyMarket]),
                ("director", "J01", "郑局长", ["--role", "director"]), ("operator", "Y02", "冯运维", ["--role", "operator"]),
            ] {
                let added = try Self.staffCLI(cluster, ["add", "--database", database, "--staff-number", number, "--name", name] + extra)
                people[key] = ["number": number, "name": name, "password": try #require(added["temporary_password"] as? String)]
            }
            // The application, accepted at the window (the window's screen is not built yet).
            let submitted = try await hall.submit(at: county, items: [Self.sectionItem])
            _ = try await hall.accept(at: county, submitted.application.applicationID)
            let opened = try #require(try await hall.cases(of: submitted.application.applicationID, at: county).first)
            // A second one, waiting at the window for the clerk's decision in the browser.
            let waiting = try await hall.submit(at: county, items: [Hall.countyFoodItem]).application

            let screenshots = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("oneseal-workbench-walk-\(UUID().uuidString.prefix(8))")
            let config: [String: Any] = [
                "screenshots": screenshots.path, "web": cluster.webURL(county), "case_id": opened.caseID, "case_number": opened.caseNumber,
                "staff": people, "review_opinion": Hall.reviewOpinion, "sign_off_opinion": Hall.signOffOpinion,
                "window_application_id": waiting.applicationID, "window_application_number": waiting.applicationNumber,
            ]
            let file = cluster.directory.appendingPathComponent("workbench-walk.json")
            try JSONSerialization.data(withJSONObject: config).write(to: file)
            let log = cluster.directory.appendingPathComponent("workbench-walk.log")
            let status = try await Pgbench.runToCompletion(
                ["/usr/bin/env", "python3", WebFrontTests.repositoryRoot.appendingPathComponent("tests/web/workbench_walk.py").path, file.path], outputPath: log.path)
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            FileHandle.standardOutput.write(Data("---- workbench walk ----\n\(text)\noneseal-workbench screenshots: \(screenshots.path)\n".utf8))
            if status != 0 {
                let web = ((try? String(contentsOf: cluster.webLogFile(county), encoding: .utf8)) ?? "").split(separator: "\n").suffix(30).joined(separator: "\n")
                FileHandle.standardOutput.write(Data("---- web@\(county) ----\n\(web)\n".utf8))
            }
            #expect(status == 0, "workbench walk failed:\n\(text)")
            let final = try await hall.getCase(opened.caseID, at: county)
            #expect(final.status == .granted && final.steps.first?.completedBy.subject == "G12" && final.decision.decidedBy.subject == "K22")
            #expect(try await hall.application(at: county, waiting.applicationID).status != .submitted, "the clerk accepted the second application in the browser")
            // Its sole officer reviewed and granted it on the spot in the browser: one step, the opinion kept.
            let sole = try #require(try await hall.cases(of: waiting.applicationID, at: county).first)
            #expect(sole.status == .granted && sole.decision.decidedBy.subject == "G12")
            #expect(sole.steps.map(\.status) == [.completed] && sole.steps.first?.opinion == Hall.reviewOpinion && sole.steps.first?.completedBy.subject == "G12")
        }
    }
}
