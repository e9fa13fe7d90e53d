import Foundation

/// Unpadded base64url (RFC 4648 §5): bearer tokens, the licence QR code's signature, session
/// cookies and form tokens. Decoding accepts only the canonical spelling (RFC 4648 §3.5) — the last
/// character of a value whose length is not a multiple of three carries unused low bits, and
/// without this check "…A" and "…B" would decode to the same bytes, so one value would have
/// several texts (a CSRF token "altered" in its last character would still pass).
public enum Base64URL {
    /// The longest text `decode` reads: no value the system exchanges this way is longer (a bearer
    /// token's claims are limited well below it), and the check comes before any allocation.
    public static let maximumTextLength = 16_384

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The bytes of a canonical unpadded base64url text; nil for anything else (padding, the
    /// standard alphabet, white space, non-canonical trailing bits, over `maximumTextLength`).
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        guard text.utf8.count <= maximumTextLength, text.utf8.allSatisfy(isAlphabet) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.utf8.count % 4 != 0 { base64 += "=" }
        guard let bytes = Data(base64Encoded: base64).map(Array.init) else { return nil }
        return encode(bytes) == String(text) ? bytes : nil
    }

    public static func isAlphabet(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D || byte == 0x5F
    }
}
