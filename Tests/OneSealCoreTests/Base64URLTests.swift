import Foundation
import OneSealCore
import Testing

@Suite struct Base64URLTests {
    @Test func roundTripsEveryLengthWithoutPadding() {
        for length in 0...40 {
            let bytes = (0..<length).map { UInt8(($0 * 37 + 11) & 0xFF) }
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(Base64URL.decode(text) == bytes)
        }
    }

    /// A 32-byte value's last character carries two unused bits: "…A" and "…B" decoded to the same
    /// bytes before only the canonical spelling was accepted (a CSRF test flaked on exactly that).
    @Test func onlyTheCanonicalSpellingDecodes() {
        let bytes = Array(repeating: UInt8(0), count: 32)
        let text = Base64URL.encode(bytes)
        #expect(text.last == "A")
        for other in ["B", "C", "D"] { #expect(Base64URL.decode(String(text.dropLast()) + other) == nil) }
        let oneByte = Base64URL.encode([0xFF])
        #expect(oneByte == "_w")
        #expect(Base64URL.decode("_x") == nil)
    }

    @Test func refusesPaddingOtherAlphabetsAndOversizeText() {
        #expect(Base64URL.decode("_w==") == nil)
        #expect(Base64URL.decode("/w") == nil)
        #expect(Base64URL.decode("_ w") == nil)
        #expect(Base64URL.decode("A") == nil)
        #expect(Base64URL.decode(String(repeating: "A", count: Base64URL.maximumTextLength + 4)) == nil)
        #expect(Base64URL.decode(String(repeating: "A", count: Base64URL.maximumTextLength)) != nil)
    }
}
