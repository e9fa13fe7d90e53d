import OneSealServiceKit
import Testing
@testable import CertificateService

/// #18: the QR code leads to the node's web front, `ONESEAL_PUBLIC_URL` + `/verify`.
@Suite struct PublicURLTests {
    @Test func theVerificationPageHangsUnderThePublicBaseURL() throws {
        #expect(try CertificateSettings.verifyURL(publicBaseURL: "https://zwfw.lanshan.gov.cn") == "https://zwfw.lanshan.gov.cn/verify")
        #expect(try CertificateSettings.verifyURL(publicBaseURL: "https://zwfw.lanshan.gov.cn/") == "https://zwfw.lanshan.gov.cn/verify")
        #expect(try CertificateSettings.verifyURL(publicBaseURL: "http://127.0.0.1:7280") == "http://127.0.0.1:7280/verify")
        #expect(try CertificateSettings.verifyURL(publicBaseURL: nil) == nil)
        #expect(try CertificateSettings.verifyURL(publicBaseURL: "  ") == nil)
    }

    @Test func aValueThatIsNotABaseURLStopsTheServiceByName() {
        for bad in ["zwfw.lanshan.gov.cn", "ftp://x.cn", "https://x.cn/?a=1", "https://"] {
            #expect(throws: NodeConfiguration.Invalid.self, "\(bad)") { try CertificateSettings.verifyURL(publicBaseURL: bad) }
        }
    }
}
