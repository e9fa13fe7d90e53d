import CertificateRules
import Foundation
import OneSealCore
import Testing
import WebRules

@Suite struct VerifyLinkTests {
    static func payload() throws -> QRPayload {
        let first17 = "11371300MB0000000"
        let issuer = first17 + String(UnifiedSocialCreditCode.checkCharacter(forFirst17: first17)!)
        let identifier = try LicenceIdentifier(typeCode: "111111111111111111001", issuer: issuer, serial: "1", version: 1)
        return QRPayload(identifier: identifier, node: "371300", keyID: "1a2b3c4d5e6f7081", signature: Array(repeating: 7, count: 64))
    }

    static func query(_ text: String) -> String { String(text.split(separator: "?", maxSplits: 1)[1]) }

    @Test func aQRLinkParsesAndIsRebuiltUnderThisNodesPage() throws {
        let payload = try Self.payload()
        let text = payload.text(baseURL: "https://zwfw.lanshan.gov.cn/verify")
        let link = try VerifyLink(query: Self.query(text))
        #expect(link.payload == payload)
        #expect(link.qrText(verifyURL: "https://zwfw.lanshan.gov.cn/verify") == text)
        #expect(link.signatureBase64 == Data(repeating: 7, count: 64).base64EncodedString())
    }

    @Test func aTruncatedLinkNamesTheMissingPart() throws {
        let text = try Self.payload().text(baseURL: "https://x/verify")
        let truncated = Self.query(text).components(separatedBy: "&sig=")[0]
        #expect(throws: VerifyLink.Problem.malformed(.missing("sig"))) { try VerifyLink(query: truncated) }
        #expect(VerifyLink.Problem.malformed(.missing("sig")).message.contains("缺少参数“sig”"))
    }

    @Test func anAlteredIdentifierFailsItsCheckCharacter() throws {
        let text = try Self.payload().text(baseURL: "https://x/verify")
        // Change one digit of the serial: the GB/T check character no longer fits.
        let altered = Self.query(text).replacingOccurrences(of: ".1.", with: ".2.")
        guard altered != Self.query(text) else { return }
        #expect(throws: VerifyLink.Problem.self) { try VerifyLink(query: altered) }
    }

    @Test func emptyForeignVersionAndOversizeAreRefused() throws {
        #expect(throws: VerifyLink.Problem.empty) { try VerifyLink(query: "") }
        #expect(throws: VerifyLink.Problem.version("2")) { try VerifyLink(query: "v=2&id=x") }
        #expect(throws: VerifyLink.Problem.tooLong) { try VerifyLink(query: String(repeating: "a", count: WebLimits.maximumTargetBytes + 1)) }
        #expect(throws: VerifyLink.Problem.malformed(.badSignature)) {
            try VerifyLink(query: Self.query(try Self.payload().text(baseURL: "https://x/verify")).replacingOccurrences(of: "sig=", with: "sig=%25%25"))
        }
    }
}

@Suite struct ProgressFormTests {
    @Test func validValuesAreNormalised() throws {
        let form = try ProgressForm.validate(["application_number": "371302 20261203 00 000123", "query_code": "ab3d5e7g9h"]).get()
        #expect(form.applicationNumber == "3713022026120300000123")
        #expect(form.queryCode == "AB3D5E7G9H")
    }

    @Test func eachFieldIsNamedInChineseAndTheCodeIsNeverEchoed() {
        guard case .failure(let empty) = ProgressForm.validate([:]) else { Issue.record("accepted empty"); return }
        #expect(empty.errors["application_number"] == "请填写受理编号")
        #expect(empty.errors["query_code"] == "请填写查询码")
        guard case .failure(let wrong) = ProgressForm.validate(["application_number": "12345", "query_code": "SECRET!!"]) else { Issue.record("accepted"); return }
        #expect(wrong.errors["application_number"] == "受理编号为22位数字（现为5位）")
        #expect(wrong.errors["query_code"]?.contains("10位") == true)
        #expect(wrong.values["application_number"] == "12345")
        #expect(wrong.values["query_code"] == "")
        guard case .failure(let letters) = ProgressForm.validate(["application_number": "37130A", "query_code": "ABCDEFGHJK"]) else { Issue.record("accepted"); return }
        #expect(letters.errors["application_number"] == "受理编号只含数字，见受理通知书")
        #expect(letters.errors["query_code"] == nil)
    }
}

@Suite struct PageRulesTests {
    @Test func htmlIsEscaped() {
        #expect(HTML.escape("<a href=\"x\">'&'</a>") == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;")
    }

    @Test func formBodiesDecodePlusAndPercent() {
        #expect(FormBody.parse("a=1+2&b=%E5%BC%A0&a=3&c") == ["a": "1 2", "b": "张", "c": ""])
    }

    @Test func naturalPersonsAreMaskedOrganisationsAreNot() {
        #expect(PublicDisplay.holderName("张三丰", isNaturalPerson: true) == "张**")
        #expect(PublicDisplay.holderName("临沂市兰山区好味道餐饮有限公司", isNaturalPerson: false) == "临沂市兰山区好味道餐饮有限公司")
        #expect(PublicDisplay.date(year: 2026, month: 3, day: 5) == "2026年3月5日")
    }

    @Test func evidenceJSONCannotCloseItsScriptBlock() {
        let evidence = BrowserEvidence(
            publicKey: "", keyID: "</script><script>alert(1)</script>", identifier: "", qrSignature: "", entryBytes: "", leafIndex: 0,
            auditPath: [], logID: "", treeSize: 0, rootHash: "", timestampSeconds: 0, timestampNanos: 0, treeHeadSignature: "",
            treeHeadKeyID: "", sealedContent: nil)
        #expect(!evidence.scriptJSON().contains("<"))
    }
}

@Suite struct CatalogueSearchTests {
    @Test func searchTextIsTidiedAndLimited() {
        #expect(CatalogueSearch.query("  食品   经营\t许可 ") == ("食品 经营 许可", nil))
        #expect(CatalogueSearch.query("") == ("", nil))
        #expect(CatalogueSearch.query(String(repeating: "食", count: 65)).error == "请输入不超过64个字的事项名称或编码")
        #expect(CatalogueSearch.query(String(repeating: "食", count: 64)).error == nil)
        #expect(CatalogueSearch.query("食品\u{200B}").error != nil)
    }

    @Test func onlyLettersAndDigitsNameAnItem() {
        #expect(CatalogueSearch.isItemCode("000117005000371302001"))
        #expect(!CatalogueSearch.isItemCode(""))
        #expect(!CatalogueSearch.isItemCode("../etc"))
        #expect(!CatalogueSearch.isItemCode("<script>"))
        #expect(!CatalogueSearch.isItemCode("食品"))
        #expect(!CatalogueSearch.isItemCode(String(repeating: "1", count: 65)))
    }

    @Test func feesReadAsTheGuidePrintsThem() {
        #expect(CatalogueSearch.yuan(fen: 0) == "不收费")
        #expect(CatalogueSearch.yuan(fen: 1000) == "10元")
        #expect(CatalogueSearch.yuan(fen: 1250) == "12.50元")
        #expect(CatalogueSearch.yuan(fen: 7) == "0.07元")
    }
}

@Suite struct ListTotalDisplayTests {
    @Test("a total is shown as counted up to 10,000 and as 10000+ past the services' cap")
    func totals() {
        #expect(HTML.total(0) == "0")
        #expect(HTML.total(9_999) == "9999")
        #expect(HTML.total(10_000) == "10000")
        #expect(HTML.total(10_001) == "10000+")
    }
}
