import Foundation
import Synchronization

/// Values decoded from JSON documents the database returns, by the documents' exact text.
///
/// An aggregate's state is stored as one JSON document and read back several times per revision
/// (the change that wrote it reads it again FOR UPDATE, a watch or a view reads it): decoding it
/// with Foundation's JSONDecoder was ≈ 17 % of intake's CPU (#21). Decoding is a pure function of
/// the text, so the same text always gives the same value and a remembered one is never stale;
/// what a transaction wrote and then rolled back is only text nobody will read again. At most
/// `capacity` documents: when full, all are forgotten (the next reads decode again).
///
/// A writer that knows the value behind the text the database will answer (the text it wrote
/// into a `json` column, which answers it back as written — decision 78) tells it with
/// `remember(_:as:)`, so the first read after a write is not a decode either — the text was made
/// from that very value, and the stores' round-trip tests hold that decoding it gives the value back.
public final class DecodedDocuments<Value: Sendable>: Sendable {
    public let capacity: Int
    private let values = Mutex<[ExactText: Value]>([:])

    public init(capacity: Int) {
        self.capacity = capacity
    }

    public var count: Int { values.withLock { $0.count } }

    /// The value of `text`, decoded by `decode` unless a document of the same text was decoded before.
    public func value(of text: String, decode: (String) throws -> Value) throws -> Value {
        let key = ExactText(text)
        if let known = values.withLock({ $0[key] }) { return known }
        let value = try decode(text)
        store(key, value)
        return value
    }

    /// Remembers that `text` is the document of `value` (see above).
    public func remember(_ text: String, as value: Value) {
        store(ExactText(text), value)
    }

    /// Keeps nothing, as after a start (tests).
    public func forgetAll() {
        values.withLock { $0.removeAll() }
    }

    private func store(_ key: ExactText, _ value: Value) {
        values.withLock { values in
            if values.count >= capacity { values.removeAll(keepingCapacity: true) }
            values[key] = value
        }
    }
}

/// A string compared and hashed by its UTF-8 bytes. A `String` key hashes and compares by
/// canonical equivalence, normalizing a Chinese document of several kilobytes on every look-up
/// (≈ 4 % of intake's CPU, #21); the cache wants the exact text anyway.
struct ExactText: Hashable, Sendable {
    let text: String

    init(_ text: String) {
        var text = text
        text.makeContiguousUTF8()
        self.text = text
    }

    static func == (left: ExactText, right: ExactText) -> Bool {
        let same = left.text.utf8.withContiguousStorageIfAvailable { l in
            right.text.utf8.withContiguousStorageIfAvailable { r in
                l.count == r.count && (l.count == 0 || memcmp(l.baseAddress!, r.baseAddress!, l.count) == 0)
            }
        }
        return (same ?? nil) ?? left.text.utf8.elementsEqual(right.text.utf8)
    }

    func hash(into hasher: inout Hasher) {
        text.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
            ?? text.utf8.forEach { hasher.combine($0) }
    }
}
