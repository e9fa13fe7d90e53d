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
public final class DecodedDocuments<Value: Sendable>: Sendable {
    public let capacity: Int
    private let values = Mutex<[String: Value]>([:])

    public init(capacity: Int) {
        self.capacity = capacity
    }

    public var count: Int { values.withLock { $0.count } }

    /// The value of `text`, decoded by `decode` unless a document of the same text was decoded before.
    public func value(of text: String, decode: (String) throws -> Value) throws -> Value {
        if let known = values.withLock({ $0[text] }) { return known }
        let value = try decode(text)
        values.withLock { values in
            if values.count >= capacity { values.removeAll(keepingCapacity: true) }
            values[text] = value
        }
        return value
    }
}
