import CertificateRules
import Foundation
import OneSealCore

/// The query of `/verify?v=1&id=…&node=…&kid=…&sig=…`: what a licence's QR code opens (the
/// certificate service writes it under ONESEAL_PUBLIC_URL, see `QRPayload`). Parsed here so a
/// broken or hand-edited link is named plainly before the certificate service is asked; whether
/// the seal in it is the issuer's is the service's answer (and the browser's own check).
public struct VerifyLink: Sendable, Hashable {
    public var payload: QRPayload

    public enum Problem: Error, Sendable, Hashable {
        case empty
        case tooLong
        case version(String)
        case malformed(QRPayload.ParseError)

        /// What the page says, in Chinese.
        public var message: String {
            switch self {
            case .empty: "链接中没有证照信息。请用手机扫描证照上的二维码打开本页。"
            case .tooLong: "链接过长，不是证照二维码的链接。"
            case .version(let v): "链接版本“\(v)”无法识别，不是本系统签发的证照二维码。"
            case .malformed(.notAURL): "链接格式不正确，不是证照二维码的链接。"
            case .malformed(.missing(let name)): "链接不完整：缺少参数“\(name)”。链接可能被截断或改动。"
            case .malformed(.badIdentifier(let error)): "链接中的证照标识无效（\(error)）。链接被改动过，或不是真实证照的二维码。"
            case .malformed(.badSignature): "链接中的签章值格式不正确。链接被改动过，或不是真实证照的二维码。"
            }
        }
    }

    /// `query` is the raw query string (without `?`), as the browser sent it.
    public init(query: String) throws(Problem) {
        guard query.utf8.count <= WebLimits.maximumTargetBytes else { throw .tooLong }
        let fields = FormBody.parse(query)
        guard !fields.isEmpty else { throw .empty }
        if let version = fields["v"], version != "1" { throw .version(String(version.prefix(8))) }
        do { payload = try QRPayload(parsing: "https://oneseal.invalid/verify?" + query) } catch { throw .malformed(error) }
    }

    /// The QR text to hand to `VerifyLicence.qr_payload`: rebuilt from the parsed values under
    /// this node's page, so what is verified is exactly what was parsed.
    public func qrText(verifyURL: String) -> String { payload.text(baseURL: verifyURL) }

    /// The seal value as the link carries it (base64url), for the browser's comparison with the log.
    public var signatureBase64: String { Data(payload.signature).base64EncodedString() }
}
