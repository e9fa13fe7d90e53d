import Foundation
import GRPCCore
import IntakeRules
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealWire

/// 亮证即用: an electronic licence offered as a material is checked with this node's certificate
/// service (which asks the issuing peer for licences issued elsewhere) instead of asking the
/// applicant for paper. The answer is intake's own finding, recorded on the material; a licence
/// that cannot be checked is reported as UNVERIFIABLE, never assumed valid.
public struct LicenceVerifier: Sendable {
    let client: GRPCClient<OneSealClientTransport>?
    let token: (@Sendable () throws -> String)?
    let timeout: Duration

    /// `client` is the peer `certificate@<this node>`; nil when none is configured.
    public init(client: GRPCClient<OneSealClientTransport>?, token: (@Sendable () throws -> String)?, timeout: Duration = .seconds(5)) {
        self.client = client
        self.token = token
        self.timeout = timeout
    }

    /// Whether the licence is authentic and currently valid, and why not.
    func verify(_ licence: LicenceRef) async -> (verified: Bool, detail: String) {
        guard !licence.licenceIdentifier.isEmpty else {
            return (false, "no licence identifier given (证照标识)")
        }
        guard let client, let token else {
            return (false, "certificate service not configured (ONESEAL_PEERS certificate@node, ONESEAL_SERVICE_KEY_FILE)")
        }
        do {
            var request = Certificate_VerifyLicenceRequest()
            request.licenceIdentifier = licence.licenceIdentifier
            var metadata = Metadata()
            metadata.addString("Bearer \(try token())", forKey: "authorization")
            var options = CallOptions.defaults
            options.timeout = timeout
            let response = try await Certificate_CertificateService.Client(wrapping: client).verifyLicence(request, metadata: metadata, options: options)
            if response.valid { return (true, response.summary) }
            let status: String = switch response.status {
            case .revoked: "revoked"
            case .cancelled: "cancelled"
            case .expired: "expired"
            default: response.authenticity == .authentic ? "not valid" : "not authentic"
            }
            return (false, [status, response.statusReason, response.summary].filter { !$0.isEmpty }.joined(separator: ": "))
        } catch let error as RPCError where error.code == .notFound {
            return (false, "unknown licence \(licence.licenceIdentifier)")
        } catch {
            return (false, "certificate service unavailable: \(error)")
        }
    }

    /// The licence a holder asks to renew or change, as this node's certificate service records it
    /// (read with the service token, so the holder's code is unmasked and can be compared with the
    /// applicant's). Arts. 49 and 50 send both to the agency that granted the licence, so only this
    /// node's own licences are looked up. Unknown → INVALID_ARGUMENT on `renewal_of`; unreachable → UNAVAILABLE
    /// (the window retries; nothing is stored meanwhile).
    func renewable(_ identifier: String) async throws -> RenewableLicence {
        guard let client, let token else {
            throw RPCError(code: .unavailable, message: "a renewal needs the certificate service (ONESEAL_PEERS certificate@node, ONESEAL_SERVICE_KEY_FILE)")
        }
        var request = Certificate_GetLicenceRequest()
        request.licenceIdentifier = identifier
        var metadata = Metadata()
        metadata.addString("Bearer \(try token())", forKey: "authorization")
        var options = CallOptions.defaults
        options.timeout = timeout
        let licence: Certificate_Licence
        do {
            licence = try await Certificate_CertificateService.Client(wrapping: client).getLicence(request, metadata: metadata, options: options).licence
        } catch let error as RPCError where error.code == .notFound || error.code == .invalidArgument {
            throw RPCError.invalidArgument(field: "renewal_of", "no licence \(identifier) issued by this node: \(error.message)", reason: "renewal.unknown_licence")
        } catch let error as RPCError {
            throw RPCError(code: .unavailable, message: "certificate service could not be asked about licence \(identifier): \(error.code) \(error.message)")
        }
        let content = licence.content
        let statusText: String = switch licence.status {
        case .valid: "有效"
        case .revoked: "已撤销"
        case .cancelled: "已注销"
        case .expired: "已过期"
        case .superseded: "已换发（现行版本 \(licence.supersededBy)）"
        default: "状态不明"
        }
        return RenewableLicence(
            licenceID: licence.licenceID, identifier: content.licenceIdentifier, number: content.licenceNumber,
            typeCode: content.licenceTypeCode, name: content.licenceName, holderCode: IdentityCode.normalized(content.holderCode),
            inForce: licence.status == .valid && !licence.masked, statusText: licence.masked ? "无法核对持证主体（证照内容被遮蔽）" : statusText,
            validUntil: content.hasValidUntil ? content.validUntil.civilDate : nil, issuingNode: content.issuingNode)
    }
}
