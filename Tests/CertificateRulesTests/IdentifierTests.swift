import CertificateRules
import OneSealCore
import Testing

/// The licence identifier's MOD 37,36 check character (docs/law.md#identifiers-and-checksums),
/// checked with OneSealCore's `LicenceIdentifier` against identifiers published by real platforms.
@Suite("Licence identifiers")
struct IdentifierTests {
    /// Identifiers seen on public platforms: the example of the national standard for 建筑施工企业安全生产
    /// 管理人员考核合格证书 (versions 001 and 002), a Zhejiang investment-project licence file name, and a
    /// Shandong (370800) filing record.
    static let real = [
        "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
        "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S",
        "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0",
        "1.2.156.3005.2.11100000000013338W087.11370800MB28559184.37080001202411010001.001.3",
    ]

    @Test("real identifiers parse and their check characters agree", arguments: real)
    func realIdentifiers(text: String) throws {
        let identifier = try LicenceIdentifier(parsing: text)
        #expect(identifier.description == text)
        #expect(String(identifier.checkCharacter) == String(text.last!))
        // Lower case is accepted and normalised.
        #expect(try LicenceIdentifier(parsing: text.lowercased()).description == text)
    }

    @Test("the ISO/IEC 7064 MOD 37,36 example of the standard gives M")
    func isoExample() {
        #expect(ISO7064.mod37_36CheckCharacter(for: "A12425GABC1234002") == "M")
    }

    @Test("every single-character change of a real identifier is caught", arguments: real)
    func tampered(text: String) throws {
        let prefixLength = LicenceIdentifier.prefix.count + 1
        let characters = Array(text)
        var caught = 0
        var checked = 0
        for position in prefixLength..<characters.count where characters[position] != "." {
            for replacement in "0123456789ABCDEFGHJKLMNPQRTUWXY" where replacement != characters[position] {
                var altered = characters
                altered[position] = replacement
                checked += 1
                if (try? LicenceIdentifier(parsing: String(altered))) == nil { caught += 1 }
            }
        }
        // MOD 37,36 detects all single substitutions.
        #expect(caught == checked)
    }

    @Test("a wrong check character is reported with the expected one")
    func mismatch() {
        // A placeholder identifier found in integration code: its check character is not the computed one.
        let text = "1.2.156.3005.2.11100000000013661B006.113700000045046442.209FA4E88F9E4C878F3E9BED2CE7EA49.001.M"
        #expect(throws: LicenceIdentifierError.checkCharacterMismatch(expected: "D", found: "M")) {
            try LicenceIdentifier(parsing: text)
        }
        #expect(throws: LicenceIdentifierError.wrongPrefix) { try LicenceIdentifier(parsing: "1.2.156.3005.3.X") }
        #expect(throws: LicenceIdentifierError.wrongFieldCount(found: 4)) {
            try LicenceIdentifier(parsing: "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001")
        }
        #expect(throws: LicenceIdentifierError.invalidVersion("1")) {
            try LicenceIdentifier(parsing: "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.1.U")
        }
    }

    @Test("a real identifier whose issuer is a division code, not a USCC, is refused by shape")
    func divisionCodeIssuer() {
        // Published by a city platform with the issuer as its division code: the check character is
        // right, but the structure (docs/law.md#identifiers-and-checksums) has an 18-character issuer code.
        let text = "1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9"
        #expect(ISO7064.mod37_36CheckCharacter(for: "11100000MB03271699022" + "340100" + "000000016" + "001") == "9")
        #expect(throws: LicenceIdentifierError.invalidIssuer("340100")) { try LicenceIdentifier(parsing: text) }
    }

    @Test("identifiers built for issued licences: serial per node and year, version for reissues")
    func built() throws {
        let serial = LicenceSerial.serial(node: "371300", issuedOn: CivilDate(year: 2026, month: 11, day: 23)!, sequence: 42)
        #expect(serial == "371300202600000042")
        let first = try LicenceIdentifier(typeCode: "11100000MB01432663101", issuer: "11371300MB28512345", serial: serial, version: 1)
        let second = try LicenceIdentifier(typeCode: "11100000MB01432663101", issuer: "11371300MB28512345", serial: serial, version: 2)
        #expect(first.description.hasPrefix("1.2.156.3005.2.11100000MB01432663101.11371300MB28512345.371300202600000042.001."))
        #expect(second.description.contains(".002."))
        #expect(try LicenceIdentifier(parsing: first.description) == first)
    }
}
