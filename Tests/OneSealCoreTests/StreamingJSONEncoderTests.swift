import Foundation
import OneSealCore
import Testing

/// `StreamingJSONEncoder` against Foundation's `JSONEncoder`: the same JSON value for every shape
/// `Codable` produces, read back by `JSONDecoder` to the same Swift value.
@Suite("StreamingJSONEncoder")
struct StreamingJSONEncoderTests {
    enum Channel: String, Codable, Equatable { case online, onSite = "on_site" }

    /// An enum with associated values: synthesized `Codable` uses nested containers.
    enum Outcome: Codable, Equatable {
        case accepted(on: String, kind: Int)
        case refused(String)
        case pending
    }

    struct Leaf: Codable, Equatable {
        var name: String
        var note: String?
        var tags: [String]
    }

    struct Sample: Codable, Equatable {
        var id: UUID
        var text: String
        var number: Int
        var negative: Int64
        var big: UInt64
        var ratio: Double
        var whole: Double
        var tiny: Double
        var flag: Bool
        var missing: String?
        var present: Int?
        var at: Date
        var bytes: Data
        var link: URL
        var channel: Channel
        var outcomes: [Outcome]
        var leaves: [Leaf]
        var empty: [Int]
        var emptyObject: [String: Int]
        var byName: [String: Leaf]
        var byNumber: [Int: String]
        var nested: [[Int?]]
        var optionalLeaf: Leaf?
    }

    static let sample = Sample(
        id: UUID(uuidString: "0b1c7a52-0000-4000-8000-0000000000a1")!,
        text: "引号 \" 反斜杠 \\ 斜杠 / 换行\n回车\r制表\t退格\u{08}换页\u{0C} 控制\u{01}\u{1F} 表情 😀 终",
        number: 42, negative: Int64.min, big: UInt64.max,
        ratio: 0.1 + 0.2, whole: 3, tiny: 1e-7,
        flag: true, missing: nil, present: 0,
        at: Date(timeIntervalSince1970: 1_796_601_600.123456),
        bytes: Data([0, 1, 2, 0xFF, 0xFE]),
        link: URL(string: "https://hall.example.cn/verify?id=1&x=%E4%B8%AD")!,
        channel: .onSite,
        outcomes: [.accepted(on: "2026-12-03", kind: 2), .refused("材料不全"), .pending],
        leaves: [Leaf(name: "a", note: nil, tags: []), Leaf(name: "b", note: "n", tags: ["x", "y"])],
        empty: [], emptyObject: [:],
        byName: ["k1": Leaf(name: "c", note: "", tags: ["z"])],
        byNumber: [7: "seven", -1: "minus one"],
        nested: [[1, nil, 3], [], [nil]],
        optionalLeaf: nil)

    static func jsonObject(_ bytes: some Sequence<UInt8>) throws -> NSObject {
        try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) as! NSObject
    }

    @Test("the same JSON value as JSONEncoder, and JSONDecoder reads it back to the same value")
    func sameValueAsFoundation() throws {
        let ours = try StreamingJSONEncoder.encode(Self.sample)
        let foundation = try JSONEncoder().encode(Self.sample)
        #expect(try Self.jsonObject(ours) == Self.jsonObject(foundation))
        #expect(try JSONDecoder().decode(Sample.self, from: Data(ours)) == Self.sample)
        // Keys in the order encoded, absent keys left out.
        let text = String(decoding: ours, as: UTF8.self)
        #expect(text.hasPrefix("{\"id\":\"0B1C7A52-0000-4000-8000-0000000000A1\",\"text\":"))
        #expect(!text.contains("\"missing\"") && !text.contains("\"optionalLeaf\""))
        #expect(text.contains("\"whole\":3,") && text.contains("\"present\":0,"))
    }

    @Test("escapes: quote, backslash and control characters escaped; everything else as UTF-8")
    func escapes() throws {
        let text = String(decoding: try StreamingJSONEncoder.encode("a\"b\\c\nd\u{01}e/中"), as: UTF8.self)
        #expect(text == #""a\"b\\c\nd\u0001e/中""#)
    }

    @Test("top-level leaves, arrays and an empty encode(to:)")
    func topLevel() throws {
        struct Nothing: Encodable { func encode(to encoder: any Encoder) throws {} }
        #expect(try StreamingJSONEncoder.string(17) == "17")
        #expect(try StreamingJSONEncoder.string([1, 2]) == "[1,2]")
        #expect(try StreamingJSONEncoder.string([String]()) == "[]")
        #expect(try StreamingJSONEncoder.string(Nothing()) == "{}")
        #expect(try StreamingJSONEncoder.string([Nothing()]) == "[{}]")
        #expect(try StreamingJSONEncoder.string(Optional<Int>.none) == "null")
        #expect(try StreamingJSONEncoder.string(["a": [Channel.online]]) == #"{"a":["online"]}"#)
    }

    @Test("a number JSON cannot hold is refused, naming where it is")
    func nonFinite() throws {
        struct Holder: Encodable { var values: [Double] }
        #expect {
            try StreamingJSONEncoder.encode(Holder(values: [1, .nan]))
        } throws: { error in
            guard case EncodingError.invalidValue(_, let context) = error else { return false }
            return context.codingPath.map(\.stringValue) == ["values", "Index 1"]
        }
        #expect(throws: EncodingError.self) { try StreamingJSONEncoder.encode(Double.infinity) }
    }

    @Test("hand-written encode(to:) with nested containers, a super encoder, and a parent written between")
    func handWritten() throws {
        struct Custom: Encodable {
            enum Keys: String, CodingKey { case a, inner, list, `super`, z }
            enum Inner: String, CodingKey { case x, y }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Keys.self)
                try container.encode(1, forKey: .a)
                var inner = container.nestedContainer(keyedBy: Inner.self, forKey: .inner)
                try inner.encode("x", forKey: .x)
                try inner.encodeNil(forKey: .y)
                var list = container.nestedUnkeyedContainer(forKey: .list)
                try list.encode(true)
                var deeper = list.nestedContainer(keyedBy: Inner.self)
                try deeper.encode(2.5, forKey: .x)
                try list.encode("after")
                try Leaf(name: "s", note: nil, tags: []).encode(to: container.superEncoder())
                try container.encode([1], forKey: .z)
            }
        }
        let text = try StreamingJSONEncoder.string(Custom())
        #expect(text == #"{"a":1,"inner":{"x":"x","y":null},"list":[true,{"x":2.5},"after"],"super":{"name":"s","tags":[]},"z":[1]}"#)
        #expect(try Self.jsonObject(Array(text.utf8)) == Self.jsonObject(JSONEncoder().encode(Custom())))
    }

    @Test("a container written to after its parent moved on is an error, not bad JSON")
    func writtenAfterClose() throws {
        struct Misuse: Encodable {
            enum Keys: String, CodingKey { case inner, next }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Keys.self)
                var inner = container.nestedContainer(keyedBy: Keys.self, forKey: .inner)
                try inner.encode(1, forKey: .inner)
                try container.encode(2, forKey: .next)  // closes `inner`
                try inner.encode(3, forKey: .next)
            }
        }
        #expect(throws: EncodingError.self) { try StreamingJSONEncoder.encode(Misuse()) }

        // The same where the protocol lets no error out: a nested container asked of a closed one.
        struct NestedAfterClose: Encodable {
            enum Keys: String, CodingKey { case inner, next, late }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Keys.self)
                var inner = container.nestedContainer(keyedBy: Keys.self, forKey: .inner)
                try container.encode(2, forKey: .next)  // closes `inner`
                var late = inner.nestedUnkeyedContainer(forKey: .late)
                try late.encode(3)
            }
        }
        #expect(throws: EncodingError.self) { try StreamingJSONEncoder.encode(NestedAfterClose()) }
    }

    @Test("a super encoder writes under \"super\" whether or not the keys have such a case, as JSONEncoder does")
    func superWithoutSuperKey() throws {
        struct Child: Encodable {
            enum Keys: String, CodingKey { case own }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Keys.self)
                try container.encode(1, forKey: .own)
                try [2].encode(to: container.superEncoder())
            }
        }
        let text = try StreamingJSONEncoder.string(Child())
        #expect(text == #"{"own":1,"super":[2]}"#)
        #expect(try Self.jsonObject(Array(text.utf8)) == Self.jsonObject(JSONEncoder().encode(Child())))
    }
}
