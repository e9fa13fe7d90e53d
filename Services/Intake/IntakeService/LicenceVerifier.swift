import Foundation
import GRPCCore
import IntakeRules
import OneSealProto
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
}
