/// A minimal writer of the protobuf binary format, enough to produce the *deterministic* encoding of
/// the two messages this service signs (`LicenceContent`, `TreeHeadSignedData`): fields in number
/// order, proto3 defaults omitted, map entries sorted by key. Kept in the rules (no protobuf
/// runtime here) so the signed bytes are defined by plain code that tests compare with
/// swift-protobuf's own deterministic output.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func tag(_ field: Int, wireType: UInt8) {
        varint(UInt64(field) << 3 | UInt64(wireType))
    }

    /// A length-delimited field (string, bytes, embedded message), written even when empty.
    mutating func lengthDelimited(_ field: Int, _ content: [UInt8]) {
        tag(field, wireType: 2)
        varint(UInt64(content.count))
        bytes += content
    }

    /// proto3 string: omitted when empty.
    mutating func string(_ field: Int, _ value: String) {
        guard !value.isEmpty else { return }
        lengthDelimited(field, Array(value.utf8))
    }

    /// proto3 bytes: omitted when empty.
    mutating func data(_ field: Int, _ value: [UInt8]) {
        guard !value.isEmpty else { return }
        lengthDelimited(field, value)
    }

    /// proto3 int32 / int64 / enum: omitted when zero; negatives as 10-byte two's complement.
    mutating func integer(_ field: Int, _ value: Int64) {
        guard value != 0 else { return }
        tag(field, wireType: 0)
        varint(UInt64(bitPattern: value))
    }

    /// An embedded message that is set (present even when all its fields are default).
    mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        build(&inner)
        lengthDelimited(field, inner.bytes)
    }
}
