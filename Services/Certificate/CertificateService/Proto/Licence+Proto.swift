import CertificateContracts
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
