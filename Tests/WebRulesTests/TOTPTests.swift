import Foundation
import Testing
import WebRules

/// RFC 6238 Appendix B's vectors (8 digits, 30 s steps, T0 = 0) for all three hashes, and the
/// 6-digit codes the staff's authenticator apps show; RFC 4648 §10's base32 vectors.
@Suite struct TOTPTests {
    static let sha1Secret = Array("12345678901234567890".utf8)
    static let sha256Secret = Array("12345678901234567890123456789012".utf8)
    static let sha512Secret = Array("1234567890123456789012345678901234567890123456789012345678901234".utf8)

    /// (time, SHA-1, SHA-256, SHA-512) — RFC 6238 Appendix B, table of test vectors.
    static let vectors: [(time: TimeInterval, sha1: String, sha256: String, sha512: String)] = [
        (59, "94287082", "46119246", "90693936"),
        (1_111_111_109, "07081804", "68084774", "25091201"),
        (1_111_111_111, "14050471", "67062674", "99943326"),
        (1_234_567_890, "89005924", "91819424", "93441116"),
        (2_000_000_000, "69279037", "90698825", "38618901"),
        (20_000_000_000, "65353130", "77737706", "47863826"),
    ]

    @Test func rfc6238AppendixBVectors() {
        for vector in Self.vectors {
            let date = Date(timeIntervalSince1970: vector.time)
            #expect(TOTP(secret: Self.sha1Secret, digits: 8).code(at: date) == vector.sha1, "SHA1 at \(vector.time)")
            #expect(TOTP(secret: Self.sha256Secret, digits: 8, algorithm: .sha256).code(at: date) == vector.sha256, "SHA256 at \(vector.time)")
            #expect(TOTP(secret: Self.sha512Secret, digits: 8, algorithm: .sha512).code(at: date) == vector.sha512, "SHA512 at \(vector.time)")
        }
    }

    @Test func sixDigitsAreTheLastSixOfTheSameTruncation() {
        // The default (what the front uses): 6 digits of the same 31-bit value, zero-padded.
        let totp = TOTP(secret: Self.sha1Secret)
        #expect(totp.code(at: Date(timeIntervalSince1970: 59)) == "287082")
        #expect(totp.code(at: Date(timeIntervalSince1970: 1_111_111_109)) == "081804")
        #expect(totp.step(at: Date(timeIntervalSince1970: 59)) == 1)
    }

    @Test func oneStepEitherWayIsAcceptedAndNotTwo() {
        let totp = TOTP(secret: Self.sha1Secret)
        let now = Date(timeIntervalSince1970: 1_234_567_890)
        let step = totp.step(at: now)
        #expect(totp.matchingStep(totp.code(step: step), at: now) == step)
        #expect(totp.matchingStep(totp.code(step: step - 1), at: now) == step - 1)
        #expect(totp.matchingStep(totp.code(step: step + 1), at: now) == step + 1)
        #expect(totp.matchingStep(totp.code(step: step - 2), at: now) == nil)
        #expect(totp.matchingStep(totp.code(step: step + 2), at: now) == nil)
        // Typed with a space in the middle, as apps show it.
        let code = totp.code(step: step)
        #expect(totp.matchingStep(String(code.prefix(3)) + " " + String(code.suffix(3)), at: now) == step)
    }

    @Test func aCodeIsGoodOnceAndMalformedCodesNever() {
        let totp = TOTP(secret: Self.sha1Secret)
        let now = Date(timeIntervalSince1970: 2_000_000_000)
        let step = totp.step(at: now)
        let code = totp.code(step: step)
        #expect(totp.matchingStep(code, at: now, after: step) == nil)
        #expect(totp.matchingStep(code, at: now, after: step - 1) == step)
        // An older code is refused once a later one has been used.
        #expect(totp.matchingStep(totp.code(step: step - 1), at: now, after: step) == nil)
        for bad in ["", "12345", "1234567", "12345a", "１２３４５６", String(code.dropLast()) + "x"] {
            #expect(totp.matchingStep(bad, at: now) == nil, "\(bad)")
        }
    }

    @Test func provisioningURIHasTheSecretInBase32AndTheParameters() {
        let uri = TOTP(secret: Self.sha1Secret).provisioningURI(issuer: "OneSeal 371302", account: "W0012")
        #expect(uri == "otpauth://totp/OneSeal%20371302:W0012?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=OneSeal%20371302&algorithm=SHA1&digits=6&period=30")
        // A hall's Chinese name is UTF-8 percent-encoded, never sent raw.
        let chinese = TOTP(secret: Self.sha1Secret).provisioningURI(issuer: "兰山", account: "W0012")
        #expect(chinese.hasPrefix("otpauth://totp/%E5%85%B0%E5%B1%B1:W0012?") && chinese.allSatisfy(\.isASCII))
    }

    @Test func generatedSecretsAre160BitsAndDiffer() {
        let a = TOTP.generateSecret(), b = TOTP.generateSecret()
        #expect(a.count == 20 && b.count == 20 && a != b)
    }
}

@Suite struct Base32Tests {
    /// RFC 4648 §10.
    static let vectors: [(String, String)] = [
        ("", ""), ("f", "MY======"), ("fo", "MZXQ===="), ("foo", "MZXW6==="), ("foob", "MZXW6YQ="), ("fooba", "MZXW6YTB"), ("foobar", "MZXW6YTBOI======"),
    ]

    @Test func rfc4648Vectors() throws {
        for (plain, encoded) in Self.vectors {
            #expect(Base32.encode(Array(plain.utf8)) == encoded)
            #expect(try Base32.decode(encoded).get() == Array(plain.utf8))
            #expect(try Base32.decode(encoded.replacingOccurrences(of: "=", with: "")).get() == Array(plain.utf8))
        }
        #expect(Base32.encode(Array("foobar".utf8), padding: false) == "MZXW6YTBOI")
    }

    @Test func decodesAsPeopleTypeIt() throws {
        #expect(try Base32.decode("mzxw 6ytb oi").get() == Array("foobar".utf8))
        #expect(try Base32.decode("GEZD-GNBV-GY3T-QOJQ-GEZD-GNBV-GY3T-QOJQ").get() == TOTPTests.sha1Secret)
    }

    @Test func refusesWhatNoEncoderWrites() throws {
        #expect(Base32.decode("MZXW1YTB") == .failure(.invalidCharacter(position: 5)))
        #expect(Base32.decode("MZXW0YTB") == .failure(.invalidCharacter(position: 5)))
        #expect(Base32.decode("M") == .failure(.invalidLength))
        #expect(Base32.decode("MZX") == .failure(.invalidLength))
        #expect(Base32.decode("MZ=XW6") == .failure(.invalidLength))
        // "MY" is one byte 0x66 with two zero bits left over; "MZ" leaves a one bit: not an encoder's.
        #expect(try Base32.decode("MY").get() == [0x66])
        #expect(Base32.decode("MZ") == .failure(.nonCanonical))
    }

    @Test func roundTripsRandomSecrets() throws {
        for _ in 0..<50 {
            let bytes = (0..<Int.random(in: 0...40)).map { _ in UInt8.random(in: .min ... .max) }
            #expect(try Base32.decode(Base32.encode(bytes)).get() == bytes)
            #expect(try Base32.decode(Base32.encode(bytes, padding: false).lowercased()).get() == bytes)
        }
    }
}
