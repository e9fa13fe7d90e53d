import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import OneSealProto
import ServiceLifecycle
import Testing
import WebRules
@testable import WebService

/// oneseal-web as a process would run it, but in-process on port 0 and with its services pointing at
/// closed ports: what a citizen sees when the node's services are down, and the limits at the edge.
@Suite struct WebFrontServerTests {
    static func withFront(_ body: @Sendable (String) async throws -> Void) async throws {
        let configuration = WebConfiguration(
            node: "371302", siteName: "临沂市兰山区行政审批服务局", host: "127.0.0.1", port: 0, publicURL: nil,
            intake: (host: "127.0.0.1", port: 1), certificate: (host: "127.0.0.1", port: 1))
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let front = WebFront(configuration: configuration, logger: Logger(label: "test.web")) { continuation.yield($0) }
        let group = ServiceGroup(services: [front], logger: Logger(label: "test.web"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            do { try await body("http://127.0.0.1:\(port)") } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    static func get(_ url: String, method: String = "GET", body: Data? = nil) async throws -> (status: Int, page: String, headers: [AnyHashable: Any]) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.httpBody = body
        if body != nil { request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        return (http.statusCode, String(decoding: data, as: UTF8.self), http.allHeaderFields)
    }

    @Test func pagesAnswerAndServicesDownReadPleaseTryLater() async throws {
        try await Self.withFront { base in
            let home = try await Self.get(base + "/")
            #expect(home.status == 200 && home.page.contains("办件进度查询") && home.page.contains("lang=\"zh-CN\""))
            #expect((home.headers["X-Request-Id"] as? String)?.isEmpty == false)
            #expect((home.headers["Content-Security-Policy"] as? String)?.contains("default-src 'none'") == true)

            let style = try await Self.get(base + "/assets/style-4.css")
            #expect(style.status == 200 && style.page.contains("--brand"))

            let verify = try await Self.get(base + "/verify?v=1&id=1.2.156.3005.2.11100000MB01432663101.11371302MB2850286Q.371302202600000001.001.F&node=371302&kid=aa&sig=AAAA")
            #expect(verify.status == 503 && verify.page.contains("请稍后再试"))
            #expect(!verify.page.contains("Error") && !verify.page.contains("cannot connect"))

            // The home page's paste field: the whole QR link → this node's /verify with its query.
            let pasted = "http://elsewhere.example/verify?v=1&id=1.2.156.3005.2.11100000MB01432663101.11371302MB2850286Q.371302202600000001.001.F&node=371302&kid=aa&sig=AAAA"
            let viaLink = try await Self.get(base + "/verify/link?qr=" + pasted.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
            #expect(viaLink.status == 503 && viaLink.page.contains("暂时无法核验"))

            // The catalogue: the search form on the home page; a search with intake down says try later.
            #expect(home.page.contains("<label for=\"q\">事项名称或编码</label>"))
            let search = try await Self.get(base + "/items?q=" + "食品".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
            #expect(search.status == 503 && search.page.contains("请稍后再试") && search.page.contains("value=\"食品\""))
            let guide = try await Self.get(base + "/items/000117005000371302001")
            #expect(guide.status == 503 && guide.page.contains("请稍后再试"))

            let form = try await Self.get(base + "/progress", method: "POST", body: Data("application_number=3713022026120400000001&query_code=ABCDEFGHJK".utf8))
            #expect(form.status == 503 && form.page.contains("请稍后再试"))
            #expect(form.page.contains("value=\"3713022026120400000001\"") && !form.page.contains("ABCDEFGHJK"))
        }
    }

    @Test func brokenInputIsNamedBeforeAnyServiceIsAsked() async throws {
        try await Self.withFront { base in
            let empty = try await Self.get(base + "/progress", method: "POST", body: Data())
            #expect(empty.status == 400 && empty.page.contains("请填写受理编号") && empty.page.contains("aria-invalid=\"true\""))

            let truncated = try await Self.get(base + "/verify?v=1&id=1.2.156.3005.2.11100000MB01432663101.11371302MB2850286Q.371302202600000001.001.F&node=371302")
            #expect(truncated.status == 400 && truncated.page.contains("验证未通过") && truncated.page.contains("kid"))

            let noQuery = try await Self.get(base + "/verify")
            #expect(noQuery.status == 400 && noQuery.page.contains("请用手机扫描"))

            let long = try await Self.get(base + "/verify?" + String(repeating: "a", count: 3000))
            #expect(long.status == 414)

            let big = try await Self.get(base + "/progress", method: "POST", body: Data(repeating: 0x61, count: 100_000))
            #expect(big.status == 413 && big.page.contains("提交的内容过大"))

            // A search too long for a name or code is named next to its field; a path that is no
            // item code is not found — neither asks intake (which is down here: 503 otherwise).
            let longSearch = try await Self.get(base + "/items?q=" + String(repeating: "a", count: 65))
            #expect(longSearch.status == 400 && longSearch.page.contains("请输入不超过64个字") && longSearch.page.contains("aria-invalid=\"true\""))
            let notACode = try await Self.get(base + "/items/%3Cscript%3E")
            #expect(notACode.status == 404 && notACode.page.contains("事项不存在") && !notACode.page.contains("<script>"))

            let missing = try await Self.get(base + "/nothing-here")
            #expect(missing.status == 404 && missing.page.contains("页面不存在"))
        }
    }

    @Test func aForgedLicenceShowsNoLicenceCardAndShipsNoEvidence() {
        var response = Certificate_VerifyLicenceResponse()
        response.authenticity = .contentMismatch
        response.status = .valid
        response.content.licenceName = "食品经营许可证"
        response.content.holderName = "张三丰"
        response.failureReason = "the QR code carries a seal that is not the one the issuer recorded"
        let link = try! VerifyLink(query: "v=1&id=1.2.156.3005.2.11100000MB01432663101.11371302MB2850286Q.371302202600000001.001.F&node=371302&kid=aa&sig=AAAA")
        let page = VerifyPage.render(layout: Layout(siteName: "x", requestID: "r"), outcome: .answered(response, link: link))
        #expect(page.contains("data-verdict=\"invalid\"") && page.contains("伪造或改动"))
        #expect(!page.contains("张三丰") && !page.contains("id=\"evidence\""))
    }

    @Test func configurationNamesWhatIsMissing() {
        let plain = ["ONESEAL_INSECURE_LOOPBACK": "1"]
        #expect(throws: (any Error).self) { try WebConfiguration.fromEnvironment(plain.merging(["ONESEAL_NODE": "371302"]) { $1 }) }
        #expect(throws: (any Error).self) {
            try WebConfiguration.fromEnvironment(plain.merging(["ONESEAL_NODE": "371302", "ONESEAL_PEERS": "intake@371302=h:1,certificate@371302=h:2", "ONESEAL_PUBLIC_URL": "zwfw.example"]) { $1 })
        }
        let peers = ["ONESEAL_NODE": "371302", "ONESEAL_PEERS": "intake@371302=h:1,certificate@371302=h:2", "ONESEAL_PUBLIC_URL": "https://zwfw.lanshan.gov.cn/"]
        // Without TLS files or an explicit plain loopback the front refuses to start (it calls the services over TLS).
        #expect(throws: (any Error).self) { try WebConfiguration.fromEnvironment(peers) }
        let ok = try? WebConfiguration.fromEnvironment(plain.merging(peers) { $1 })
        #expect(ok?.port == 7180 && ok?.publicURL == "https://zwfw.lanshan.gov.cn" && ok?.certificate.port == 2)
        #expect(ok?.tls == .insecureLoopback)
        #expect(ok?.verifyURL(boundPort: 0) == "https://zwfw.lanshan.gov.cn/verify")
    }
}
