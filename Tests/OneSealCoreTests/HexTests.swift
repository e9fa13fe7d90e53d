import OneSealCore
import Testing

@Suite("Hex")
struct HexTests {
    @Test("lower-case, two digits per byte, every byte value; appended after what a buffer holds")
    func everyByte() {
        #expect(Hex.lowercase([UInt8]()) == "")
        var literal = Array("\\x".utf8)
        Hex.append([0x00, 0x0f, 0xa0, 0xff], to: &literal)
        #expect(String(decoding: literal, as: UTF8.self) == "\\x000fa0ff")
        #expect(Hex.lowercase([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
        let all = Hex.lowercase(Array(0...255) as [UInt8])
        #expect(all.count == 512)
        #expect(all == (0...255).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined())
        #expect(Hex.lowercase(([0xde, 0xad, 0xbe, 0xef] as [UInt8]).prefix(2)) == "dead")
    }
}
