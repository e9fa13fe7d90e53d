import CertificateRules
import Foundation
import OneSealProto
import SwiftProtobuf
import WebRules

/// `/verify?v=1&id=…&node=…&kid=…&sig=…`: the page a licence's QR code opens. The certificate
/// service answers (its own record, or a trusted peer's for 互认); the page says what it found in
/// one sentence, shows the licence with the holder masked, and lists every check with where it ran:
/// on the server, or in the citizen's browser (`Assets.script`, from the evidence embedded here).
enum VerifyPage {
    enum Outcome {
        case answered(Certificate_VerifyLicenceResponse, link: VerifyLink)
        case badLink(VerifyLink.Problem)
        case unknown(identifier: String)
        case unavailable
    }

    static func render(layout: Layout, outcome: Outcome) -> String {
        switch outcome {
        case .badLink(let problem):
            return failurePage(layout: layout, headline: "链接无效", message: problem.message)
        case .unknown(let identifier):
            return failurePage(layout: layout, headline: "查无此证",
                message: "颁发机关没有签发标识为 \(identifier) 的证照。该二维码可能是伪造的，或链接被改动过。")
        case .unavailable:
            return layout.page(title: "证照核验", body: """
            <h1>证照核验</h1>
            <section class="verdict warn" role="status" id="verdict" data-verdict="unavailable"><p class="big">暂时无法核验</p><p>\(HTML.escape(ErrorPage.unavailable))</p></section>
            """)
        case .answered(let response, let link):
            return answered(layout: layout, response: response, link: link)
        }
    }

    static func failurePage(layout: Layout, headline: String, message: String) -> String {
        layout.page(title: "证照核验", body: """
        <h1>证照核验</h1>
        <section class="verdict bad" role="alert" id="verdict" data-verdict="invalid"><p class="big">验证未通过：\(HTML.escape(headline))</p><p>\(HTML.escape(message))</p>
        <p>请勿相信此证照或二维码，并向颁发机关核实。</p></section>
        """)
    }

    static func statusText(_ status: Certificate_LicenceStatus) -> String {
        switch status {
        case .valid: "有效"
        case .revoked: "已撤销"
        case .cancelled: "已注销"
        case .expired: "已过期"
        case .superseded: "已换发"
        default: "状态未知"
        }
    }

    static func authenticityText(_ authenticity: Certificate_Authenticity) -> String {
        switch authenticity {
        case .authentic: "签章有效"
        case .contentMismatch: "二维码中的签章与颁发机关的记录不一致：证照或二维码被伪造或改动过。"
        case .badSignature: "签章验证失败：证照内容被改动，或签章是伪造的。"
        case .untrustedIssuer: "颁发机关不在本节点的信任列表中，无法确认其真伪。"
        case .unknownLicence: "颁发机关没有签发这份证照。"
        case .badIdentifier: "证照标识无效。"
        default: "无法确认真伪。"
        }
    }

    static func date(_ date: Common_CivilDate) -> String {
        PublicDisplay.date(year: Int(date.year), month: Int(date.month), day: Int(date.day))
    }

    static func answered(layout: Layout, response: Certificate_VerifyLicenceResponse, link: VerifyLink) -> String {
        let content = response.content
        let authentic = response.authenticity == .authentic
        let naturalPerson = content.holderCodeType.rawValue == HolderCodeType.residentID.rawValue
        let verdict: String
        if !authentic {
            verdict = """
            <section class="verdict bad" role="alert" id="verdict" data-verdict="invalid"><p class="big">验证未通过</p>
            <p>\(HTML.escape(authenticityText(response.authenticity)))</p><p>请勿相信此证照，并向颁发机关核实。</p>
            <details><summary>技术细节</summary><p>\(HTML.escape(response.failureReason))</p></details></section>
            """
        } else if response.status == .valid && !response.statusStale {
            verdict = """
            <section class="verdict ok" role="status" id="verdict" data-verdict="valid"><p class="big">真实有效</p>
            <p>此证照由\(HTML.escape(content.issuerName))颁发，签章有效，当前有效。</p></section>
            """
        } else if response.status == .valid {
            verdict = """
            <section class="verdict warn" role="status" id="verdict" data-verdict="stale"><p class="big">签章有效，当前状态暂无法核实</p>
            <p>颁发机关暂时无法联系，以下为已知的最后状态。请稍后再试。</p></section>
            """
        } else {
            var detail = "此证照由\(content.issuerName)颁发，签章真实，但已不再有效：\(statusText(response.status))。"
            if response.status == .expired, content.hasValidUntil { detail += "有效期至\(date(content.validUntil))。" }
            if !response.statusReason.isEmpty { detail += "原因：\(response.statusReason)" }
            if response.status == .superseded, !response.supersededBy.isEmpty { detail += "新证照标识：\(response.supersededBy)" }
            verdict = """
            <section class="verdict warn" role="status" id="verdict" data-verdict="\(HTML.escape(statusText(response.status)))"><p class="big">证照真实，但\(HTML.escape(statusText(response.status)))</p>
            <p>\(HTML.escape(detail))</p></section>
            """
        }
        func fact(_ label: String, _ value: String, sealedField: Int? = nil) -> String {
            guard !value.isEmpty else { return "" }
            let attribute = sealedField.map { " data-sealed-field=\"\($0)\"" } ?? ""
            return "<dt>\(HTML.escape(label))</dt><dd\(attribute)>\(HTML.escape(value))</dd>"
        }
        let validity = content.hasValidUntil ? "\(date(content.validFrom)) 至 \(date(content.validUntil))" : "\(date(content.validFrom)) 起长期有效"
        let facts = [
            fact("证照名称", content.licenceName, sealedField: 1),
            fact("证照编号", content.licenceNumber, sealedField: 3),
            fact("证照标识", content.licenceIdentifier, sealedField: 4),
            fact("持证主体", PublicDisplay.holderName(content.holderName, isNaturalPerson: naturalPerson), sealedField: naturalPerson ? nil : 8),
            fact(naturalPerson ? "身份证号码" : "统一社会信用代码", content.holderCode),
            fact("颁发机构", content.issuerName, sealedField: 5),
            fact("颁发日期", date(content.issueDate)),
            fact("有效期限", validity),
            fact("当前状态", statusText(response.status)),
            fact("许可范围", content.scope),
            fact("经营场所", content.place),
        ].joined(separator: "\n")
        // A failed verification shows no licence: the record behind a forged QR is not the citizen's
        // business, and a "有效" beside "伪造" would confuse.
        let licenceCard = authentic ? """
            <section class="card" aria-labelledby="licence-heading"><h2 id="licence-heading">证照信息</h2>
            <dl class="facts">
            \(facts)
            </dl></section>
            """ : ""
        let evidence = authentic ? Self.evidence(response: response, link: link, naturalPerson: naturalPerson) : nil
        func serverCheck(_ id: String, _ passed: Bool, _ text: String) -> String {
            "<li id=\"\(id)\" data-result=\"\(passed ? "pass" : "fail")\"><span class=\"where\">服务器</span>\(HTML.escape(text))：<span class=\"result\">\(passed ? "通过" : "未通过")</span></li>"
        }
        func browserCheck(_ id: String, _ text: String) -> String {
            let state = evidence == nil ? "skip" : "pending"
            let note = evidence == nil ? (authentic ? "未运行：颁发机关尚未把该证照写入已签名的日志，或其签章算法浏览器不支持" : "未运行：服务器已判定验证未通过") : "正在你的浏览器中核验…"
            return "<li id=\"\(id)\" data-result=\"\(state)\"><span class=\"where\">你的浏览器</span>\(HTML.escape(text))：<span class=\"result\">\(HTML.escape(note))</span></li>"
        }
        let issuerWhere = response.answeredByPeer ? "（由颁发节点 \(response.issuer.node) 提供记录，本节点按信任列表中的公钥核验：互认）" : ""
        let checks = """
        <ol class="checks">
        \(serverCheck("server-seal", authentic, "签章与颁发机关记录一致\(issuerWhere)"))
        \(serverCheck("server-status", response.status == .valid, "证照当前有效（\(statusText(response.status))）"))
        \(serverCheck("server-log", response.includedInLog, "透明日志收录（已签名树头的包含证明）"))
        \(browserCheck("check-treehead", "树头签名（Ed25519）"))
        \(browserCheck("check-inclusion", "透明日志包含证明（SHA-256）"))
        \(browserCheck("check-entry", "日志记录与二维码一致"))
        \(browserCheck("check-seal", "证照内容签章（Ed25519）"))
        </ol>
        <p id="browser-summary" data-result="\(evidence == nil ? "skip" : "pending")">\(evidence == nil ? "本页未在你的浏览器中核验。" : "你的浏览器正在独立核验……")</p>
        """
        let keyLine = response.issuer.keyID.isEmpty ? "" : "<p class=\"hint\">颁发机关签章密钥编号：\(HTML.escape(response.issuer.keyID))（来自本节点信任列表）</p>"
        let evidenceBlock = evidence.map { "<script type=\"application/json\" id=\"evidence\">\($0.scriptJSON())</script>" } ?? ""
        return layout.page(title: "证照核验", body: """
        <h1>证照核验</h1>
        \(verdict)
        \(licenceCard)
        <section class="card" aria-labelledby="checks-heading"><h2 id="checks-heading">核验了什么、在哪里核验</h2>
        <p class="hint">“服务器”项由本节点的证照服务核验；“你的浏览器”项由本页脚本在你的设备上用颁发机关公钥独立重算，不依赖服务器的结论。</p>
        \(checks)
        \(keyLine)
        </section>
        \(evidenceBlock)
        """, script: evidence != nil)
    }

    /// The evidence for the browser's checks: only for an Ed25519 issuer and a licence already
    /// under a signed tree head. The sealed content only for an organisation holder.
    static func evidence(response: Certificate_VerifyLicenceResponse, link: VerifyLink, naturalPerson: Bool) -> BrowserEvidence? {
        let inclusion = response.inclusion
        guard response.hasInclusion, !inclusion.entryBytes.isEmpty, inclusion.hasTreeHead,
              response.issuer.algorithm == .ed25519, response.issuer.publicKey.count == 32 else { return nil }
        let head = inclusion.treeHead
        var sealed: String?
        if !naturalPerson {
            var options = BinaryEncodingOptions()
            options.useDeterministicOrdering = true
            sealed = (try? response.content.serializedBytes(options: options) as [UInt8]).map { Data($0).base64EncodedString() }
        }
        return BrowserEvidence(
            publicKey: response.issuer.publicKey.base64EncodedString(), keyID: response.issuer.keyID,
            identifier: link.payload.identifier.description, qrSignature: link.signatureBase64,
            entryBytes: inclusion.entryBytes.base64EncodedString(), leafIndex: inclusion.leafIndex,
            auditPath: inclusion.auditPath.map { $0.base64EncodedString() },
            logID: head.logID, treeSize: head.treeSize, rootHash: head.rootHash.base64EncodedString(),
            timestampSeconds: head.timestamp.seconds, timestampNanos: head.timestamp.nanos,
            treeHeadSignature: head.signature.base64EncodedString(), treeHeadKeyID: head.keyID, sealedContent: sealed)
    }
}
