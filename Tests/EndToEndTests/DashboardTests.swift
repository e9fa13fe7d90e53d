import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OneSealCore
import OneSealLocalCluster
import OneSealProto
import Testing

/// 效能看板 (#19 screen 4) against both nodes as real processes: a director created with
/// `oneseal staff add` signs in and sees today's and this month's figures, the warnings, each
/// window's flag and the month's charts as inline SVG — evaluation's figures, read with the token
/// the front mints for the director (evaluation admits the leading posts, W41). The monthly report
/// opens from the board in a sandbox; a bad month is named; a window clerk is refused the board.
@Suite(.serialized) struct DashboardTests {
    typealias Browser = WorkbenchTests

    @Test("the director's board shows the day's accepted case, warnings, flags and charts; the month's report opens; a clerk is refused")
    func directorsBoard() async throws {
        try await withTwoNodes(web: true) { cluster, hall in
            let database = try cluster.webDatabaseConninfo(Hall.county)
            let base = cluster.webURL(Hall.county)
            let director = try Browser.staffCLI(cluster, ["add", "--database", database, "--staff-number", "G01", "--name", "王局长", "--role", "director"])
            let clerk = try Browser.staffCLI(cluster, ["add", "--database", database, "--staff-number", "W0021", "--name", "李四", "--role", "window_clerk", "--window", "2"])
            let directorSession = try await Browser.firstSignIn(base, staffNumber: "G01", temporary: try #require(director["temporary_password"] as? String))
            let clerkSession = try await Browser.firstSignIn(base, staffNumber: "W0021", temporary: try #require(clerk["temporary_password"] as? String))
            let asDirector = ["oneseal_staff": directorSession]

            let home = try await Browser.request(base + "/staff", cookies: asDirector)
            #expect(home.status == 200 && home.page.contains("href=\"/staff/dashboard\""))
            let clerkHome = try await Browser.request(base + "/staff", cookies: ["oneseal_staff": clerkSession])
            #expect(clerkHome.status == 200 && !clerkHome.page.contains("/staff/dashboard"))

            // One application submitted and accepted at the county's window today.
            let submitted = try await hall.submit(at: Hall.county, items: [Hall.countyFoodItem])
            _ = try await hall.accept(at: Hall.county, submitted.application.applicationID)

            // Evaluation hears of it through the event path a moment later; the board shows it.
            let board = try await eventually("the board counting today's accepted case") { () -> WorkbenchTests.Answer? in
                let answer = try await Browser.request(base + "/staff/dashboard", cookies: asDirector)
                return answer.status == 200 && answer.page.contains("<th scope=\"row\">受理</th><td>1</td>") ? answer : nil
            }
            #expect(board.page.contains("<h2 id=\"today\">今日</h2>") && board.page.contains("<th scope=\"row\">收件</th><td>1</td>"))
            #expect(board.page.contains("按期办结率") && board.page.contains("预警：红牌 0 件 · 黄牌 0 件"))
            #expect(board.page.contains("窗口红黄旗") && board.page.contains("<svg"), "the month's charts drawn inline")
            #expect(board.page.contains("<meta http-equiv=\"refresh\" content=\"60\">"))
            #expect(!board.page.contains("<script"))

            // The month's report, one click away, served in a sandbox.
            let today = CivilDate.today()
            let month = "\(today.year)-" + (today.month < 10 ? "0" : "") + "\(today.month)"
            #expect(board.page.contains("/staff/dashboard/report?month=\(month)"))
            let report = try await Browser.request(base + "/staff/dashboard/report?month=\(month)", cookies: asDirector)
            #expect(report.status == 200 && report.page.contains("效能分析报告") && report.page.contains("<svg"))
            let bad = try await Browser.request(base + "/staff/dashboard/report?month=2026-13", cookies: asDirector)
            #expect(bad.status == 400 && bad.page.contains("月份有误"))
            let next = today.month == 12 ? "\(today.year + 1)-01" : "\(today.year)-" + (today.month < 9 ? "0" : "") + "\(today.month + 1)"
            let future = try await Browser.request(base + "/staff/dashboard/report?month=\(next)", cookies: asDirector)
            #expect(future.status == 400 && future.page.contains("尚未开始"))

            // A window clerk: refused by the page before any call (evaluation would refuse the token too).
            for path in ["/staff/dashboard", "/staff/dashboard/report"] {
                let refused = try await Browser.request(base + path, cookies: ["oneseal_staff": clerkSession])
                #expect(refused.status == 403 && refused.page.contains("无权访问") && !refused.page.contains("<svg"), "\(path)")
            }
            // Signed out: the sign-in page.
            let anonymous = try await Browser.request(base + "/staff/dashboard")
            #expect(anonymous.status == 303 && anonymous.location == "/staff/sign-in")
        }
    }
}
