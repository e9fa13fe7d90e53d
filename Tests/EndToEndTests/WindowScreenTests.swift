import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OneSealLocalCluster
import OneSealProto
import Testing

/// 综合受理 (#19 screen 1) against both nodes as real processes, over HTTP with the clerk's session:
/// the queue lists what waits for an intake decision; one application is accepted (the same form
/// twice is one acceptance), one gets the one-time correction notice ticking exactly one material
/// (nothing ticked, or a ticked material without what to fix, is refused by its field), one is not
/// accepted (a matter outside the powers without the competent agency is refused by its field);
/// once the accepted one is decided, it is handed out to a collector whose ID number is checked as
/// typed. An officer is refused the window.
@Suite(.serialized) struct WindowScreenTests {
    typealias Browser = WorkbenchTests

    static func field(_ page: String, _ name: String) -> String? {
        guard let range = page.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(page[range.upperBound...].prefix { $0 != "\"" })
    }

    /// The form's hidden fields as the page drew them (CSRF token, one-time key, revision).
    static func hidden(_ page: String) throws -> [String: String] {
        ["csrf_token": try #require(field(page, "csrf_token")), "form_key": try #require(field(page, "form_key")), "revision": try #require(field(page, "revision"))]
    }

    @Test("the clerk's queue, accept (twice = once), the one-time correction notice and not accepted by field, 出件 with a checked ID; an officer is refused")
    func window() async throws {
        try await withTwoNodes(web: true) { cluster, hall in
            let county = Hall.county
            let database = try cluster.webDatabaseConninfo(county)
            let base = cluster.webURL(county)
            let clerk = try Browser.staffCLI(cluster, ["add", "--database", database, "--staff-number", "W0041", "--name", "陈窗口", "--role", "window_clerk", "--window", "3"])
            let officer = try Browser.staffCLI(cluster, ["add", "--database", database, "--staff-number", "G41", "--name", "钱审批", "--role", "officer"])
            let session = try await Browser.firstSignIn(base, staffNumber: "W0041", temporary: try #require(clerk["temporary_password"] as? String))
            let officerSession = try await Browser.firstSignIn(base, staffNumber: "G41", temporary: try #require(officer["temporary_password"] as? String))
            let jar = ["oneseal_staff": session]

            let complete = try await hall.submit(at: county, items: [Hall.countyFoodItem]).application
            let item = try await hall.item(Hall.countyFoodItem, at: county)
            let missing = try #require(item.materials.first { $0.required })
            let lacking = try await hall.submit(at: county, items: [Hall.countyFoodItem], leaving: [missing.code]).application
            let elsewhere = try await hall.submit(at: county, items: [Hall.countyFoodItem]).application

            let home = try await Browser.request(base + "/staff", cookies: jar)
            #expect(home.page.contains("href=\"/staff/window\""))
            let queue = try await Browser.request(base + "/staff/window", cookies: jar)
            #expect(queue.status == 200 && queue.page.contains("待受理（3）"), "\(queue.page)")
            for application in [complete, lacking, elsewhere] { #expect(queue.page.contains(application.applicationNumber)) }
            #expect(queue.page.contains("3号窗口") && queue.page.contains("受理期限"))

            // Accept, and the same form again: one acceptance, both answered as done.
            let page = try await Browser.request(base + "/staff/window/\(complete.applicationID)", cookies: jar)
            #expect(page.status == 200 && page.page.contains("id=\"form-accept\"") && page.page.contains(missing.name))
            let form = try Self.hidden(page.page)
            let accepted = try await Browser.request(base + "/staff/window/\(complete.applicationID)/accept", method: "POST", form: form.merging(["note": "材料齐全"]) { a, _ in a }, cookies: jar)
            #expect(accepted.status == 303 && accepted.location == "/staff/window/\(complete.applicationID)?done=accept")
            let again = try await Browser.request(base + "/staff/window/\(complete.applicationID)/accept", method: "POST", form: form.merging(["note": "材料齐全"]) { a, _ in a }, cookies: jar)
            #expect(again.status == 303 && again.location == accepted.location, "a repeated acceptance is answered like the first")
            let shown = try await Browser.request(base + accepted.location!, cookies: jar)
            #expect(shown.page.contains("id=\"act-done\"") && shown.page.contains("受理通知书编号"))
            // The receipt, printed from the page with its number.
            let receiptLink = try #require(shown.page.range(of: "/staff/window/\(complete.applicationID)/documents/").map { range in
                String(shown.page[range.lowerBound...].prefix { $0 != "\"" })
            })
            var print = URLRequest(url: URL(string: base + receiptLink)!)
            print.setValue("oneseal_staff=\(session)", forHTTPHeaderField: "Cookie")
            let (text, printed) = try await Browser.browser.data(for: print)
            #expect((printed as! HTTPURLResponse).statusCode == 200 && (printed as! HTTPURLResponse).value(forHTTPHeaderField: "Content-Type")?.hasPrefix("text/plain") == true)
            let receipt = try await hall.application(at: county, complete.applicationID).receipt
            #expect(String(decoding: text, as: UTF8.self).contains(receipt.document.number), "the printed receipt carries its number")
            let unknown = try await Browser.request(base + "/staff/window/\(complete.applicationID)/documents/not-a-document", cookies: jar)
            #expect(unknown.status == 404)
            #expect(try await hall.application(at: county, complete.applicationID).status == .accepted)

            // The one-time correction notice: by its fields first, then exactly the ticked material.
            let lackingPage = try await Browser.request(base + "/staff/window/\(lacking.applicationID)", cookies: jar)
            let lackingForm = try Self.hidden(lackingPage.page)
            let nothing = try await Browser.request(base + "/staff/window/\(lacking.applicationID)/correction", method: "POST", form: lackingForm, cookies: jar)
            #expect(nothing.status == 400 && nothing.page.contains("problems-error"))
            let noFix = try await Browser.request(base + "/staff/window/\(lacking.applicationID)/correction", method: "POST",
                form: lackingForm.merging(["problem_\(missing.code)": "1", "kind_\(missing.code)": "missing"]) { a, _ in a }, cookies: jar)
            #expect(noFix.status == 400 && noFix.page.contains("fix_\(missing.code)-error"))
            #expect(try await hall.application(at: county, lacking.applicationID).status == .submitted, "nothing half-saved")
            let noticed = try await Browser.request(base + "/staff/window/\(lacking.applicationID)/correction", method: "POST",
                form: lackingForm.merging(["problem_\(missing.code)": "1", "kind_\(missing.code)": "missing", "fix_\(missing.code)": "请补交\(missing.name)一份"]) { a, _ in a }, cookies: jar)
            #expect(noticed.status == 303)
            let corrected = try await hall.application(at: county, lacking.applicationID)
            #expect(corrected.status == .correctionRequested && corrected.correctionNotices.last?.problems.map(\.requirementCode) == [missing.code])

            // Not accepted: a matter outside the powers must name the competent agency.
            let elsewherePage = try await Browser.request(base + "/staff/window/\(elsewhere.applicationID)", cookies: jar)
            let elsewhereForm = try Self.hidden(elsewherePage.page)
            var reject = elsewhereForm.merging(["ground": "outside_powers", "reason": "申请事项属于市级权限", "legal_basis": "《中华人民共和国行政许可法》第三十二条第一款第二项"]) { a, _ in a }
            let noAgency = try await Browser.request(base + "/staff/window/\(elsewhere.applicationID)/reject", method: "POST", form: reject, cookies: jar)
            #expect(noAgency.status == 400 && noAgency.page.contains("competent_agency-error"))
            reject["competent_agency"] = "临沂市行政审批服务局"
            let rejected = try await Browser.request(base + "/staff/window/\(elsewhere.applicationID)/reject", method: "POST", form: reject, cookies: jar)
            #expect(rejected.status == 303)
            #expect(try await hall.application(at: county, elsewhere.applicationID).status == .notAccepted)

            // Decided, then handed out at the window to a collector whose ID is checked as typed.
            let opened = try #require(try await hall.cases(of: complete.applicationID, at: county).first)
            _ = try await hall.grant(opened.caseID, at: county)
            let ready = try await eventually("the result waiting at the window") { () -> Intake_Application? in
                let found = try await hall.application(at: county, complete.applicationID)
                return found.status == .readyForDelivery ? found : nil
            }
            #expect(ready.status == .readyForDelivery)
            let readyQueue = try await Browser.request(base + "/staff/window", cookies: jar)
            #expect(readyQueue.page.contains("待出件（1）"))
            let deliverPage = try await Browser.request(base + "/staff/window/\(complete.applicationID)", cookies: jar)
            #expect(deliverPage.page.contains("id=\"form-deliver\""))
            let deliverForm = try Self.hidden(deliverPage.page)
            let badID = try await Browser.request(base + "/staff/window/\(complete.applicationID)/deliver", method: "POST",
                form: deliverForm.merging(["collector_name": "张三", "collector_id": "371302199001011234"]) { a, _ in a }, cookies: jar)
            #expect(badID.status == 400 && badID.page.contains("collector_id-error") && badID.page.contains("校验位"))
            let delivered = try await Browser.request(base + "/staff/window/\(complete.applicationID)/deliver", method: "POST",
                form: deliverForm.merging(["collector_name": "张三", "collector_id": "371302199001011233"]) { a, _ in a }, cookies: jar)
            #expect(delivered.status == 303)
            let final = try await hall.application(at: county, complete.applicationID)
            #expect(final.status == .delivered && final.delivery.recipient.name == "张三" && final.delivery.clerk.subject == "W0041")

            // Not the officer's page; no CSRF token, nothing done.
            let refused = try await Browser.request(base + "/staff/window", cookies: ["oneseal_staff": officerSession])
            #expect(refused.status == 403 && refused.page.contains("无权访问"))
            let forged = try await Browser.request(base + "/staff/window/\(lacking.applicationID)/accept", method: "POST", form: ["form_key": lackingForm["form_key"]!], cookies: jar)
            #expect(forged.status == 403)
            #expect(try await hall.application(at: county, lacking.applicationID).status == .correctionRequested)
        }
    }

    @Test("容缺受理, 告知承诺 and 审核转报 from the window's page, each by its fields first")
    func specialAcceptances() async throws {
        try await withTwoNodes(web: true) { cluster, hall in
            let county = Hall.county
            let database = try cluster.webDatabaseConninfo(county)
            let base = cluster.webURL(county)
            let clerk = try Browser.staffCLI(cluster, ["add", "--database", database, "--staff-number", "W0042", "--name", "林窗口", "--role", "window_clerk", "--window", "4"])
            let session = try await Browser.firstSignIn(base, staffNumber: "W0042", temporary: try #require(clerk["temporary_password"] as? String))
            let jar = ["oneseal_staff": session]
            func post(_ application: Intake_Application, _ act: String, _ extra: [String: String]) async throws -> WorkbenchTests.Answer {
                let page = try await Browser.request(base + "/staff/window/\(application.applicationID)", cookies: jar)
                return try await Browser.request(base + "/staff/window/\(application.applicationID)/\(act)", method: "POST", form: try Self.hidden(page.page).merging(extra) { a, _ in a }, cookies: jar)
            }

            // 容缺受理: the food item lets M04 be supplied later.
            let lacking = try await hall.submit(at: county, items: [Hall.countyFoodItem], leaving: ["M04"]).application
            let lackingPage = try await Browser.request(base + "/staff/window/\(lacking.applicationID)", cookies: jar)
            #expect(lackingPage.page.contains("id=\"form-deficiency\"") && lackingPage.page.contains("id=\"form-commitment\""))
            let nothing = try await post(lacking, "deficiency", ["undertaking": "本人承诺十个工作日内补齐"])
            #expect(nothing.status == 400 && nothing.page.contains("deficient-error"))
            let deficient = try await post(lacking, "deficiency", ["deficient_M04": "1", "supply_within_days": "10", "undertaking": "本人承诺十个工作日内补齐"])
            #expect(deficient.status == 303, "\(deficient.page.prefix(400))")
            let afterDeficiency = try await hall.application(at: county, lacking.applicationID)
            #expect(afterDeficiency.outcome == .acceptedWithDeficiency && afterDeficiency.deficiency.missing.map(\.requirementCode) == ["M04"])

            // 告知承诺: the commitment as signed replaces the ticked material.
            let committed = try await hall.submit(at: county, items: [Hall.countyFoodItem]).application
            let short = try await post(committed, "commitment", ["commitment_text": "承诺"])
            #expect(short.status == 400 && short.page.contains("commitment_text-error"))
            let accepted = try await post(committed, "commitment", ["commitment_text": "本人承诺所提交的经营场所符合食品安全要求，如有不实愿承担法律责任。", "replaces_M05": "1"])
            #expect(accepted.status == 303, "\(accepted.page.prefix(400))")
            let afterCommitment = try await hall.application(at: county, committed.applicationID)
            #expect(afterCommitment.outcome == .acceptedByCommitment && afterCommitment.commitment.replacedRequirementCodes == ["M05"])

            // 审核转报: a city item handed in at the county is accepted, then forwarded with the opinion.
            let water = try await hall.submit(at: county, items: [Hall.cityWaterItem]).application
            #expect(try await post(water, "accept", [:]).status == 303)
            let waterPage = try await Browser.request(base + "/staff/window/\(water.applicationID)", cookies: jar)
            #expect(waterPage.page.contains("id=\"form-forward\""))
            let vague = try await post(water, "forward", ["first_review_opinion": "同意"])
            #expect(vague.status == 400 && vague.page.contains("first_review_opinion-error"))
            let forwarded = try await post(water, "forward", ["first_review_opinion": "经初审，取水地点位于沂河兰山段，水资源论证报告结论明确，材料齐全，建议准予"])
            #expect(forwarded.status == 303, "\(forwarded.page.prefix(400))")
            #expect(try await hall.application(at: county, water.applicationID).status == .forwarded)
            let opened = try #require(try await hall.cases(of: water.applicationID, at: Hall.city).first)
            #expect(opened.firstReviewOpinion.hasPrefix("经初审"))
        }
    }


    /// A multipart form: fields, then files (name, file name, bytes).
    static func multipart(_ fields: [String: String], files: [(String, String, [UInt8])]) -> (Data, String) {
        let boundary = "----window-\(UUID().uuidString)"
        var body = Data()
        for (name, value) in fields { body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8) }
        for (name, file, bytes) in files {
            body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(file)\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8) + Data(bytes) + Data("\r\n".utf8)
        }
        body += Data("--\(boundary)--\r\n".utf8)
        return (body, "multipart/form-data; boundary=\(boundary)")
    }

    @Test("收件 at the window: the applicant checked as typed and each scan by content, nothing stored on a problem; the same form twice is one application")
    func newApplicationAtTheWindow() async throws {
        try await withTwoNodes(web: true) { cluster, hall in
            let county = Hall.county
            let database = try cluster.webDatabaseConninfo(county)
            let base = cluster.webURL(county)
            let clerk = try Browser.staffCLI(cluster, ["add", "--database", database, "--staff-number", "W0043", "--name", "郑窗口", "--role", "window_clerk", "--window", "6"])
            let session = try await Browser.firstSignIn(base, staffNumber: "W0043", temporary: try #require(clerk["temporary_password"] as? String))
            let jar = ["oneseal_staff": session]
            let chooser = try await Browser.request(base + "/staff/window/new", cookies: jar)
            #expect(chooser.status == 200 && chooser.page.contains(Hall.countyFoodItem))
            let unknown = try await Browser.request(base + "/staff/window/new?item=999999999999999999999", cookies: jar)
            #expect(unknown.status == 404)
            let formPage = try await Browser.request(base + "/staff/window/new?item=\(Hall.countyFoodItem)", cookies: jar)
            #expect(formPage.status == 200 && formPage.page.contains("id=\"form-new-application\""))
            let csrf = try #require(formPage.csrf)
            let key = try #require(Self.field(formPage.page, "form_key"))
            let item = try await hall.item(Hall.countyFoodItem, at: county)
            let needed = item.materials.filter { $0.required && !$0.deficiencyAllowed && $0.source != .government }
            let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 0, count: 32)
            func submit(_ fields: [String: String], _ files: [(String, String, [UInt8])]) async throws -> WorkbenchTests.Answer {
                let (body, type) = Self.multipart(fields, files: files)
                var request = URLRequest(url: URL(string: base + "/staff/window/new")!)
                request.httpMethod = "POST"
                request.httpBody = body
                request.setValue(type, forHTTPHeaderField: "Content-Type")
                request.setValue("oneseal_staff=\(session)", forHTTPHeaderField: "Cookie")
                let (data, response) = try await Browser.browser.data(for: request)
                let http = response as! HTTPURLResponse
                return WorkbenchTests.Answer(status: http.statusCode, page: String(decoding: data, as: UTF8.self), location: http.value(forHTTPHeaderField: "Location"), setCookie: nil)
            }
            let base0: [String: String] = ["csrf_token": csrf, "item": Hall.countyFoodItem, "form_key": key, "kind": "person", "name": "刘一", "phone": "13912345678"]
            let before = try await hall.clients.intake(county).listApplications(.with { $0.page = .with { $0.pageSize = 1 } }, metadata: try hall.clerk(county)).page.totalSize

            // A mistyped ID and a PNG named .pdf: both refused by their fields, nothing stored.
            var files = needed.map { ("material_\($0.code)", "\($0.code).pdf", Hall.sampleScan($0.code)) }
            files[0] = (files[0].0, "scan.pdf", png)
            let refused = try await submit(base0.merging(["identity_code": "371302199001011234"]) { a, _ in a }, files)
            #expect(refused.status == 400 && refused.page.contains("identity_code-error") && refused.page.contains("material_\(needed[0].code)-error"))
            #expect(try await hall.clients.intake(county).listApplications(.with { $0.page = .with { $0.pageSize = 1 } }, metadata: try hall.clerk(county)).page.totalSize == before)

            // Right: one application at this clerk's window; the same form again is the same one.
            let good = needed.map { ("material_\($0.code)", "\($0.code).pdf", Hall.sampleScan($0.code)) }
            let entered = try await submit(base0.merging(["identity_code": "371302199001011233"]) { a, _ in a }, good)
            #expect(entered.status == 303 && entered.location?.hasPrefix("/staff/window/") == true, "\(entered.page.prefix(500))")
            let again = try await submit(base0.merging(["identity_code": "371302199001011233"]) { a, _ in a }, good)
            #expect(again.status == 303 && again.location == entered.location)
            let id = String(try #require(entered.location).dropFirst("/staff/window/".count))
            let application = try await hall.application(at: county, id)
            #expect(application.channel == .window && application.windowID == "6" && application.applicant.name == "刘一" && application.status == .submitted)
            #expect(Set(application.materials.map(\.requirementCode)) == Set(needed.map(\.code)))
            #expect(try await hall.clients.intake(county).listApplications(.with { $0.page = .with { $0.pageSize = 1 } }, metadata: try hall.clerk(county)).page.totalSize == before + 1)
            // The window's own day counts it (applications submitted elsewhere do not).
            let day = try await Browser.request(base + "/staff/window", cookies: jar)
            #expect(day.page.contains("本窗口今日：收件 1 件，已受理 0 件"), "\(day.page.prefix(1500))")
        }
    }

}
