import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OneSealLocalCluster
import OneSealProto
import Testing

/// The staff workbench (#19) against both nodes as real processes: the operator creates an officer
/// and a window clerk with `oneseal staff add` on the county front's database, each signs in at
/// `/staff/sign-in` and sets their own password; an application accepted at the window shows in
/// the officer's work list (approval's ListCases with a token the front minted with its staff key,
/// trusted by approval for staff roles only); the clerk's session is refused the work list; a
/// disabled officer is signed out on the next click.
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
        return Answer(status: http.statusCode, page: String(decoding: data, as: UTF8.self), location: http.value(forHTTPHeaderField: "Location"), setCookie: http.value(forHTTPHeaderField: "Set-Cookie"))
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

    @Test("the officer's work list shows the case accepted at the window, sorted by due date; a clerk is refused it; a disabled officer is signed out")
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
}
