import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OneSealLocalCluster
import OneSealProto
import Testing

/// 退回 in the department inbox (#19 screen 3): a food-business grant reaches the county market
/// regulator's inbox; the inspector returns it as not their business — a reason is required (by
/// its field, nothing changed), the same form twice is one rejection — and supervision holds it
/// REJECTED for the bureau to re-route.
@Suite(.serialized) struct PushRejectionTests {
    typealias Browser = WorkbenchTests

    @Test("the inspector returns a push: the reason by its field, twice = once, REJECTED at supervision")
    func rejectAPush() async throws {
        try await withTwoNodes(web: true) { cluster, hall in
            let county = Hall.county
            let database = try cluster.webDatabaseConninfo(county)
            let base = cluster.webURL(county)
            let inspector = try Browser.staffCLI(cluster, ["add", "--database", database, "--staff-number", "D51", "--name", "吴监管", "--role", "department", "--department", Hall.countyMarket])
            let session = try await Browser.firstSignIn(base, staffNumber: "D51", temporary: try #require(inspector["temporary_password"] as? String))
            let jar = ["oneseal_staff": session]

            let submitted = try await hall.submit(at: county, items: [Hall.countyFoodItem]).application
            _ = try await hall.accept(at: county, submitted.applicationID)
            let opened = try #require(try await hall.cases(of: submitted.applicationID, at: county).first)
            _ = try await hall.grant(opened.caseID, at: county)
            let inbox = try await eventually("the push in the inspector's inbox") { () -> WorkbenchTests.Answer? in
                let answer = try await Browser.request(base + "/staff/pushes", cookies: jar)
                return answer.page.contains(opened.caseNumber) ? answer : nil
            }
            // The first push's own page (the 认领所选 form posts to /staff/pushes/claim before the rows).
            let link = try #require(inbox.page.range(of: "href=\"/staff/pushes/").map { range in String(inbox.page[range.lowerBound...].dropFirst(6).prefix { $0 != "\"" }) })
            let pushID = String(link.dropFirst("/staff/pushes/".count))
            let page = try await Browser.request(base + link, cookies: jar)
            #expect(page.page.contains("id=\"form-reject\"") && page.page.contains("id=\"form-claim\""))
            let csrf = try #require(page.csrf)

            let noReason = try await Browser.request(base + link + "/reject", method: "POST", form: ["csrf_token": csrf, "reason": " "], cookies: jar)
            #expect(noReason.status == 400 && noReason.page.contains("reason-error"))
            let badCode = try await Browser.request(base + link + "/reject", method: "POST", form: ["csrf_token": csrf, "reason": "本项目不在本局监管范围", "suggested_department": "<x>"], cookies: jar)
            #expect(badCode.status == 400 && badCode.page.contains("suggested_department-error"))
            let metadata = try hall.clients.metadata(.department, "D51", node: county, department: Hall.countyMarket)
            #expect(try await hall.clients.supervision(county).getPush(.with { $0.pushID = pushID }, metadata: metadata).push.status == .pending, "nothing half-saved")

            let form = ["csrf_token": csrf, "reason": "该经营场所属于开发区，由开发区市场监管分局监管", "suggested_department": Hall.cityMarket]
            let rejected = try await Browser.request(base + link + "/reject", method: "POST", form: form, cookies: jar)
            #expect(rejected.status == 303 && rejected.location == link + "?done=reject")
            let again = try await Browser.request(base + link + "/reject", method: "POST", form: form, cookies: jar)
            #expect(again.status == 303 && again.location == rejected.location, "a repeated rejection is answered like the first")
            let push = try await hall.clients.supervision(county).getPush(.with { $0.pushID = pushID }, metadata: metadata).push
            #expect(push.status == .rejected && push.rejectedBy.subject == "D51" && push.rejectionReason.contains("开发区"))
            let shown = try await Browser.request(base + rejected.location!, cookies: jar)
            #expect(shown.page.contains("已退回") && shown.page.contains("退回理由") && !shown.page.contains("id=\"form-claim\""))

            // The bureau re-routes it (退回改派): the inspector is refused the page; a section chief
            // sees it among the returned pushes with the reason and the suggested department.
            #expect(try await Browser.request(base + "/staff/returned-pushes", cookies: jar).status == 403)
            let chief = try Browser.staffCLI(cluster, ["add", "--database", database, "--staff-number", "K52", "--name", "周科长", "--role", "section_chief"])
            let chiefJar = ["oneseal_staff": try await Browser.firstSignIn(base, staffNumber: "K52", temporary: try #require(chief["temporary_password"] as? String))]
            let returned = try await Browser.request(base + "/staff/returned-pushes", cookies: chiefJar)
            #expect(returned.status == 200 && returned.page.contains(opened.caseNumber) && returned.page.contains("开发区"))
            let reroutePath = "/staff/returned-pushes/\(pushID)"
            let reroutePage = try await Browser.request(base + reroutePath, cookies: chiefJar)
            #expect(reroutePage.page.contains("id=\"form-reroute\"") && reroutePage.page.contains("value=\"\(Hall.cityMarket)\" checked"))
            func value(_ page: String, _ name: String) -> String? {
                guard let range = page.range(of: "name=\"\(name)\" value=\"") else { return nil }
                return String(page[range.upperBound...].prefix { $0 != "\"" })
            }
            let hidden = ["csrf_token": try #require(reroutePage.csrf), "idempotency_key": try #require(value(reroutePage.page, "idempotency_key"))]
            let nothing = try await Browser.request(base + reroutePath, method: "POST", form: hidden.merging(["reroute_reason": "按职责边界清单改派"]) { a, _ in a }, cookies: chiefJar)
            #expect(nothing.status == 400 && nothing.page.contains("departments-error"))
            // A department supervision does not know: its refusal is shown by the field, nothing changed.
            let unknown = try await Browser.request(base + reroutePath, method: "POST", form: hidden.merging(["departments": "NOPE-1", "reroute_reason": "按职责边界清单改派"]) { a, _ in a }, cookies: chiefJar)
            #expect(unknown.status == 400 && unknown.page.contains("departments-error") && unknown.page.contains("NOPE-1"), "\(unknown.page.prefix(800))")
            let chiefToken = try hall.clients.metadata(.sectionChief, "K52", node: county)
            #expect(try await hall.clients.supervision(county).getPush(.with { $0.pushID = pushID }, metadata: chiefToken).push.status == .rejected)
            let rerouteForm = hidden.merging(["departments": Hall.cityMarket, "reroute_reason": "经核实，该场所位于开发区，由市市场监管局开发区分局监管"]) { a, _ in a }
            let rerouted = try await Browser.request(base + reroutePath, method: "POST", form: rerouteForm, cookies: chiefJar)
            #expect(rerouted.status == 303 && rerouted.location == reroutePath + "?done=reroute")
            let twice = try await Browser.request(base + reroutePath, method: "POST", form: rerouteForm, cookies: chiefJar)
            #expect(twice.status == 303, "a repeated re-route is answered like the first")
            let after = try await hall.clients.supervision(county).getPush(.with { $0.pushID = pushID }, metadata: chiefToken).push
            #expect(after.status == .rerouted && after.reroutedToPushIds.count == 1)
            let fresh = try await hall.clients.supervision(county).getPush(.with { $0.pushID = after.reroutedToPushIds[0] }, metadata: chiefToken).push
            #expect(fresh.department.code == Hall.cityMarket && fresh.status == .pending)
            let done = try await Browser.request(base + rerouted.location!, cookies: chiefJar)
            #expect(done.page.contains("已改派") && !done.page.contains("id=\"form-reroute\""))
        }
    }
}
