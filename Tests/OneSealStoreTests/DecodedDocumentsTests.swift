import Foundation
import Synchronization
import Testing

@testable import OneSealStore

@Suite("Decoded documents")
struct DecodedDocumentsTests {
    struct Point: Codable, Sendable, Equatable {
        var x: Int
        var y: Int
    }

    /// Counts the decodes that really ran.
    final class Decodes: Sendable {
        let count = Mutex(0)
        func decode(_ text: String) throws -> Point {
            count.withLock { $0 += 1 }
            return try JSONDecoder().decode(Point.self, from: Data(text.utf8))
        }
    }

    @Test("the same text is decoded once; another text (even equal JSON written differently) is decoded on its own")
    func sameTextOnce() throws {
        let documents = DecodedDocuments<Point>(capacity: 8)
        let decodes = Decodes()
        #expect(try documents.value(of: #"{"x": 1, "y": 2}"#, decode: decodes.decode) == Point(x: 1, y: 2))
        #expect(try documents.value(of: #"{"x": 1, "y": 2}"#, decode: decodes.decode) == Point(x: 1, y: 2))
        #expect(decodes.count.withLock { $0 } == 1)
        #expect(try documents.value(of: #"{"y": 2, "x": 1}"#, decode: decodes.decode) == Point(x: 1, y: 2))
        #expect(try documents.value(of: #"{"x": 3, "y": 2}"#, decode: decodes.decode) == Point(x: 3, y: 2))
        #expect(decodes.count.withLock { $0 } == 3)
    }

    @Test("a text that does not decode throws every time and is not remembered")
    func failuresAreNotRemembered() {
        let documents = DecodedDocuments<Point>(capacity: 8)
        let decodes = Decodes()
        for _ in 0..<2 {
            #expect(throws: DecodingError.self) { try documents.value(of: #"{"x": "one"}"#, decode: decodes.decode) }
        }
        #expect(decodes.count.withLock { $0 } == 2)
        #expect(documents.count == 0)
    }

    @Test("at most capacity documents: when full, all are forgotten and decoding goes on")
    func bounded() throws {
        let documents = DecodedDocuments<Point>(capacity: 3)
        let decodes = Decodes()
        for x in 0..<3 { _ = try documents.value(of: #"{"x": \#(x), "y": 0}"#, decode: decodes.decode) }
        #expect(documents.count == 3)
        _ = try documents.value(of: #"{"x": 9, "y": 0}"#, decode: decodes.decode)
        #expect(documents.count == 1)
        #expect(try documents.value(of: #"{"x": 0, "y": 0}"#, decode: decodes.decode) == Point(x: 0, y: 0))
        #expect(decodes.count.withLock { $0 } == 5)
    }

    @Test("a remembered text is not decoded; texts that differ in their bytes are kept apart even when they read the same")
    func rememberedAndExact() throws {
        let documents = DecodedDocuments<Point>(capacity: 8)
        let decodes = Decodes()
        documents.remember(#"{"x": 5, "y": 6}"#, as: Point(x: 5, y: 6))
        #expect(try documents.value(of: #"{"x": 5, "y": 6}"#, decode: decodes.decode) == Point(x: 5, y: 6))
        #expect(decodes.count.withLock { $0 } == 0)
        // "é" precomposed and decomposed: equal as Swift Strings, two different documents here.
        let precomposed = "{\"x\": 1, \"y\": 2, \"note\": \"caf\u{E9}\"}"
        let decomposed = "{\"x\": 1, \"y\": 2, \"note\": \"cafe\u{301}\"}"
        #expect(precomposed == decomposed)
        _ = try documents.value(of: precomposed, decode: decodes.decode)
        _ = try documents.value(of: decomposed, decode: decodes.decode)
        _ = try documents.value(of: decomposed, decode: decodes.decode)
        #expect(decodes.count.withLock { $0 } == 2)
        #expect(documents.count == 3)
    }
}
