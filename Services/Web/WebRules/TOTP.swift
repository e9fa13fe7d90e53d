import Crypto
import Foundation

/// A time-based one-time password (RFC 6238 over HOTP, RFC 4226): the staff's optional second
/// factor (#19). A pure value — the secret, the digits, the step and the hash — so the codes are
/// tested against the RFC's own vectors without a clock or a database; the caller passes the time
/// and keeps the last step it accepted (a code is good once, W33).
public struct TOTP: Sendable, Hashable {
    /// The HMAC under which the counter is hashed. SHA-1 is what every authenticator app does by
    /// default (and RFC 6238's own default); HOTP truncation keeps 31 bits of it, so SHA-1's
    /// collision weakness does not matter here. SHA-256 and SHA-512 are the RFC's other two.
    public enum Algorithm: String, Sendable, Hashable, CaseIterable {
        case sha1 = "SHA1"
        case sha256 = "SHA256"
        case sha512 = "SHA512"
    }

    public let secret: [UInt8]
    public let digits: Int
    /// Seconds per step (X in RFC 6238).
    public let period: Int
    public let algorithm: Algorithm

    /// RFC 4226 asks at least 128 bits and recommends 160: 20 bytes, 32 base32 characters.
    public static let secretByteCount = 20

    public init(secret: [UInt8], digits: Int = 6, period: Int = 30, algorithm: Algorithm = .sha1) {
        precondition((6...8).contains(digits) && period > 0 && !secret.isEmpty)
        self.secret = secret
        self.digits = digits
        self.period = period
        self.algorithm = algorithm
    }

    /// A fresh secret from the system's cryptographic generator.
    public static func generateSecret() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<secretByteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// The step (T in RFC 6238) that contains `date`; T0 = the Unix epoch.
    public func step(at date: Date) -> UInt64 {
        let seconds = max(0, date.timeIntervalSince1970)
        return UInt64(seconds) / UInt64(period)
    }

    /// The code of one step, zero-padded to `digits` (RFC 4226 §5.3 dynamic truncation).
    public func code(step counter: UInt64) -> String {
        let message = withUnsafeBytes(of: counter.bigEndian) { Array($0) }
        let key = SymmetricKey(data: secret)
        let mac: [UInt8]
        switch algorithm {
        case .sha1: mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: key))
        case .sha256: mac = Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
        case .sha512: mac = Array(HMAC<SHA512>.authenticationCode(for: message, using: key))
        }
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let binary = (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let text = String(binary % modulus)
        return String(repeating: "0", count: digits - text.count) + text
    }

    public func code(at date: Date) -> String { code(step: step(at: date)) }

    /// The secret as a person types it into an app: base32 in groups of four.
    public var groupedSecret: String {
        Base32.encode(secret, padding: false).enumerated().map { $0.offset > 0 && $0.offset % 4 == 0 ? " \($0.element)" : "\($0.element)" }.joined()
    }

    /// The step whose code `typed` is, within ±`window` steps of `date` (one step each way by
    /// default: a phone's clock a little off, a code typed as it changes), or nil. Spaces the
    /// person typed between groups are ignored; anything but digits of the right count is no match.
    /// Steps at or before `after` are refused, so a code seen over a shoulder or replayed from a
    /// proxy log cannot be used a second time.
    public func matchingStep(_ typed: String, at date: Date, window: Int = 1, after used: UInt64? = nil) -> UInt64? {
        let given = typed.filter { !$0.isWhitespace }
        guard given.count == digits, given.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let now = step(at: date)
        var found: UInt64?
        // Every candidate is computed and compared in constant time, so the time taken does not
        // tell which step (if any) matched.
        for delta in -window...window {
            let candidate = Int64(now) + Int64(delta)
            guard candidate >= 0 else { continue }
            let counter = UInt64(candidate)
            if Self.constantTimeEqual(code(step: counter), given), used.map({ counter > $0 }) ?? true, found == nil { found = counter }
        }
        return found
    }

    /// The `otpauth://` URI an authenticator app reads (from a QR code or typed): the Key Uri
    /// Format every app accepts. Issuer and account are percent-encoded; the label is
    /// `issuer:account`.
    public func provisioningURI(issuer: String, account: String) -> String {
        // RFC 3986 unreserved characters only (Foundation's `alphanumerics` would let Chinese
        // letters through unencoded): a hall's name as issuer comes out as UTF-8 percent-escapes.
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        let issuerText = issuer.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
        let accountText = account.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
        return "otpauth://totp/\(issuerText):\(accountText)?secret=\(Base32.encode(secret, padding: false))&issuer=\(issuerText)"
            + "&algorithm=\(algorithm.rawValue)&digits=\(digits)&period=\(period)"
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}

/// Base32 (RFC 4648 §6, the alphabet A–Z 2–7): how a TOTP secret is shown to be typed into an
/// authenticator app, and how apps write it in `otpauth://` URIs.
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    public static func encode(_ bytes: [UInt8], padding: Bool = true) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 4) / 5 * 8)
        var buffer: UInt64 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt64(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[Int((buffer >> UInt64(bits - 5)) & 0x1F)])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt64(5 - bits)) & 0x1F)]) }
        if padding { while out.count % 8 != 0 { out.append(UInt8(ascii: "=")) } }
        return String(decoding: out, as: UTF8.self)
    }

    /// Why a text is not base32.
    public enum DecodeError: Error, Sendable, Hashable {
        /// A character outside A–Z, 2–7 (1-based position in the text as given).
        case invalidCharacter(position: Int)
        /// A length no whole number of bytes encodes to (1, 3 or 6 characters past a group of 8),
        /// or padding in the middle.
        case invalidLength
        /// Bits left over after the last byte that are not zero: not what any encoder writes.
        case nonCanonical
    }

    /// Decodes as people type it: lower case accepted, spaces and hyphens between groups ignored,
    /// trailing `=` padding optional.
    public static func decode(_ text: String) -> Result<[UInt8], DecodeError> {
        var values: [UInt8] = []
        var paddingSeen = false
        for (index, byte) in text.utf8.enumerated() {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "\t"):
                continue
            case UInt8(ascii: "="):
                paddingSeen = true
                continue
            default:
                break
            }
            if paddingSeen { return .failure(.invalidLength) }
            let upper = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) ? byte - 32 : byte
            if upper >= UInt8(ascii: "A") && upper <= UInt8(ascii: "Z") {
                values.append(upper - UInt8(ascii: "A"))
            } else if upper >= UInt8(ascii: "2") && upper <= UInt8(ascii: "7") {
                values.append(upper - UInt8(ascii: "2") + 26)
            } else {
                return .failure(.invalidCharacter(position: index + 1))
            }
        }
        guard ![1, 3, 6].contains(values.count % 8) else { return .failure(.invalidLength) }
        var out: [UInt8] = []
        var buffer: UInt64 = 0
        var bits = 0
        for value in values {
            buffer = (buffer << 5) | UInt64(value)
            bits += 5
            if bits >= 8 {
                out.append(UInt8((buffer >> UInt64(bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        if bits > 0 && (buffer & ((1 << UInt64(bits)) - 1)) != 0 { return .failure(.nonCanonical) }
        return .success(out)
    }
}
