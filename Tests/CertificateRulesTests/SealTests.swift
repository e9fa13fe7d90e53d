import CertificateRules
import Foundation
import OneSealCore
import Testing

enum Sample {
    static let issuer = "11371300MB28512345"
    static let today = CivilDate(year: 2026, month: 11, day: 23)!

    static func content(issueDate: CivilDate = today, holderName: String = "临沂市兰山区好味道餐饮有限公司") -> LicenceContent {
        let identifier = try! LicenceIdentifier(typeCode: "11100000MB01432663101", issuer: issuer, serial: "371300202600000001", version: 1)
        return LicenceContent(
            licenceName: "食品经营许可证", licenceTypeCode: "11100000MB01432663101", licenceNumber: "JY13713000000001",
            licenceIdentifier: identifier.description, issuerName: "临沂市行政审批服务局", issuerCode: issuer,
            issueDate: issueDate, holderName: holderName, holderCode: "91371302MA3C1234X7", holderCodeType: .uscc,
            validFrom: issueDate, validUntil: issueDate.adding(days: 5 * 365 - 1), scope: "热食类食品制售",
            conditions: ["不得超范围经营"], place: "山东省临沂市兰山区解放路1号", extraFields: ["主体业态": "餐饮服务经营者", "主体业态代码": "1"],
            serial: identifier.serial, version: "001", issuingNode: "371300", caseID: "c-1", caseNumber: "371300-20261123-000001",
            implementationCode: "000117005000371302001")
    }
}

@Suite("Seal: keys, signatures, rotation, trust list")
struct SealTests {
    @Test("a licence signed with the seal verifies; one altered byte or one altered field does not")
    func signAndTamper() throws {
        let key = SealKey.generate()
        let content = Sample.content()
        let bytes = content.canonicalBytes
        let signature = key.sign(bytes, purpose: .licence)
        #expect(signature.count == 64)
        try key.publicKey.verify(signature, over: bytes, purpose: .licence)

        for position in [0, bytes.count / 2, bytes.count - 1] {
            var altered = bytes
            altered[position] ^= 0x01
            #expect(throws: SealError.badSignature(keyID: key.keyID)) { try key.publicKey.verify(signature, over: altered, purpose: .licence) }
        }
        var changed = content
        changed.holderName = "临沂市兰山区好味道餐饮有限公司 "
        #expect(throws: SealError.self) { try key.publicKey.verify(signature, over: changed.canonicalBytes, purpose: .licence) }
        var forged = signature
        forged[10] ^= 0x80
        #expect(throws: SealError.self) { try key.publicKey.verify(forged, over: bytes, purpose: .licence) }
        // A signature made for a tree head is not a licence signature over the same bytes.
        let headSignature = key.sign(bytes, purpose: .treeHead)
        #expect(throws: SealError.self) { try key.publicKey.verify(headSignature, over: bytes, purpose: .licence) }
    }

    @Test("the key file: current key first, earlier keys after it; private keys never printed")
    func keyFile() throws {
        let old = SealKey.generate()
        let new = SealKey.generate()
        let ring = try SealKeyring(text: "# rotated 2026-11-23\n\(new.fileLine)\n\n\(old.fileLine)\n")
        #expect(ring.current.keyID == new.keyID)
        #expect(ring.earlier.map(\.keyID) == [old.keyID])
        #expect(!"\(ring)".contains(new.fileLine.dropFirst(8)))
        #expect(!"\(ring.current)".contains(new.fileLine.dropFirst(8)))
        #expect(ring.current.keyID.count == 16)
        #expect(throws: SealError.noKeys) { try SealKeyring(text: "# nothing\n") }
        #expect(throws: SealError.malformedKey(line: 2, reason: "not the base64 of a 32-byte Ed25519 private key")) {
            try SealKeyring(text: "\(new.fileLine)\ned25519:AAAA\n")
        }
        #expect(throws: SealError.unsupportedAlgorithm(.sm2Sm3)) { try SealKeyring(text: "sm2:AAAA\n") }
    }

    @Test("rotation: licences sealed with the old key stay authentic; the old key cannot seal new ones")
    func rotation() throws {
        let old = SealKey.generate()
        let new = SealKey.generate()
        let rotatedAt = CivilDate(year: 2026, month: 6, day: 30)!.endOfDayInstant().addingTimeInterval(-60)
        let trust = TrustList([
            TrustedKey(issuerCode: Sample.issuer, issuerName: "临沂市行政审批服务局", node: "371300", key: old.publicKey,
                       validFrom: CivilDate(year: 2025, month: 1, day: 1)!.startOfDayInstant(), validUntil: rotatedAt, own: true),
            TrustedKey(issuerCode: Sample.issuer, issuerName: "临沂市行政审批服务局", node: "371300", key: new.publicKey,
                       validFrom: rotatedAt, own: true),
        ])
        let before = Sample.content(issueDate: CivilDate(year: 2026, month: 3, day: 2)!)
        let oldSignature = old.sign(before.canonicalBytes, purpose: .licence)
        #expect(trust.check(before, algorithm: .ed25519, keyID: old.keyID, signature: oldSignature) == .authentic(trust.keys[0]))

        let after = Sample.content(issueDate: CivilDate(year: 2026, month: 11, day: 23)!)
        let newSignature = new.sign(after.canonicalBytes, purpose: .licence)
        #expect(trust.check(after, algorithm: .ed25519, keyID: new.keyID, signature: newSignature) == .authentic(trust.keys[1]))

        // The retired key sealing a licence dated after the rotation is not trusted.
        let late = old.sign(after.canonicalBytes, purpose: .licence)
        guard case .untrustedIssuer(let reason) = trust.check(after, algorithm: .ed25519, keyID: old.keyID, signature: late) else {
            Issue.record("a retired key was accepted")
            return
        }
        #expect(reason.contains("not in use"))
        // The signature names the wrong key, or another issuer: refused with the reason.
        let wrongKey = new.sign(before.canonicalBytes, purpose: .licence)
        #expect(trust.check(before, algorithm: .ed25519, keyID: old.keyID, signature: wrongKey) == .badSignature(SealError.badSignature(keyID: old.keyID).description))
        var elsewhere = after
        elsewhere.issuerCode = "11371302MB28500000"
        guard case .untrustedIssuer = trust.check(elsewhere, algorithm: .ed25519, keyID: new.keyID, signature: newSignature) else {
            Issue.record("an unknown issuer was accepted")
            return
        }
    }

    @Test("signed tree heads verify; a changed size, root or time does not")
    func treeHeads() throws {
        let key = SealKey.generate()
        let head = TreeHead(logID: "371300", size: 5, rootHash: hex(MerkleTests.roots[5]), timestampMilliseconds: 1_795_000_000_123)
        let signed = SignedTreeHead(signing: head, with: key)
        try signed.verify(with: key.publicKey)
        for change in [{ (h: inout TreeHead) in h.size = 6 }, { $0.rootHash[0] ^= 1 }, { $0.timestampMilliseconds += 1 }, { $0.logID = "371302" }] {
            var altered = signed
            change(&altered.head)
            #expect(throws: SealError.self) { try altered.verify(with: key.publicKey) }
        }
        #expect(throws: SealError.self) { try signed.verify(with: SealKey.generate().publicKey) }
    }
}
