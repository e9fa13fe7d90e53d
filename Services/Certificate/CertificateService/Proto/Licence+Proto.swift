import CertificateRules
import Foundation
import OneSealCore
import OneSealPrivacy
import OneSealProto
import OneSealServiceKit
import SwiftProtobuf

// Conversions between CertificateRules' plain values and the wire messages.

extension LicenceContent {
    /// The wire message; its deterministic serialization equals `canonicalBytes`.
    var proto: Certificate_LicenceContent {
        var out = Certificate_LicenceContent()
        out.licenceName = licenceName
        out.licenceTypeCode = licenceTypeCode
        out.licenceNumber = licenceNumber
        out.licenceIdentifier = licenceIdentifier
        out.issuerName = issuerName
        out.issuerCode = issuerCode
        out.issueDate = Common_CivilDate(issueDate)
        out.holderName = holderName
        out.holderCode = holderCode
        out.holderCodeType = Certificate_HolderCodeType(rawValue: holderCodeType.rawValue) ?? .unspecified
        out.holderCodeTypeCode = holderCodeTypeCode
        out.validFrom = Common_CivilDate(validFrom)
        if let validUntil { out.validUntil = Common_CivilDate(validUntil) }
        out.scope = scope
        out.conditions = conditions
        out.place = place
        out.extraFields = extraFields
        out.serial = serial
        out.version = version
        out.issuingNode = issuingNode
        out.caseID = caseID
        out.caseNumber = caseNumber
        out.implementationCode = implementationCode
        return out
    }

    /// The content of a wire message (e.g. a licence presented for verification). Unknown fields
    /// are not carried over, so a message with fields this version does not know fails the seal
    /// check rather than being partly verified.
    init?(proto: Certificate_LicenceContent) {
        guard let issueDate = proto.issueDate.civilDate, let validFrom = proto.validFrom.civilDate,
              let holderCodeType = HolderCodeType(rawValue: proto.holderCodeType.rawValue) else { return nil }
        self.init(
            licenceName: proto.licenceName, licenceTypeCode: proto.licenceTypeCode, licenceNumber: proto.licenceNumber,
            licenceIdentifier: proto.licenceIdentifier, issuerName: proto.issuerName, issuerCode: proto.issuerCode,
            issueDate: issueDate, holderName: proto.holderName, holderCode: proto.holderCode, holderCodeType: holderCodeType,
            holderCodeTypeCode: proto.holderCodeTypeCode, validFrom: validFrom,
            validUntil: proto.hasValidUntil ? proto.validUntil.civilDate : nil, scope: proto.scope, conditions: proto.conditions,
            place: proto.place, extraFields: proto.extraFields, serial: proto.serial, version: proto.version,
            issuingNode: proto.issuingNode, caseID: proto.caseID, caseNumber: proto.caseNumber, implementationCode: proto.implementationCode)
    }

    /// The holder's code as shown to those who do not need it in full.
    var maskedHolderCode: String {
        holderCodeType == .residentID ? Masking.idNumber(holderCode) : holderCode
    }
}

extension SealAlgorithm {
    var proto: Certificate_SignatureAlgorithm {
        switch self {
        case .ed25519: .ed25519
        case .sm2Sm3: .sm2Sm3
        }
    }

    init?(proto: Certificate_SignatureAlgorithm) {
        switch proto {
        case .ed25519: self = .ed25519
        case .sm2Sm3: self = .sm2Sm3
        default: return nil
        }
    }
}

extension LicenceStatus {
    var proto: Certificate_LicenceStatus {
        switch self {
        case .valid: .valid
        case .revoked: .revoked
        case .cancelled: .cancelled
        case .expired: .expired
        case .superseded: .superseded
        }
    }
}

extension SignedTreeHead {
    /// The wire form (public: the CLI and peers check heads with the rules' verifier).
    public var proto: Certificate_SignedTreeHead {
        var out = Certificate_SignedTreeHead()
        out.logID = head.logID
        out.treeSize = Int64(head.size)
        out.rootHash = Data(head.rootHash)
        let millis = head.timestampMilliseconds
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        out.timestamp = Google_Protobuf_Timestamp(seconds: seconds, nanos: Int32((millis - seconds * 1000) * 1_000_000))
        out.algorithm = algorithm.proto
        out.keyID = keyID
        out.signature = Data(signature)
        return out
    }

    /// A tree head received from a peer or a log (for checking its signature and proofs).
    public init?(proto: Certificate_SignedTreeHead) {
        guard let algorithm = SealAlgorithm(proto: proto.algorithm) else { return nil }
        let millis = proto.timestamp.seconds * 1000 + Int64(proto.timestamp.nanos / 1_000_000)
        self.init(
            head: TreeHead(logID: proto.logID, size: Int(proto.treeSize), rootHash: Array(proto.rootHash), timestampMilliseconds: millis),
            algorithm: algorithm, keyID: proto.keyID, signature: Array(proto.signature))
    }
}

extension TrustedKey {
    var proto: Certificate_TrustedIssuer {
        var out = Certificate_TrustedIssuer()
        out.issuerCode = issuerCode
        out.issuerName = issuerName
        out.node = node
        out.endpoint = endpoint
        out.algorithm = key.algorithm.proto
        out.keyID = keyID
        out.publicKey = Data(key.rawRepresentation)
        out.validFrom = Google_Protobuf_Timestamp(date: validFrom)
        if let validUntil { out.validUntil = Google_Protobuf_Timestamp(date: validUntil) }
        out.own = own
        return out
    }
}

extension Common_Applicant {
    /// The holder code type of a licence for this applicant's identity document.
    var holderCodeType: (HolderCodeType, String) {
        switch idType {
        case .residentID: (.residentID, "111")
        case .uscc: (.uscc, "001")
        case .passport: (.other, "414")
        case .hkMacaoPermit: (.other, "516")
        case .taiwanPermit: (.other, "511")
        case .foreignPermanentResident: (.other, "553")
        default: (.other, "999")
        }
    }
}
