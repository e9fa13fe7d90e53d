/// Lower-case hexadecimal text of bytes (digests, blind indexes, key ids).
///
/// One buffer written digit by digit: `String(format: "%02x")` per byte went through Foundation's
/// formatter, ≈ 3 % of evaluation's CPU for the one blind index it computes per event (#21).
public enum Hex {
    public static func lowercase(_ bytes: some Sequence<UInt8>, prefix: String = "") -> String {
        var out = Array(prefix.utf8)
        out.reserveCapacity(out.count + bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)
}
