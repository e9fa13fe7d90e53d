import CertificateContracts
import CertificateRules
import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealStore
import OneSealWire

/// Verification (亮证即用, 互认): is a licence authentic, who issued it, what is its status now, and
/// is it in the issuer's transparency log. A licence of this node is checked against its record; a
/// licence of a trusted peer is fetched from the peer and checked here with the peer's key from the
/// trust list (the peer's word alone is not taken).
extension CertificateAPI {
    public func verifyLicence(request: Certificate_VerifyLicenceRequest, context: ServerContext) async throws -> Certificate_VerifyLicenceResponse {
        switch request.subject {
        case .licenceIdentifier(let text)?:
            let identifier = try Self.parseIdentifier(text)
            return try await verify(identifier: identifier, presented: nil, qr: nil)
        case .qrPayload(let text)?:
            guard !text.isEmpty else { throw RPCError.invalidArgument(field: "qr_payload", "required", reason: "required") }
            let payload: QRPayload
            do { payload = try QRPayload(parsing: text) } catch let error as QRPayload.ParseError {
                throw Self.invalidQR(error)
            }
            return try await verify(identifier: payload.identifier, presented: nil, qr: payload)
        case .presented(let licence)?:
            let identifier = try Self.parseIdentifier(licence.content.licenceIdentifier, field: "presented.content.licence_identifier")
            return try await verify(identifier: identifier, presented: licence, qr: nil)
        case nil:
            throw RPCError.invalidArgument(field: "subject", "give licence_identifier, qr_payload or presented", reason: "required")
        }
    }

    static func invalidQR(_ error: QRPayload.ParseError) -> RPCError {
        var reason = "format"
        if case .badIdentifier(.checkCharacterMismatch) = error { reason = "check_character" }
        return RPCError.invalidArgument(field: "qr_payload", error.description, reason: reason)
    }

    func verify(identifier: LicenceIdentifier, presented: Certificate_Licence?, qr: QRPayload?) async throws -> Certificate_VerifyLicenceResponse {
        let trust = TrustList(try await database.withConnection { try await LicenceStore.trustedKeys(on: $0) })
        let own = trust.keys.contains { $0.own && $0.issuerCode == identifier.issuer } || identifier.issuer == settings.issuerCode
        if own {
            return try await verifyOwn(identifier: identifier, presented: presented, qr: qr, trust: trust)
        }
        return try await verifyPeer(identifier: identifier, presented: presented, qr: qr, trust: trust)
    }

    // MARK: This node's licences

    func verifyOwn(identifier: LicenceIdentifier, presented: Certificate_Licence?, qr: QRPayload?, trust: TrustList) async throws -> Certificate_VerifyLicenceResponse {
        let (licence, inclusion) = try await database.withConnection { connection -> (StoredLicence, Certificate_GetInclusionProofResponse?) in
            guard let licence = try await LicenceStore.find(identifier: identifier.description, on: connection) else {
                throw RPCError(code: .notFound, message: "no licence \(identifier) was issued by \(settings.issuerName) (\(settings.issuerCode))")
            }
            return (licence, try await inclusionProof(forIdentifier: licence.identifier, treeSize: 0, on: connection))
        }
        let content = try openContent(licence)
        var response = Certificate_VerifyLicenceResponse()
        var content_ = content.proto
        content_.holderCode = content.maskedHolderCode
        response.content = content_
        response.status = licence.standing.status(on: today).proto
        response.statusReason = licence.statusReason
        response.supersededBy = licence.supersededBy ?? ""

        // 1. The seal over the record, with the key the trust list holds for this issuer.
        var authenticity = Certificate_Authenticity.authentic
        var failure = ""
        switch trust.check(content, algorithm: licence.algorithm, keyID: licence.keyID, signature: licence.signature) {
        case .authentic(let key): response.issuer = key.proto
        case .untrustedIssuer(let reason): authenticity = .untrustedIssuer; failure = reason
        case .badSignature(let reason): authenticity = .badSignature; failure = "the issuer's record does not verify: \(reason)"
        }
        // 2. What was presented must be what the issuer recorded and sealed.
        if authenticity == .authentic, let presented {
            if let failed = presentedMismatch(presented, record: content, signature: licence.signature, keyID: licence.keyID, trust: trust) {
                authenticity = failed.authenticity
                failure = failed.reason
            }
        }
        if authenticity == .authentic, let qr, qr.signature != licence.signature || qr.keyID != licence.keyID {
            authenticity = .contentMismatch
            failure = "the QR code carries a seal (key \(qr.keyID)) that is not the one the issuer recorded for \(identifier): the document was forged or altered"
        }
        // 3. The issuance is in the log under a tree head this node signed.
        if let inclusion {
            response.inclusion = inclusion
            response.includedInLog = checkInclusion(inclusion, content: content, signature: licence.signature, trust: trust, issuerCode: content.issuerCode)
        }
        return finish(response, authenticity: authenticity, failure: failure, issuerName: content.issuerName)
    }

    /// Whether a presented licence differs from the record, and how.
    func presentedMismatch(_ presented: Certificate_Licence, record: LicenceContent, signature: [UInt8], keyID: String, trust: TrustList) -> (authenticity: Certificate_Authenticity, reason: String)? {
        guard let shown = LicenceContent(proto: presented.content) else {
            return (.badSignature, "the presented content lacks its dates or holder code type; it cannot be the sealed content")
        }
        guard let algorithm = SealAlgorithm(proto: presented.signature.algorithm) else {
            return (.badSignature, "the presented seal names no signature algorithm")
        }
        if case .badSignature(let reason) = trust.check(shown, algorithm: algorithm, keyID: presented.signature.keyID, signature: Array(presented.signature.signature)) {
            return (.badSignature, "the presented licence fails its seal: \(reason)")
        }
        if case .untrustedIssuer(let reason) = trust.check(shown, algorithm: algorithm, keyID: presented.signature.keyID, signature: Array(presented.signature.signature)) {
            return (.untrustedIssuer, reason)
        }
        if shown.canonicalBytes != record.canonicalBytes || Array(presented.signature.signature) != signature || presented.signature.keyID != keyID {
            return (.contentMismatch, "the presented licence is sealed but differs from the issuer's record (an earlier or altered version)")
        }
        return nil
    }

    /// Checks an inclusion proof against its signed tree head and the licence it is about.
    func checkInclusion(_ proof: Certificate_GetInclusionProofResponse, content: LicenceContent, signature: [UInt8], trust: TrustList, issuerCode: String) -> Bool {
        guard let head = SignedTreeHead(proto: proof.treeHead),
              let key = trust.keys(ofIssuer: issuerCode).first(where: { $0.keyID == head.keyID }),
              (try? head.verify(with: key.key)) != nil,
              let entry = try? Certificate_LogEntry(serializedBytes: proof.entryBytes),
              entry.licenceIdentifier == content.licenceIdentifier, entry.kind == .issued,
              Array(entry.contentSha256) == Merkle.sha256(content.canonicalBytes), Array(entry.signature) == signature
        else { return false }
        let leafHash = Merkle.leafHash(Array(proof.entryBytes))
        return (try? MerkleVerifier.verifyInclusion(
            leafHash: leafHash, index: Int(proof.leafIndex), size: head.head.size, proof: proof.auditPath.map(Array.init), root: head.head.rootHash)) != nil
    }

    func finish(_ partial: Certificate_VerifyLicenceResponse, authenticity: Certificate_Authenticity, failure: String, issuerName: String) -> Certificate_VerifyLicenceResponse {
        var response = partial
        response.authenticity = authenticity
        response.failureReason = failure
        response.valid = authenticity == .authentic && response.status == .valid && !response.statusStale
        if authenticity != .authentic {
            response.summary = "验证未通过：\(failure)"
        } else {
            let status: String = switch response.status {
            case .valid: response.statusStale ? "签章有效，但暂无法向颁发机关核实当前状态" : "真实有效"
            case .revoked: "已撤销"
            case .cancelled: "已注销"
            case .expired: "已过期"
            case .superseded: "已换发（新证照标识 \(response.supersededBy)）"
            default: "状态未知"
            }
            response.summary = "\(status)，由\(issuerName)颁发"
        }
        return response
    }

    // MARK: Peers' licences (互认)

    func verifyPeer(identifier: LicenceIdentifier, presented: Certificate_Licence?, qr: QRPayload?, trust: TrustList) async throws -> Certificate_VerifyLicenceResponse {
        let keys = trust.keys(ofIssuer: identifier.issuer)
        var response = Certificate_VerifyLicenceResponse()
        guard let entry = keys.first else {
            response.status = .unspecified
            return finish(response, authenticity: .untrustedIssuer, failure: "issuer \(identifier.issuer) is not on this node's trust list (互认 needs its key)", issuerName: "")
        }
        response.answeredByPeer = true
        // The peer's full record (for the seal) and its inclusion proof.
        var fetched: (licence: Certificate_Licence, proof: Certificate_GetInclusionProofResponse?)?
        var unreachable = ""
        do {
            fetched = try await askPeer(entry, identifier: identifier)
        } catch let error as RPCError where error.code == .notFound {
            throw RPCError(code: .notFound, message: "no licence \(identifier) at the issuing node \(entry.node): \(error.message)")
        } catch {
            unreachable = "\(error)"
        }
        guard let fetched else {
            // The peer cannot be asked: a presented licence can still have its seal checked offline.
            guard let presented, let shown = LicenceContent(proto: presented.content), let algorithm = SealAlgorithm(proto: presented.signature.algorithm) else {
                throw RPCError(code: .unavailable, message: "the issuing node \(entry.node) cannot be reached to verify \(identifier); try again later (\(unreachable))")
            }
            response.statusStale = true
            response.status = LicenceStanding(issuedOn: shown.issueDate, validFrom: shown.validFrom, validUntil: shown.validUntil).status(on: today).proto
            var masked = shown.proto
            masked.holderCode = shown.maskedHolderCode
            response.content = masked
            switch trust.check(shown, algorithm: algorithm, keyID: presented.signature.keyID, signature: Array(presented.signature.signature)) {
            case .authentic(let key):
                response.issuer = key.proto
                return finish(response, authenticity: .authentic, failure: "", issuerName: shown.issuerName)
            case .untrustedIssuer(let reason): return finish(response, authenticity: .untrustedIssuer, failure: reason, issuerName: shown.issuerName)
            case .badSignature(let reason): return finish(response, authenticity: .badSignature, failure: reason, issuerName: shown.issuerName)
            }
        }
        guard let content = LicenceContent(proto: fetched.licence.content), !fetched.licence.masked,
              let algorithm = SealAlgorithm(proto: fetched.licence.signature.algorithm) else {
            throw RPCError(code: .unavailable, message: "the issuing node \(entry.node) answered without the sealed content of \(identifier)")
        }
        var masked = content.proto
        masked.holderCode = content.maskedHolderCode
        response.content = masked
        response.status = fetched.licence.status
        response.statusReason = fetched.licence.statusReason
        response.supersededBy = fetched.licence.supersededBy
        let signature = Array(fetched.licence.signature.signature)
        var authenticity = Certificate_Authenticity.authentic
        var failure = ""
        switch trust.check(content, algorithm: algorithm, keyID: fetched.licence.signature.keyID, signature: signature) {
        case .authentic(let key): response.issuer = key.proto
        case .untrustedIssuer(let reason): authenticity = .untrustedIssuer; failure = reason
        case .badSignature(let reason): authenticity = .badSignature; failure = "the issuing node's record does not verify here: \(reason)"
        }
        if content.licenceIdentifier != identifier.description {
            authenticity = .contentMismatch
            failure = "the issuing node answered with another licence (\(content.licenceIdentifier))"
        }
        if authenticity == .authentic, let presented,
           let failed = presentedMismatch(presented, record: content, signature: signature, keyID: fetched.licence.signature.keyID, trust: trust) {
            authenticity = failed.authenticity
            failure = failed.reason
        }
        if authenticity == .authentic, let qr, qr.signature != signature || qr.keyID != fetched.licence.signature.keyID {
            authenticity = .contentMismatch
            failure = "the QR code carries a seal that is not the one the issuer recorded for \(identifier)"
        }
        if let proof = fetched.proof {
            response.inclusion = proof
            response.includedInLog = checkInclusion(proof, content: content, signature: signature, trust: trust, issuerCode: content.issuerCode)
        }
        return finish(response, authenticity: authenticity, failure: failure, issuerName: content.issuerName)
    }

    /// Asks the peer's certificate service (ONESEAL_PEERS `certificate@<node>`, else the trust-list
    /// endpoint) for the licence and its inclusion proof, with this service's node token.
    func askPeer(_ entry: TrustedKey, identifier: LicenceIdentifier) async throws -> (Certificate_Licence, Certificate_GetInclusionProofResponse?) {
        guard let serviceToken else {
            throw RPCError(code: .unavailable, message: "no service key (ONESEAL_SERVICE_KEY_FILE) to call the issuing node")
        }
        var metadata = Metadata()
        metadata.addString("Bearer \(try serviceToken())", forKey: "authorization")
        metadata.addString(node, forKey: "x-oneseal-node")
        var options = CallOptions.defaults
        options.timeout = .seconds(5)
        let request = Certificate_GetLicenceRequest.with { $0.licenceIdentifier = identifier.description }
        let proofRequest = Certificate_GetInclusionProofRequest.with { $0.licenceIdentifier = identifier.description }
        func ask(_ client: GRPCClient<OneSealClientTransport>) async throws -> (Certificate_Licence, Certificate_GetInclusionProofResponse?) {
            let certificate = Certificate_CertificateService.Client(wrapping: client)
            let licence = try await certificate.getLicence(request, metadata: metadata, options: options).licence
            let proof = try? await certificate.getInclusionProof(proofRequest, metadata: metadata, options: options)
            return (licence, proof)
        }
        if let client = peers["certificate@\(entry.node)"] {
            return try await ask(client)
        }
        let parts = entry.endpoint.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else {
            throw RPCError(code: .unavailable, message: "no way to reach node \(entry.node): neither ONESEAL_PEERS certificate@\(entry.node) nor an endpoint in its trust-list entry")
        }
        return try await withGRPCClient(transport: OneSealClientTransport(host: String(parts[0]), port: port, tls: clientTLS(entry.node))) { client in
            try await ask(client)
        }
    }
}
