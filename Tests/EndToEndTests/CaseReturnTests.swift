import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OneSealLocalCluster
import OneSealProto
import Testing

/// 退回重办 and 改派 on the case page (#19 screen 2): after the officer's review of a section-tier
/// case, the section chief sends it back to the review (which step and why, by their fields first)
/// and then gives the new review to another officer; approval records both, the officer is not
/// offered either form.
@Suite(.serialized) struct CaseReturnTests {
    typealias Browser = WorkbenchTests

    @Test("the section chief returns a reviewed case to the review and reassigns it, each refused by its fields first")
    func returnAndReassign() async throws {
        try await withTwoNodes(web: true) { cluster, hall in
            let county = Hall.county
            let database = try cluster.webDatabaseConninfo(county)
            let base = cluster.webURL(county)
            let chief = try Browser.staffCLI(cluster, ["add", "--database", database, "--staff-number", "K61", "--name", "孙科长", "--role", "section_chief"])
            let officer = try Browser.staffCLI(cluster, ["add", "--database", database, "--staff-number", "G61", "--name", "钱承办", "--role", "officer"])
            let chiefSession = try await Browser.firstSignIn(base, staffNumber: "K61", temporary: try #require(chief["temporary_password"] as? String))
            let officerSession = try await Browser.firstSignIn(base, staffNumber: "G61", temporary: try #require(officer["temporary_password"] as? String))
            let jar = ["oneseal_staff": chiefSession]

            let submitted = try await hall.submit(at: county, items: [WorkbenchTests.sectionItem]).application
            _ = try await hall.accept(at: county, submitted.applicationID)
            let opened = try #require(try await hall.cases(of: submitted.applicationID, at: county).first)
            let reviewed = try await hall.signActiveStep(try await hall.getCase(opened.caseID, at: county), at: county, conclusion: .proposeGrant)
            #expect(reviewed.nextRole == .sectionChief)
            let path = "/staff/cases/\(opened.caseID)"

            let officerPage = try await Browser.request(base + path, cookies: ["oneseal_staff": officerSession])
            #expect(!officerPage.page.contains("id=\"form-return\"") && !officerPage.page.contains("id=\"form-reassign\""))
            let page = try await Browser.request(base + path, cookies: jar)
            #expect(page.page.contains("id=\"form-return\"") && page.page.contains("id=\"form-reassign\""), "\(page.page)")
            func hidden(_ page: String) throws -> [String: String] {
                func value(_ name: String) -> String? {
                    guard let range = page.range(of: "name=\"\(name)\" value=\"") else { return nil }
                    return String(page[range.upperBound...].prefix { $0 != "\"" })
                }
                return ["csrf_token": try #require(value("csrf_token")), "idempotency_key": try #require(value("idempotency_key")),
                        "revision": try #require(value("revision")), "step_id": value("step_id") ?? ""]
            }
            let form = try hidden(page.page)

            let noTarget = try await Browser.request(base + path + "/return", method: "POST", form: form.merging(["return_reason": "现场核查记录缺少照片"]) { a, _ in a }, cookies: jar)
            #expect(noTarget.status == 400 && noTarget.page.contains("target_step-error"))
            let returned = try await Browser.request(base + path + "/return", method: "POST", form: form.merging(["target_step": "0", "return_reason": "现场核查记录缺少照片，请补充后重新审查"]) { a, _ in a }, cookies: jar)
            #expect(returned.status == 303, "\(returned.page.prefix(600))")
            let afterReturn = try await hall.getCase(opened.caseID, at: county)
            #expect(afterReturn.nextRole == .officer && afterReturn.returns == 1)

            let reassignPage = try await Browser.request(base + path, cookies: jar)
            let reassignForm = try hidden(reassignPage.page)
            let badNumber = try await Browser.request(base + path + "/reassign", method: "POST", form: reassignForm.merging(["new_assignee": "<G62>", "reassign_reason": "原承办人休假"]) { a, _ in a }, cookies: jar)
            #expect(badNumber.status == 400 && badNumber.page.contains("new_assignee-error"))
            let reassigned = try await Browser.request(base + path + "/reassign", method: "POST", form: reassignForm.merging(["new_assignee": "G62", "reassign_reason": "原承办人休假，改由G62承办"]) { a, _ in a }, cookies: jar)
            #expect(reassigned.status == 303, "\(reassigned.page.prefix(600))")
            let final = try await hall.getCase(opened.caseID, at: county)
            #expect(final.steps[Int(final.currentStepIndex)].assignee.subject == "G62")

            // 科室会审 on the same page: the officer is not offered it; the chief's form names what
            // is missing, a participant's vague opinion comes back from approval at its row, and
            // the form sent twice records one meeting.
            #expect(!(try await Browser.request(base + path, cookies: ["oneseal_staff": officerSession])).page.contains("id=\"form-joint-review\""))
            let meetingPage = try await Browser.request(base + path, cookies: jar)
            #expect(meetingPage.page.contains("id=\"form-joint-review\"") && meetingPage.page.contains("科室会审记录"))
            let meetingForm = try hidden(meetingPage.page)
            let thin = try await Browser.request(base + path + "/joint-review", method: "POST", form: meetingForm.merging([
                "jr_location": "三楼会议室", "jr_outcome": "grant",
                "jr_subject_1": "K61", "jr_title_1": "科长", "jr_vote_1": "agree", "jr_opinion_1": "同意",
            ]) { a, _ in a }, cookies: jar)
            #expect(thin.status == 400 && thin.page.contains("jr_participants-error") && thin.page.contains("jr_conclusion-error"))
            var meeting = meetingForm.merging([
                "jr_location": "三楼会议室", "jr_outcome": "grant", "jr_conclusion": "经科室会审，现场核查补充照片后材料齐全，符合许可条件",
                "jr_subject_1": "K61", "jr_name_1": "孙科长", "jr_title_1": "科长", "jr_vote_1": "agree", "jr_opinion_1": "同意",
                "jr_subject_3": "G62", "jr_title_3": "承办人", "jr_vote_3": "agree", "jr_opinion_3": "补充照片已核对，场所布局与平面图一致",
            ]) { a, _ in a }
            let vague = try await Browser.request(base + path + "/joint-review", method: "POST", form: meeting, cookies: jar)
            #expect(vague.status == 400 && vague.page.contains("jr_opinion_1-error") && !vague.page.contains("jr_opinion_3-error"), "\(vague.page.prefix(600))")
            #expect(try await hall.getCase(opened.caseID, at: county).jointReviews.isEmpty, "nothing half-saved")
            meeting["jr_opinion_1"] = "现场核查记录已补充照片，经营场所与申请材料一致，同意准予许可"
            let held = try await Browser.request(base + path + "/joint-review", method: "POST", form: meeting, cookies: jar)
            #expect(held.status == 303 && held.location == path + "?done=joint-review", "\(held.page.prefix(600))")
            let repeated = try await Browser.request(base + path + "/joint-review", method: "POST", form: meeting, cookies: jar)
            #expect(repeated.status == 303)
            let met = try await hall.getCase(opened.caseID, at: county)
            #expect(met.jointReviews.count == 1 && met.jointReviews[0].opinions.map(\.participant.subject) == ["K61", "G62"])
            let shownMeeting = try await Browser.request(base + held.location!, cookies: jar)
            #expect(shownMeeting.page.contains("会审记录") && shownMeeting.page.contains("补充照片已核对"))
        }
    }
}
