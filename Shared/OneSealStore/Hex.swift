/// Bytes as lower-case hexadecimal: the digits of a `bytea` in PostgreSQL's text form (`\x…`,
/// `SQLArray`) and of ids made from hashes (a stored material's file id is its SHA-256 so written).
public enum Hex {
    public static func lowercase(_ bytes: [UInt8], prefix: String = "") -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = Array(prefix.utf8)
        out.reserveCapacity(out.count + bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
