import Foundation

/// JSON for an `Encodable` value written straight into bytes as the value describes itself — what
/// `JSONEncoder()` with its default strategies writes (keys in the order encoded, `nil` keys left
/// out, `Date` as seconds since 2001, `Data` as base64, `URL` as its text, non-finite numbers
/// refused), without the tree of boxed values Foundation's encoder builds and then walks (#21 step
/// 15: intake's state write spent ≈ 14 % of intake's CPU there). `JSONDecoder` reads it back to
/// the same value; the bytes may differ from Foundation's only where JSON does not care (`/` is
/// not escaped, numbers in Swift's shortest form).
///
/// A container is closed when the encoding of the value that opened it returns, or when a
/// container it is nested in writes again — the order synthesized `Codable` and hand-written
/// `encode(to:)` use. Writing to a container after it was closed is an `EncodingError`.
public enum StreamingJSONEncoder {
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let writer = JSONByteWriter()
        try writer.encodeValue(value, codingPath: [])
        try writer.finish()
        return writer.bytes
    }

    /// The JSON as text (what a `jsonb` bind takes).
    public static func string<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encode(value), as: UTF8.self)
    }
}

/// The one buffer every container of one `encode` writes into, and the stack of open containers.
final class JSONByteWriter {
    var bytes: [UInt8] = []
    /// Open containers, outermost first: `true` for an object, with whether it has an element yet.
    private var open: [(object: Bool, hasElement: Bool, id: Int)] = []
    private var nextID = 0
    /// The first error met where `Encoder` lets no error out (a nested container or a super
    /// encoder asked of a closed container): `finish` throws it, so no broken JSON is answered.
    private var failure: (any Error)?

    init() { bytes.reserveCapacity(4096) }

    /// Closes every container opened after the one at `depth` (0: none kept open).
    func close(above depth: Int) {
        while open.count > depth {
            bytes.append(open.removeLast().object ? UInt8(ascii: "}") : UInt8(ascii: "]"))
        }
    }

    func finish() throws {
        if let failure { throw failure }
        close(above: 0)
    }

    /// `beginElement` where the protocol cannot throw: the error is kept for `finish`.
    func beginElementOrFail(of container: (depth: Int, id: Int), codingPath: @autoclosure () -> [any CodingKey]) {
        do {
            try beginElement(of: container, codingPath: codingPath())
        } catch {
            failure = failure ?? error
        }
    }

    /// Opens a container; answers its handle (its depth and identity).
    func openContainer(object: Bool) -> (depth: Int, id: Int) {
        bytes.append(object ? UInt8(ascii: "{") : UInt8(ascii: "["))
        nextID += 1
        open.append((object, false, nextID))
        return (open.count, nextID)
    }

    /// Before a container writes an element: closes what was opened inside it since, checks it is
    /// still open, and writes the comma between elements.
    func beginElement(of container: (depth: Int, id: Int), codingPath: @autoclosure () -> [any CodingKey]) throws {
        guard container.depth <= open.count, open[container.depth - 1].id == container.id else {
            throw EncodingError.invalidValue(
                "", EncodingError.Context(codingPath: codingPath(), debugDescription: "written to a JSON container after it was closed"))
        }
        close(above: container.depth)
        if open[container.depth - 1].hasElement { bytes.append(UInt8(ascii: ",")) }
        open[container.depth - 1].hasElement = true
    }

    /// Writes `value` where a value is expected: the common leaves and the special forms first
    /// (by type, not by a cast per value), then the value's own `encode(to:)`, whose containers
    /// are closed when it returns. The path is built only for a value that gets an encoder.
    func encodeValue<T: Encodable>(_ value: T, codingPath: @autoclosure () -> [any CodingKey]) throws {
        if T.self == String.self {
            writeString(value as! String)
        } else if T.self == Int.self {
            writeInteger(value as! Int)
        } else if T.self == Bool.self {
            writeBool(value as! Bool)
        } else if T.self == Date.self {
            try writeNumber((value as! Date).timeIntervalSinceReferenceDate, codingPath: codingPath())
        } else if T.self == Data.self {
            writeString((value as! Data).base64EncodedString())
        } else if T.self == URL.self {
            writeString((value as! URL).absoluteString)
        } else if T.self == Decimal.self {
            bytes.append(contentsOf: (value as! Decimal).description.utf8)
        } else {
            let depth = open.count
            let start = bytes.count
            try value.encode(to: JSONValueEncoder(writer: self, codingPath: codingPath()))
            close(above: depth)
            // Nothing written (an empty encode(to:)): JSONEncoder writes an empty object.
            if bytes.count == start { bytes.append(contentsOf: "{}".utf8) }
        }
    }

    func writeNumber(_ value: Double, codingPath: [any CodingKey]) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, EncodingError.Context(codingPath: codingPath, debugDescription: "\(value) is not a JSON number"))
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }  // 3.0 as 3, as JSONEncoder writes it
        bytes.append(contentsOf: text.utf8)
    }

    func writeInteger(_ value: some BinaryInteger) {
        bytes.append(contentsOf: value.description.utf8)
    }

    func writeBool(_ value: Bool) {
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    func writeNull() {
        bytes.append(contentsOf: "null".utf8)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// A JSON string: `"` and `\` escaped, control characters as `\n`, `\t` … or `\u00XX`; every
    /// other character as its UTF-8 bytes. A string with nothing to escape (nearly every one) is
    /// appended whole: the buffer is a class's property, and each access to it is checked for
    /// exclusivity — per byte, that check cost more than the copy.
    func writeString(_ value: String) {
        let quote = UInt8(ascii: "\"")
        guard value.utf8.contains(where: { $0 < 0x20 || $0 == quote || $0 == UInt8(ascii: "\\") }) else {
            bytes.append(quote)
            bytes.append(contentsOf: value.utf8)
            bytes.append(quote)
            return
        }
        var escaped: [UInt8] = [quote]
        escaped.reserveCapacity(value.utf8.count + 8)
        for byte in value.utf8 {
            switch byte {
            case quote: escaped.append(contentsOf: [UInt8(ascii: "\\"), quote])
            case UInt8(ascii: "\\"): escaped.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: escaped.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: escaped.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: escaped.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: escaped.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: escaped.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x00..<0x20:
                escaped.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                escaped.append(Self.hexDigits[Int(byte >> 4)])
                escaped.append(Self.hexDigits[Int(byte & 0x0F)])
            default: escaped.append(byte)
            }
        }
        escaped.append(quote)
        bytes.append(contentsOf: escaped)
    }
}

/// The `Encoder` a value's `encode(to:)` receives: its containers write into the shared writer.
struct JSONValueEncoder: Encoder {
    let writer: JSONByteWriter
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(JSONKeyedContainer<Key>(writer: writer, handle: writer.openContainer(object: true), codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        JSONUnkeyedContainer(writer: writer, handle: writer.openContainer(object: false), codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        JSONSingleValueContainer(writer: writer, codingPath: codingPath)
    }
}

struct JSONKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let writer: JSONByteWriter
    let handle: (depth: Int, id: Int)
    let codingPath: [any CodingKey]

    private func key(_ key: some CodingKey) throws {
        try writer.beginElement(of: handle, codingPath: self.codingPath + [key])
        writeName(key)
    }

    /// A key where the protocol cannot throw (`JSONByteWriter.beginElementOrFail`).
    private func keyOrFail(_ key: some CodingKey) {
        writer.beginElementOrFail(of: handle, codingPath: self.codingPath + [key])
        writeName(key)
    }

    private func writeName(_ key: some CodingKey) {
        writer.writeString(key.stringValue)
        writer.bytes.append(UInt8(ascii: ":"))
    }

    mutating func encodeNil(forKey key: Key) throws { try self.key(key); writer.writeNull() }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try self.key(key); writer.writeBool(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { try self.key(key); writer.writeString(value) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try self.key(key); try writer.writeNumber(value, codingPath: codingPath + [key]) }
    mutating func encode(_ value: Float, forKey key: Key) throws { try self.key(key); try writer.writeNumber(Double(value), codingPath: codingPath + [key]) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try self.key(key); writer.writeInteger(value) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try self.key(key); writer.writeInteger(value) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try self.key(key); writer.writeInteger(value) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try self.key(key); writer.writeInteger(value) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try self.key(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try self.key(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try self.key(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try self.key(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try self.key(key); writer.writeInteger(value) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try self.key(key); writer.writeInteger(value) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try self.key(key)
        try writer.encodeValue(value, codingPath: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        keyOrFail(key)
        return KeyedEncodingContainer(JSONKeyedContainer<NestedKey>(writer: writer, handle: writer.openContainer(object: true), codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        keyOrFail(key)
        return JSONUnkeyedContainer(writer: writer, handle: writer.openContainer(object: false), codingPath: codingPath + [key])
    }

    /// Under the key "super", whether or not `Key` has such a case (as JSONEncoder does).
    mutating func superEncoder() -> any Encoder {
        keyOrFail(JSONSuperKey())
        return JSONValueEncoder(writer: writer, codingPath: codingPath + [JSONSuperKey()])
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        keyOrFail(key)
        return JSONValueEncoder(writer: writer, codingPath: codingPath + [key])
    }
}

/// The key `superEncoder()` writes under.
struct JSONSuperKey: CodingKey {
    var stringValue: String { "super" }
    var intValue: Int? { nil }
    init() {}
    init?(stringValue: String) { nil }
    init?(intValue: Int) { nil }
}

/// An array's index as a coding key (for paths in errors).
struct JSONIndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}

struct JSONUnkeyedContainer: UnkeyedEncodingContainer {
    let writer: JSONByteWriter
    let handle: (depth: Int, id: Int)
    let codingPath: [any CodingKey]
    private(set) var count = 0

    init(writer: JSONByteWriter, handle: (depth: Int, id: Int), codingPath: [any CodingKey]) {
        self.writer = writer
        self.handle = handle
        self.codingPath = codingPath
    }

    /// Begins the next element; answers its path, built only if asked for.
    private mutating func element() throws -> () -> [any CodingKey] {
        let index = count
        let codingPath = self.codingPath
        try writer.beginElement(of: handle, codingPath: codingPath + [JSONIndexKey(intValue: index)])
        count += 1
        return { codingPath + [JSONIndexKey(intValue: index)] }
    }

    /// `element()` where the protocol cannot throw (`JSONByteWriter.beginElementOrFail`).
    private mutating func elementOrFail() -> [any CodingKey] {
        let path = codingPath + [JSONIndexKey(intValue: count)]
        writer.beginElementOrFail(of: handle, codingPath: path)
        count += 1
        return path
    }

    mutating func encodeNil() throws { _ = try element(); writer.writeNull() }
    mutating func encode(_ value: Bool) throws { _ = try element(); writer.writeBool(value) }
    mutating func encode(_ value: String) throws { _ = try element(); writer.writeString(value) }
    mutating func encode(_ value: Double) throws { let path = try element(); try writer.writeNumber(value, codingPath: path()) }
    mutating func encode(_ value: Float) throws { let path = try element(); try writer.writeNumber(Double(value), codingPath: path()) }
    mutating func encode(_ value: Int) throws { _ = try element(); writer.writeInteger(value) }
    mutating func encode(_ value: Int8) throws { _ = try element(); writer.writeInteger(value) }
    mutating func encode(_ value: Int16) throws { _ = try element(); writer.writeInteger(value) }
    mutating func encode(_ value: Int32) throws { _ = try element(); writer.writeInteger(value) }
    mutating func encode(_ value: Int64) throws { _ = try element(); writer.writeInteger(value) }
    mutating func encode(_ value: UInt) throws { _ = try element(); writer.writeInteger(value) }
    mutating func encode(_ value: UInt8) throws { _ = try element(); writer.writeInteger(value) }
    mutating func encode(_ value: UInt16) throws { _ = try element(); writer.writeInteger(value) }
    mutating func encode(_ value: UInt32) throws { _ = try element(); writer.writeInteger(value) }
    mutating func encode(_ value: UInt64) throws { _ = try element(); writer.writeInteger(value) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        let path = try element()
        try writer.encodeValue(value, codingPath: path())
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let path = elementOrFail()
        return KeyedEncodingContainer(JSONKeyedContainer<NestedKey>(writer: writer, handle: writer.openContainer(object: true), codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = elementOrFail()
        return JSONUnkeyedContainer(writer: writer, handle: writer.openContainer(object: false), codingPath: path)
    }

    mutating func superEncoder() -> any Encoder {
        let path = elementOrFail()
        return JSONValueEncoder(writer: writer, codingPath: path)
    }
}

/// A single value: written where the value is expected (the key or the element was written by
/// the container that asked for it).
struct JSONSingleValueContainer: SingleValueEncodingContainer {
    let writer: JSONByteWriter
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { writer.writeNull() }
    mutating func encode(_ value: Bool) throws { writer.writeBool(value) }
    mutating func encode(_ value: String) throws { writer.writeString(value) }
    mutating func encode(_ value: Double) throws { try writer.writeNumber(value, codingPath: codingPath) }
    mutating func encode(_ value: Float) throws { try writer.writeNumber(Double(value), codingPath: codingPath) }
    mutating func encode(_ value: Int) throws { writer.writeInteger(value) }
    mutating func encode(_ value: Int8) throws { writer.writeInteger(value) }
    mutating func encode(_ value: Int16) throws { writer.writeInteger(value) }
    mutating func encode(_ value: Int32) throws { writer.writeInteger(value) }
    mutating func encode(_ value: Int64) throws { writer.writeInteger(value) }
    mutating func encode(_ value: UInt) throws { writer.writeInteger(value) }
    mutating func encode(_ value: UInt8) throws { writer.writeInteger(value) }
    mutating func encode(_ value: UInt16) throws { writer.writeInteger(value) }
    mutating func encode(_ value: UInt32) throws { writer.writeInteger(value) }
    mutating func encode(_ value: UInt64) throws { writer.writeInteger(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try writer.encodeValue(value, codingPath: codingPath) }
}
