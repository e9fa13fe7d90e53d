import GRPCCore
import NIOCore
import OneSealProto
import Testing

@testable import OneSealWire

/// `CallFrameDecoder` reads the common call frames directly and everything else through
/// SwiftProtobuf. Whichever path reads a body, the frame must be the one SwiftProtobuf reads
/// (or both must refuse it).
@Suite("Frame reader")
struct FrameReaderTests {
    enum Outcome: Equatable {
        case frame(Wire_Frame)
        case refused
    }

    /// One body (without its length) through `FrameDecoder` (SwiftProtobuf only).
    static func reference(_ body: [UInt8]) -> Outcome {
        var buffer = ByteBuffer(bytes: body)
        do { return .frame(try FrameDecoder.parse(body: buffer.readSlice(length: body.count)!)) } catch { return .refused }
    }

    /// One body through `CallFrameDecoder`, and whether the direct path took it.
    static func direct(_ body: [UInt8]) throws -> (outcome: Outcome, directPath: Bool) {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(body.count))
        buffer.writeBytes(body)
        var decoder = CallFrameDecoder()
        do {
            guard let inbound = try decoder.decode(buffer: &buffer) else { throw FrameDecodingError.truncatedFrame(expected: body.count, received: 0) }
            if case .frame = inbound { return (.frame(inbound.wireFrame), false) }
            return (.frame(inbound.wireFrame), true)
        } catch is FrameDecodingError {
            return (.refused, false)
        }
    }

    @Test("every frame the writer produces reads back the same; the call frames take the direct path")
    func writerShapes() throws {
        let encoder = FrameEncoder(maximumFrameSize: 1 << 20)
        var directCount = 0
        for frame in FrameWriterTests.samples() {
            var buffer = ByteBuffer()
            try encoder.encode(frame, into: &buffer)
            let body = Array(buffer.readableBytesView.dropFirst(4))
            let (outcome, directPath) = try Self.direct(body)
            #expect(outcome == Self.reference(body), "\(FrameWriterTests.describe(frame))")
            #expect(outcome == .frame(frame.wireFrame))
            let expectDirect: Bool
            switch frame {
            // Stream id 0 is simply omitted on the wire, so those frames are direct too.
            case .message, .halfClose: expectDirect = true
            case .headers(_, let metadata): expectDirect = metadata.isEmpty
            case .close(_, let code, let message, let trailers): expectDirect = code == .ok && message.isEmpty && trailers.isEmpty
            case .open, .other: expectDirect = false
            }
            #expect(directPath == expectDirect, "\(FrameWriterTests.describe(frame)): direct path \(directPath)")
            if directPath { directCount += 1 }
        }
        // 9 stream ids × (HalfClose, 8 Messages, empty Headers, bare OK Close).
        #expect(directCount == 99)
    }

    @Test("other encodings of the same fields go to SwiftProtobuf and mean the same")
    func otherEncodings() throws {
        let cases: [[UInt8]] = [
            [0x22, 0x03, 0x0A, 0x01, 0x41, 0x08, 0x05],  // kind before stream_id
            [0x08, 0x01, 0x2A, 0x00, 0x78, 0x01],  // unknown field after the kind
            [0x08, 0x81, 0x00, 0x2A, 0x00],  // stream id 1 as a two-byte varint
            [0x08, 0x00, 0x2A, 0x00],  // stream id 0 written out
            [0x08, 0x01, 0x08, 0x02, 0x22, 0x00],  // stream id twice: the last wins
            [0x08, 0x01, 0x22, 0x03, 0x0A, 0x05, 0x41],  // data longer than the message
            [0x08, 0x01, 0x22, 0x02, 0x0A, 0x01],  // data cut short
            [0x08, 0x01, 0x22, 0x00, 0x22, 0x03, 0x0A, 0x01, 0x42],  // the message field twice
            [0x08, 0x01, 0x32, 0x02, 0x08, 0x00],  // Close with code 0 written out
            [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0x2A, 0x00],  // stream id above UInt32.max
            [0x08, 0x01, 0x2A],  // kind without length
            [0x08],
            [],
        ]
        for body in cases {
            let (outcome, _) = try Self.direct(body)
            #expect(outcome == Self.reference(body), "\(body)")
        }
    }

    @Test("random bodies: both paths agree on every one")
    func randomBodies() throws {
        let alphabet: [UInt8] = [0x08, 0x22, 0x2A, 0x1A, 0x32, 0x0A, 0x12, 0x00, 0x01, 0x02, 0x03, 0x41, 0x7F, 0x80, 0xFF]
        var generator = SystemRandomNumberGenerator()
        var directCount = 0
        for _ in 0..<5_000 {
            let count = Int.random(in: 0...10, using: &generator)
            let body = (0..<count).map { _ in alphabet.randomElement(using: &generator)! }
            let (outcome, directPath) = try Self.direct(body)
            #expect(outcome == Self.reference(body), "\(body)")
            if directPath { directCount += 1 }
        }
        // Some of them must have exercised the direct path for the comparison to mean anything.
        #expect(directCount > 0)
    }
}
