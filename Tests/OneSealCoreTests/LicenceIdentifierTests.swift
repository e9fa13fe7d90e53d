import Foundation
import Testing
import OneSealCore

@Suite("Licence identifier (GB/T 36903 style, ISO/IEC 7064 MOD 37,36)")
struct LicenceIdentifierTests {
    @Test("MOD 37,36 check characters worked by hand and the standard's example")
    func mod3736() {
        // "0": p = 36; p = (36 + 0) mod 36 = 0 → 36; p = 72 mod 37 = 35; a = (1 − 35) mod 36 = 2.
        #expect(ISO7064.mod37_36CheckCharacter(for: "0") == "2")
        // "A": p = (36 + 10) mod 36 = 10; p = 20; a = (1 − 20) mod 36 = 17 → "H".
        #expect(ISO7064.mod37_36CheckCharacter(for: "A") == "H")
        // The example in ISO/IEC 7064: A12425GABC1234002 → M.
        #expect(ISO7064.mod37_36CheckCharacter(for: "A12425GABC1234002") == "M")
        #expect(ISO7064.mod37_36CheckCharacter(for: "a12425gabc1234002") == "M")
        #expect(ISO7064.mod37_36CheckCharacter(for: "") == nil)
        #expect(ISO7064.mod37_36CheckCharacter(for: "A-1") == nil)
    }

    let typeCode = "11100000000013127D001"  // defining agency code + type number 001
    let issuer = "91110000600037341L"

    @Test("build, print, parse round-trip")
    func roundTrip() throws {
        let id = try LicenceIdentifier(typeCode: typeCode, issuer: issuer, serial: "2026A0001", version: 1)
        let expected = ISO7064.mod37_36CheckCharacter(for: typeCode + issuer + "2026A0001" + "001")!
        #expect(id.checkCharacter == expected)
        #expect(id.description == "1.2.156.3005.2.\(typeCode).\(issuer).2026A0001.001.\(expected)")
        #expect(try LicenceIdentifier(parsing: id.description) == id)
        #expect(try LicenceIdentifier(parsing: id.description.lowercased()) == id)
        let json = try JSONEncoder().encode(id)
        #expect(try JSONDecoder().decode(LicenceIdentifier.self, from: json) == id)
        // A new version of the same licence has its own check character input.
        let v2 = try LicenceIdentifier(typeCode: typeCode, issuer: issuer, serial: "2026A0001", version: 2)
        #expect(v2.description.hasSuffix(".002.\(v2.checkCharacter)"))
    }

    @Test("a tampered identifier fails its check")
    func tampered() throws {
        let id = try LicenceIdentifier(typeCode: typeCode, issuer: issuer, serial: "2026A0001", version: 1)
        let forgedSerial = id.description.replacingOccurrences(of: ".2026A0001.", with: ".2026A0007.")
        #expect(forgedSerial != id.description)
        #expect(throws: LicenceIdentifierError.self) { try LicenceIdentifier(parsing: forgedSerial) }
        do {
            _ = try LicenceIdentifier(parsing: forgedSerial)
        } catch let LicenceIdentifierError.checkCharacterMismatch(expected, found) {
            #expect(found == id.checkCharacter && expected != found)
        }
        // Changing only the check character fails too.
        let other: Character = id.checkCharacter == "0" ? "1" : "0"
        let forgedCheck = String(id.description.dropLast()) + String(other)
        #expect(throws: LicenceIdentifierError.checkCharacterMismatch(expected: id.checkCharacter, found: other)) {
            try LicenceIdentifier(parsing: forgedCheck)
        }
    }

    @Test("malformed identifiers say which part is wrong")
    func malformed() {
        let body = "\(typeCode).\(issuer).2026A0001"
        #expect(throws: LicenceIdentifierError.wrongPrefix) { try LicenceIdentifier(parsing: "1.2.156.3005.3.\(body).001.X") }
        #expect(throws: LicenceIdentifierError.wrongFieldCount(found: 4)) { try LicenceIdentifier(parsing: "1.2.156.3005.2.\(body).001") }
        #expect(throws: LicenceIdentifierError.invalidVersion("01")) { try LicenceIdentifier(parsing: "1.2.156.3005.2.\(body).01.X") }
        #expect(throws: LicenceIdentifierError.invalidVersion("000")) { try LicenceIdentifier(parsing: "1.2.156.3005.2.\(body).000.X") }
        #expect(throws: LicenceIdentifierError.invalidCheckCharacter("XY")) { try LicenceIdentifier(parsing: "1.2.156.3005.2.\(body).001.XY") }
        #expect(throws: LicenceIdentifierError.invalidTypeCode("11100000000013127D01")) {
            try LicenceIdentifier(typeCode: "11100000000013127D01", issuer: issuer, serial: "1", version: 1)
        }
        #expect(throws: LicenceIdentifierError.invalidIssuer("9111000060003734IL")) {
            try LicenceIdentifier(typeCode: typeCode, issuer: "9111000060003734IL", serial: "1", version: 1)
        }
        #expect(throws: LicenceIdentifierError.invalidSerial("")) {
            try LicenceIdentifier(typeCode: typeCode, issuer: issuer, serial: "", version: 1)
        }
        #expect(throws: LicenceIdentifierError.invalidSerial("A-1")) {
            try LicenceIdentifier(typeCode: typeCode, issuer: issuer, serial: "A-1", version: 1)
        }
        #expect(throws: LicenceIdentifierError.invalidVersion("1000")) {
            try LicenceIdentifier(typeCode: typeCode, issuer: issuer, serial: "1", version: 1000)
        }
    }
}
