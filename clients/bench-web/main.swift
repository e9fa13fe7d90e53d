// oneseal-bench-web: the web front's two public pages per second (#18), beside the same look-ups
// made directly over OneSeal TCP in the same run.
//
//   for p in oneseal-intake oneseal-approval oneseal-certificate oneseal-supervision oneseal-evaluation oneseal-web oneseal-bench-web; do
//     swift build --scratch-path .build-release -c release --product $p; done
//   scripts/with-postgres .build-release/release/oneseal-bench-web --concurrency 16 --duration 10
//
// Starts both nodes and their web fronts (the executables next to this program), issues one
// licence at the county through the normal life cycle, then for `--duration` seconds each, with
// `--concurrency` callers: GET /verify?… (the licence's QR link) from the county's web front;
// VerifyLicence with the same QR text straight to the county's certificate service; POST
// /progress (number + query code) to the web front; TrackProgress straight to intake. Prints the
// date, the commit, the machine's load, and per row: requests/s, p50/p99 latency, failures.
//
// The front limits look-ups per client address and intake per source (W6, X6): the bench sends
// each HTTP request with its own X-Forwarded-For address (the front trusts 127.0.0.1 as a proxy
// here) and raises intake's per-source limit (ONESEAL_PROGRESS_LOOKUPS_PER_MINUTE), so the rows
// measure the look-ups, not the limits. A benchmark, not a test: it prints figures, never fails
// on them.
import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GRPCCore
import OneSealBenchSupport
import OneSealLocalCluster
import OneSealProto
import Synchronization

@main
struct BenchWeb: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oneseal-bench-web",
        abstract: "Verification pages and progress look-ups per second through oneseal-web, beside the same look-ups over OneSeal TCP.")

    @Option(help: "libpq conninfo of a role that may create databases (default: $ONESEAL_TEST_POSTGRES).")
    var conninfo: String?

    @Option(help: "Directory of the executables (default: this program's directory).")
    var bin: String?

    @Option(help: "Concurrent callers per row.")
    var concurrency: Int = 16

    @Option(help: "Seconds measured per row.")
    var duration: Int = 10

    @Option(help: "Open cases loaded at the county (submitted and accepted over RPC, as a window would) before the workbench rows; 0 skips them (#19 asks for 10000).")
    var workbenchCases: Int = 0

    func validate() throws {
        guard concurrency > 0, duration > 0 else { throw ValidationError("--concurrency and --duration must be positive") }
        guard (0...200_000).contains(workbenchCases) else { throw ValidationError("--workbench-cases must be 0...200000") }
    }

    func run() async throws {
        guard let conninfo = conninfo ?? ProcessInfo.processInfo.environment["ONESEAL_TEST_POSTGRES"] else {
            throw ValidationError("pass --conninfo or set ONESEAL_TEST_POSTGRES (scripts/with-postgres sets it)")
        }
        let binDirectory = bin.map { URL(fileURLWithPath: $0) } ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        print("oneseal-bench-web: \(RunFacts.utcNow()), commit \(RunFacts.commit()), \(ProcessInfo.processInfo.activeProcessorCount) cores, load average before start: \(Pgbench.loadAverage())")
        print("binaries: \(binDirectory.path); \(concurrency) concurrent callers, \(duration) s per row")
        let cluster = try await LocalCluster.start(
            adminConninfo: conninfo, binDirectory: binDirectory, logLevel: "warning",
            environment: ["ONESEAL_PROGRESS_LOOKUPS_PER_MINUTE": "100000000"], web: true,
            webEnvironment: ["ONESEAL_WEB_TRUSTED_PROXIES": "127.0.0.1", "ONESEAL_LOG_LEVEL": "warning"])
        do {
            try await withClusterClients(cluster) { clients in
                let hall = Hall(clients)
                try await hall.setUp(cluster.nodes)
                try await measure(cluster: cluster, hall: hall)
            }
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
        print("load average after: \(Pgbench.loadAverage())")
    }

    func measure(cluster: LocalCluster, hall: Hall) async throws {
        let county = "371302"
        let submitted = try await hall.submit(at: county, items: [Hall.countyFoodItem]).application
        _ = try await hall.accept(at: county, submitted.applicationID)
        guard let opened = try await hall.cases(of: submitted.applicationID, at: county).first else { throw ValidationError("no case opened") }
        _ = try await hall.grant(opened.caseID, at: county)
        let licence = try await hall.licence(ofCase: opened.caseID, at: county)
        _ = try await eventually("the licence is in a signed tree head") {
            let answer = try await hall.verify(licence.content.licenceIdentifier, at: county)
            return answer.includedInLog ? answer : nil
        }
        let qr = try await hall.clients.certificate(county).renderLicence(
            .with { $0.licenceID = licence.licenceID; $0.format = .svg }, metadata: try hall.clerk(county)).qrPayload
        let number = submitted.applicationNumber, code = submitted.queryCode
        let web = cluster.webURL(county)
        guard let verifyURL = URL(string: web + "/verify?" + (qr.split(separator: "?", maxSplits: 1).last.map(String.init) ?? "")),
              let progressURL = URL(string: web + "/progress") else { throw ValidationError("bad URL") }
        let session = URLSession(configuration: .ephemeral)
        let addresses = AddressCounter()
        var progress = URLRequest(url: progressURL)
        progress.httpMethod = "POST"
        progress.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        progress.httpBody = Data("application_number=\(number)&query_code=\(code)".utf8)
        let progressRequest = progress
        /// One page over HTTP, with a different client address per request (many citizens behind
        /// the hall's proxy), checked for the marker of a real answer.
        let http: @Sendable (URLRequest, String) async throws -> Void = { request, marker in
            var request = request
            request.setValue(addresses.next(), forHTTPHeaderField: "X-Forwarded-For")
            let (data, response) = try await session.data(for: request)
            guard (response as? HTTPURLResponse)?.statusCode == 200, String(decoding: data, as: UTF8.self).contains(marker) else {
                throw ValidationError("HTTP \((response as? HTTPURLResponse)?.statusCode ?? 0)")
            }
        }
        let certificate = hall.clients.certificate(county), intake = hall.clients.intake(county)

        var rows: [(String, Result)] = []
        rows.append(("verification page, oneseal-web (GET /verify)", try await run { try await http(URLRequest(url: verifyURL), "data-verdict=\"valid\"") }))
        rows.append(("VerifyLicence, OneSeal TCP direct", try await run {
            let answer = try await certificate.verifyLicence(.with { $0.qrPayload = qr })
            guard answer.authenticity == .authentic else { throw ValidationError("not authentic") }
        }))
        rows.append(("progress look-up, oneseal-web (POST /progress)", try await run { try await http(progressRequest, "progress-result") }))
        rows.append(("TrackProgress, OneSeal TCP direct", try await run {
            _ = try await intake.trackProgress(.with { $0.applicationNumber = number; $0.queryCode = code })
        }))
        if workbenchCases > 0 {
            rows += try await workbench(cluster: cluster, hall: hall, session: session)
        }
        print("")
        print("| what | requests/s | p50 ms | p99 ms | failed |")
        print("|---|---:|---:|---:|---:|")
        for (name, result) in rows {
            print(String(format: "| %@ | %.0f | %.1f | %.1f | %d |", name, Double(result.latencies.count) / Double(duration), result.percentile(0.5), result.percentile(0.99), result.failures))
        }
        if let first = rows.flatMap({ $0.1.firstFailure }).first { print("first failure: \(first)") }
    }

    /// The workbench with `workbenchCases` open cases (#19): loads them through the window's RPCs
    /// (submit + accept, `concurrency` at a time), signs an officer and a director in through the
    /// staff pages, then measures the officer's work list (`/staff/cases`: ListCases twice, 100
    /// rows each, sorted by due date over all open cases), a case page (`/staff/cases/:id`: the
    /// case, its application, materials and audit entries) and the director's board
    /// (`/staff/dashboard`: evaluation's figures, warnings and charts over the same cases).
    func workbench(cluster: LocalCluster, hall: Hall, session: URLSession) async throws -> [(String, Result)] {
        let county = "371302"
        let clock = ContinuousClock()
        let started = clock.now
        let tickets = Tickets()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    while tickets.take() <= workbenchCases {
                        let submitted = try await hall.submit(at: county, items: [Hall.countyFoodItem]).application
                        _ = try await hall.accept(at: county, submitted.applicationID)
                    }
                }
            }
            try await group.waitForAll()
        }
        let loading = clock.now - started
        print("workbench: \(workbenchCases) cases submitted and accepted in \(loading.components.seconds) s (\(concurrency) at a time)")
        let web = cluster.webURL(county)
        let database = try cluster.webDatabaseConninfo(county)
        let officer = try await StaffBrowser.signIn(web, database: database, cluster: cluster, staffNumber: "BENCH-G1", role: "officer", session: session)
        let director = try await StaffBrowser.signIn(web, database: database, cluster: cluster, staffNumber: "BENCH-J1", role: "director", session: session)
        // Every case is in the approval queue once its CaseOpened has arrived; the board counts
        // them once evaluation has heard of them. Wait for both, so the rows measure a full house.
        let sample = try await eventually("approval holding the open cases", timeout: .seconds(600), every: .seconds(2)) { () -> String? in
            let cases = try await hall.clients.approval(county).listCases(.with {
                $0.statuses = [.inProgress]
                $0.page = .with { $0.pageSize = 1 }
            }, metadata: try hall.clients.metadata(.officer, "bench-officer", node: county))
            return cases.page.totalSize >= Int64(workbenchCases) ? cases.cases.first?.caseID : nil
        }
        guard let list = URL(string: web + "/staff/cases"), let board = URL(string: web + "/staff/dashboard"),
              let casePage = URL(string: web + "/staff/cases/" + sample) else { throw ValidationError("bad URL") }
        let page: @Sendable (URL, String, String) async throws -> Void = { url, cookie, marker in
            var request = URLRequest(url: url)
            request.httpShouldHandleCookies = false
            request.setValue("oneseal_staff=\(cookie)", forHTTPHeaderField: "Cookie")
            let (data, response) = try await session.data(for: request)
            guard (response as? HTTPURLResponse)?.statusCode == 200, String(decoding: data, as: UTF8.self).contains(marker) else {
                throw ValidationError("HTTP \((response as? HTTPURLResponse)?.statusCode ?? 0)")
            }
        }
        var rows: [(String, Result)] = []
        rows.append(("work list, \(workbenchCases) open cases (GET /staff/cases)", try await run { try await page(list, officer, "本岗位待认领") }))
        rows.append(("case page, \(workbenchCases) open cases (GET /staff/cases/:id)", try await run { try await page(casePage, officer, "审计记录") }))
        rows.append(("director's board, \(workbenchCases) open cases (GET /staff/dashboard)", try await run { try await page(board, director, "效能看板") }))
        return rows
    }

    /// Staff accounts made as an operator would (`oneseal staff add` on the front's database) and
    /// signed in through the pages: the `oneseal_staff` cookie of a session past its first password change.
    enum StaffBrowser {
        static func field(_ page: String, _ name: String) -> String? {
            guard let range = page.range(of: "name=\"\(name)\" value=\"") else { return nil }
            return String(page[range.upperBound...].prefix { $0 != "\"" })
        }

        static func cookie(_ response: HTTPURLResponse, _ name: String) -> String? {
            guard let header = response.value(forHTTPHeaderField: "Set-Cookie"), let range = header.range(of: name + "=") else { return nil }
            return String(header[range.upperBound...].prefix { $0 != ";" && $0 != "," })
        }

        static func signIn(_ web: String, database: String, cluster: LocalCluster, staffNumber: String, role: String, session: URLSession) async throws -> String {
            let process = Process()
            process.executableURL = cluster.binDirectory.appendingPathComponent("oneseal")
            process.arguments = ["staff", "add", "--database", database, "--staff-number", staffNumber, "--name", "压测", "--role", role, "--json"]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0, let answer = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let temporary = answer["temporary_password"] as? String else { throw ValidationError("oneseal staff add \(staffNumber) failed") }
            let noRedirects = URLSession(configuration: .ephemeral, delegate: NoRedirects(), delegateQueue: nil)
            func send(_ path: String, form: [String: String]? = nil, cookie: String) async throws -> (String, HTTPURLResponse) {
                var request = URLRequest(url: URL(string: web + path)!)
                request.httpShouldHandleCookies = false
                request.setValue(cookie, forHTTPHeaderField: "Cookie")
                if let form {
                    request.httpMethod = "POST"
                    request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
                    request.httpBody = Data(form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }.joined(separator: "&").utf8)
                }
                let (data, response) = try await noRedirects.data(for: request)
                return (String(decoding: data, as: UTF8.self), response as! HTTPURLResponse)
            }
            let (form, first) = try await send("/staff/sign-in", cookie: "")
            guard let visitor = cookie(first, "oneseal_visitor"), let csrf = field(form, "csrf_token") else { throw ValidationError("no sign-in form") }
            let (_, signedIn) = try await send("/staff/sign-in", form: ["csrf_token": csrf, "staff_number": staffNumber, "password": temporary], cookie: "oneseal_visitor=\(visitor)")
            guard let pending = cookie(signedIn, "oneseal_staff") else { throw ValidationError("sign-in refused") }
            let (change, _) = try await send("/staff/password", cookie: "oneseal_staff=\(pending)")
            guard let changeToken = field(change, "csrf_token") else { throw ValidationError("no password form") }
            let (_, changed) = try await send("/staff/password", form: [
                "csrf_token": changeToken, "current_password": temporary, "new_password": "bench password 2026", "new_password_confirm": "bench password 2026",
            ], cookie: "oneseal_staff=\(pending)")
            guard let signedInCookie = cookie(changed, "oneseal_staff") else { throw ValidationError("password change refused") }
            return signedInCookie
        }
    }

    final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
        func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
            completionHandler(nil)
        }
    }

    /// 1, 2, 3, … across the loading tasks.
    final class Tickets: Sendable {
        private let value = Mutex(0)
        func take() -> Int { value.withLock { value in value += 1; return value } }
    }

    /// 10.x.y.z addresses, one per request.
    final class AddressCounter: Sendable {
        private let value = Mutex(0)
        func next() -> String {
            let n = value.withLock { value in value += 1; return value }
            return "10.\((n >> 16) & 255).\((n >> 8) & 255).\(n & 255)"
        }
    }

    struct Result: Sendable {
        var latencies: [Double] = []
        var failures = 0
        var firstFailure: String?

        func percentile(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            let sorted = latencies.sorted()
            return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
        }
    }

    /// `concurrency` callers repeat `call` for `duration` seconds after a one-second warm-up.
    func run(_ call: @escaping @Sendable () async throws -> Void) async throws -> Result {
        let clock = ContinuousClock()
        let measureFrom = clock.now.advanced(by: .seconds(1))
        let stopAt = measureFrom.advanced(by: .seconds(duration))
        return try await withThrowingTaskGroup(of: Result.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var result = Result()
                    while clock.now < stopAt {
                        let started = clock.now
                        do {
                            try await call()
                            if started >= measureFrom {
                                let elapsed = clock.now - started
                                result.latencies.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
                            }
                        } catch {
                            if started >= measureFrom { result.failures += 1 }
                            if result.firstFailure == nil { result.firstFailure = "\(error)" }
                        }
                    }
                    return result
                }
            }
            var total = Result()
            for try await part in group {
                total.latencies += part.latencies
                total.failures += part.failures
                total.firstFailure = total.firstFailure ?? part.firstFailure
            }
            return total
        }
    }
}
