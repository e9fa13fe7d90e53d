import OneSealPrivacy
import Testing

@Suite("Personal data at rest")
struct DataKeyringTests {
    let keyA = DataKeyring.generateKeyText()
    let keyB = DataKeyring.generateKeyText()

    @Test("sealed values open with the same context and never with another")
    func sealAndOpen() throws {
        let ring = try DataKeyring(text: keyA)
        let plaintext = Array("371302199001011234".utf8)
        let sealed = try ring.seal(plaintext, context: "application:1")
        #expect(!sealed.isEmpty)
        #expect(sealed.count > plaintext.count)
        #expect(!String(decoding: sealed, as: UTF8.self).contains("371302199001011234"))
        #expect(try ring.open(sealed, context: "application:1") == plaintext)
        #expect(throws: (any Error).self) { try ring.open(sealed, context: "application:2") }
        var tampered = sealed
        tampered[tampered.count - 1] ^= 0x01
        #expect(throws: (any Error).self) { try ring.open(tampered, context: "application:1") }
        // Two seals of the same value differ (random nonce), so equal IDs are not visible.
        #expect(try ring.seal(plaintext, context: "application:1") != sealed)
    }

    @Test("after rotation old values still open, new ones use the new key; the blind index is stable")
    func rotation() throws {
        let old = try DataKeyring(text: keyA)
        let sealedOld = try old.seal(json: ["id": "X"], context: "c")
        let rotated = try DataKeyring(text: "# rotated 2026-11\n\(keyB)\n\(keyA)\n")
        #expect(try rotated.open(json: [String: String].self, sealedOld, context: "c") == ["id": "X"])
        let sealedNew = try rotated.seal(Array("n".utf8), context: "c")
        #expect(throws: PrivacyError.self) { try old.open(sealedNew, context: "c") }
        #expect(old.blindIndex("37130219900101123x", purpose: "id") == rotated.blindIndex("37130219900101123X", purpose: "id"))
    }

    @Test("the blind index is keyed, normalised and separated by purpose")
    func blindIndex() throws {
        let ring = try DataKeyring(text: keyA)
        let other = try DataKeyring(text: keyB)
        let index = ring.blindIndex(" 91371300MA3C1234XY ", purpose: "id_number")
        #expect(index.count == 32)
        #expect(index == ring.blindIndex("91371300ma3c1234xy", purpose: "id_number"))
        #expect(index != ring.blindIndex("91371300MA3C1234XY", purpose: "phone"))
        #expect(index != other.blindIndex("91371300MA3C1234XY", purpose: "id_number"))
    }

    @Test("a key file must hold 32-byte base64 keys", arguments: ["", "# only a comment\n", "not-base64!", "AAAA"])
    func invalidKeys(text: String) {
        #expect(throws: DataKeyring.InvalidKey.self) { try DataKeyring(text: text) }
    }
}

@Suite("Masking")
struct MaskingTests {
    @Test func shapes() {
        #expect(Masking.idNumber("371302199001011234") == "3713**********1234")
        #expect(Masking.idNumber("91371300MA3C1234XY") == "9137**********34XY")
        #expect(Masking.idNumber("E1234567") == "******67")
        #expect(Masking.phone("13812345678") == "138****5678")
        #expect(Masking.phone("0539-8123456") == "0539-*****56")
        #expect(Masking.personName("张三") == "张*")
        #expect(Masking.personName("欧阳娜娜") == "欧***")
        #expect(Masking.organisationName("临沂市兰山区好味道餐饮有限公司") == "临沂**有限公司")
        #expect(Masking.address("山东省临沂市兰山区解放路1号") == "山东省临沂市****")
        #expect(Masking.idNumber("") == "")
    }
}
