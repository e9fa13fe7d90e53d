import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OneSealLocalCluster
import OneSealProto
import Testing

/// 系统运维 (#19 screen 5) against both nodes as real processes: the operator sees every connected
/// service serving, the staff accounts and the catalogue; exports the catalogue file, imports it
/// unchanged (nothing published), imports it with one item changed (that item's next version), and
/// a broken file publishes nothing and says why. A window clerk is refused; a form without its
/// CSRF token does nothing.
@Suite(.serialized) struct OperatorScreenTests {
    typealias Browser = WorkbenchTests

    static func multipart(_ fields: [String: String], file: (name: String, fileName: String, body: Data)?) -> (body: Data, contentType: String) {
        let boundary = "----oneseal-test-\(UUID().uuidString)"
        var body = Data()
        for (name, value) in fields {
            body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        if let file {
            body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.name)\"; filename=\"\(file.fileName)\"\r\nContent-Type: application/json\r\n\r\n".utf8)
            body += file.body + Data("\r\n".utf8)
        }
        body += Data("--\(boundary)--\r\n".utf8)
        return (body, "multipart/form-data; boundary=\(boundary)")
    }

    static func post(_ url: String, multipart: (body: Data, contentType: String), cookie: String) async throws -> Browser.Answer {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.httpShouldHandleCookies = false
        request.httpBody = multipart.body
        request.setValue(multipart.contentType, forHTTPHeaderField: "Content-Type")
        request.setValue("oneseal_staff=\(cookie)", forHTTPHeaderField: "Cookie")
        let (data, response) = try await Browser.browser.data(for: request)
        let http = response as! HTTPURLResponse
        return Browser.Answer(status: http.statusCode, page: String(decoding: data, as: UTF8.self), location: http.value(forHTTPHeaderField: "Location"), setCookie: nil)
    }

    @Test("the operator sees health, staff and catalogue; exports, re-imports unchanged, publishes a changed item; a broken file publishes nothing; a clerk is refused")
    func operatorScreen() async throws {
        try await withTwoNodes(web: true) { cluster, _ in
            let database = try cluster.webDatabaseConninfo(Hall.county)
            let base = cluster.webURL(Hall.county)
            let operatorAccount = try Browser.staffCLI(cluster, ["add", "--database", database, "--staff-number", "Y01", "--name", "孙运维", "--role", "operator"])
            let clerk = try Browser.staffCLI(cluster, ["add", "--database", database, "--staff-number", "W0031", "--name", "李四", "--role", "window_clerk", "--window", "5"])
            let session = try await Browser.firstSignIn(base, staffNumber: "Y01", temporary: try #require(operatorAccount["temporary_password"] as? String))
            let clerkSession = try await Browser.firstSignIn(base, staffNumber: "W0031", temporary: try #require(clerk["temporary_password"] as? String))
            let jar = ["oneseal_staff": session]

            let home = try await Browser.request(base + "/staff", cookies: jar)
            #expect(home.page.contains("href=\"/staff/operations\""))
            let page = try await Browser.request(base + "/staff/operations", cookies: jar)
            #expect(page.status == 200, "\(page.page)")
            #expect(page.page.contains("服务状态：6/6 正常"), "intake, certificate, approval, supervision, evaluation and the front's database")
            #expect(!page.page.contains("data-serving=\"false\""))
            #expect(page.page.contains("W0031") && page.page.contains("孙运维") && page.page.contains("5号窗口"))
            #expect(page.page.contains(Hall.countyFoodItem) && page.page.contains("导出目录文件"))

            // Export, then import the same file: nothing new is published.
            var exportRequest = URLRequest(url: URL(string: base + "/staff/operations/catalogue.json")!)
            exportRequest.setValue("oneseal_staff=\(session)", forHTTPHeaderField: "Cookie")
            let (exported, exportResponse) = try await Browser.browser.data(for: exportRequest)
            #expect((exportResponse as! HTTPURLResponse).statusCode == 200)
            #expect((exportResponse as! HTTPURLResponse).value(forHTTPHeaderField: "Content-Disposition")?.contains("attachment") == true)
            let file = try #require(try JSONSerialization.jsonObject(with: exported) as? [String: Any])
            #expect(file["format"] as? String == "oneseal-catalogue/1")
            var items = try #require(file["items"] as? [[String: Any]])
            #expect(items.contains { $0["implementation_code"] as? String == Hall.countyFoodItem })

            let csrf = try #require(page.csrf)
            let same = try await Self.post(base + "/staff/operations/catalogue", multipart: Self.multipart(["csrf_token": csrf, "change_note": "复核"], file: ("catalogue", "catalogue.json", exported)), cookie: session)
            #expect(same.status == 200 && same.page.contains("已导入\(items.count)项，其中0项发布了新版本"), "\(same.page.prefix(600))")

            // One item's promised days changed: exactly that item gets its next version.
            let index = try #require(items.firstIndex { $0["implementation_code"] as? String == Hall.countyFoodItem })
            let before = try #require(items[index]["promised_days"] as? Int)
            items[index]["promised_days"] = before - 1
            let changed = try JSONSerialization.data(withJSONObject: ["format": "oneseal-catalogue/1", "items": items])
            let published = try await Self.post(base + "/staff/operations/catalogue", multipart: Self.multipart(["csrf_token": csrf, "change_note": "承诺时限压缩"], file: ("catalogue", "catalogue.json", changed)), cookie: session)
            #expect(published.status == 200 && published.page.contains("其中1项发布了新版本") && published.page.contains("已发布 v2"), "\(published.page.prefix(600))")

            // A broken file: nothing published, the reason shown.
            let broken = try JSONSerialization.data(withJSONObject: ["format": "oneseal-catalogue/9", "items": items])
            let refusedFile = try await Self.post(base + "/staff/operations/catalogue", multipart: Self.multipart(["csrf_token": csrf], file: ("catalogue", "catalogue.json", broken)), cookie: session)
            #expect(refusedFile.status == 400 && refusedFile.page.contains("目录文件有误，未导入") && refusedFile.page.contains("format"))
            // No file, a two-line note, no CSRF token.
            let noFile = try await Self.post(base + "/staff/operations/catalogue", multipart: Self.multipart(["csrf_token": csrf], file: nil), cookie: session)
            #expect(noFile.status == 400 && noFile.page.contains("请选择"))
            let twoLines = try await Self.post(base + "/staff/operations/catalogue", multipart: Self.multipart(["csrf_token": csrf, "change_note": "a\nb"], file: ("catalogue", "c.json", changed)), cookie: session)
            #expect(twoLines.status == 400 && twoLines.page.contains("发布说明"))
            let forged = try await Self.post(base + "/staff/operations/catalogue", multipart: Self.multipart([:], file: ("catalogue", "c.json", changed)), cookie: session)
            #expect(forged.status == 403)
            let after = try await Browser.request(base + "/staff/operations", cookies: jar)
            // The changed item stands at v2: the refused forms published nothing more.
            #expect(after.page.contains("<td data-label=\"实施编码\">\(Hall.countyFoodItem)</td><td data-label=\"版本\">v2</td>"), "\(after.page)")

            // The clerk: refused, before any call.
            for path in ["/staff/operations", "/staff/operations/catalogue.json"] {
                let refused = try await Browser.request(base + path, cookies: ["oneseal_staff": clerkSession])
                #expect(refused.status == 403 && refused.page.contains("无权访问"), "\(path)")
            }
            let clerkPost = try await Self.post(base + "/staff/operations/catalogue", multipart: Self.multipart(["csrf_token": csrf], file: ("catalogue", "c.json", changed)), cookie: clerkSession)
            #expect(clerkPost.status == 403)
        }
    }
}
