/// Lower-case hexadecimal text of bytes (digests, blind indexes, key ids, bytea literals).
///
/// Written digit by digit into one buffer: `String(format: "%02x")` per byte went through
/// Foundation's formatter, ≈ 3 % of evaluation's CPU for the one blind index it computes per
/// event (#21).
public enum Hex {
    public static func lowercase(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        append(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the two digits of every byte to `out`, for a caller writing a larger text in place
    /// (an array literal's bytea elements, `SQLArray`).
    public static func append(_ bytes: some Sequence<UInt8>, to out: inout [UInt8]) {
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
    }

    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)
}
