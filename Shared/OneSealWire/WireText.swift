/// Text that came from the wire, made safe for a log line or a status message.
///
/// Why one helper: a peer chooses these bytes (method paths, metadata keys, Cancel and GoAway
/// reasons). Written raw they put NUL, DEL, ANSI escapes or fake newlines (forged log lines) into
/// the node's logs, and a 4 MB reason into every line. Every place where wire text reaches a log
/// or a status message goes through `escaped`, so the rule is the same everywhere.
public enum WireText {
    /// Bytes of wire text kept before the rest is cut (and counted).
    public static let defaultMaximumBytes = 128

    /// Printable ASCII except `\` as it is; `\` as `\\`; everything else, byte by byte of its
    /// UTF-8, as `\xNN`. At most `maximumBytes` input bytes, then `...(+N bytes)`.
    public static func escaped(_ text: String, maximumBytes: Int = WireText.defaultMaximumBytes) -> String {
        self.escaped(bytes: text.utf8, maximumBytes: maximumBytes)
    }

    public static func escaped<Bytes: Collection<UInt8>>(bytes: Bytes, maximumBytes: Int = WireText.defaultMaximumBytes) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(min(bytes.count, maximumBytes) + 16)
        var used = 0
        for byte in bytes {
            if used == maximumBytes { break }
            used += 1
            switch byte {
            case UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(UInt8(ascii: "\\"))
            case 0x20...0x7E:
                out.append(byte)
            default:
                out.append(UInt8(ascii: "\\"))
                out.append(UInt8(ascii: "x"))
                out.append(Self.hex[Int(byte >> 4)])
                out.append(Self.hex[Int(byte & 0x0F)])
            }
        }
        var result = String(decoding: out, as: UTF8.self)
        if bytes.count > used { result += "...(+\(bytes.count - used) bytes)" }
        return result
    }

    private static let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
}
