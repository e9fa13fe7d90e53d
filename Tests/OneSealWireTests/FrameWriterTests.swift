import GRPCCore
import NIOCore
import OneSealProto
import Testing

@testable import OneSealWire

/// The call frames are written by hand (`OutboundFrame`), not by SwiftProtobuf. PROTOCOL.md and the
/// C SDK depend on the bytes, so every shape must come out byte for byte as SwiftProtobuf writes
/// the same `Wire_Frame`, and read back as that frame.
@Suite("Frame writer")
struct FrameWriterTests {
    static let streamIDs: [UInt32] = [0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, UInt32.max]
    static let sizes = [0, 1, 127, 128, 300, 16_383, 16_384, 70_000]

    static func metadataSamples() -> [Metadata] {
        var text = Metadata()
        text.addString("Bearer abc.def", forKey: "authorization")
        var mixed = Metadata()
        mixed.addString("371300", forKey: "x-oneseal-node")
        mixed.addBinary([0, 1, 2, 255], forKey: "trace-bin")
        mixed.addString("", forKey: "empty-value")
        mixed.addBinary([], forKey: "empty-bin")
        mixed.addString("济南市 — 审批", forKey: "x-oneseal-note")
        var long = Metadata()
        long.addString(String(repeating: "k", count: 200), forKey: "x-long")
        long.addBinary([UInt8](repeating: 7, count: 20_000), forKey: "x-large-bin")
        return [[:], text, mixed, long]
    }

    static func samples() -> [OutboundFrame] {
        var frames: [OutboundFrame] = []
        for id in streamIDs {
            frames.append(.halfClose(streamID: id))
            for size in sizes {
                frames.append(.message(streamID: id, bytes: (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }))
            }
            for metadata in metadataSamples() {
                frames.append(.headers(streamID: id, metadata: metadata))
                for timeout: UInt64 in [0, 1, 5_000_000, UInt64.max] {
                    frames.append(.open(streamID: id, method: "/oneseal.bench.v1.Echo/Unary", metadata: metadata, timeoutMicros: timeout))
                }
                frames.append(.open(streamID: id, method: "", metadata: metadata, timeoutMicros: 0))
                for code in [Status.Code.ok, .cancelled, .invalidArgument, .unauthenticated] {
                    for message in ["", "applicant.id_number: checksum mismatch", "证件号码校验位错误"] {
                        frames.append(.close(streamID: id, code: code, message: message, trailers: metadata))
                    }
                }
            }
        }
        return frames
    }

    @Test("every call frame is byte for byte what SwiftProtobuf writes, and decodes back to it")
    func identicalToSwiftProtobuf() throws {
        let encoder = FrameEncoder(maximumFrameSize: 1 << 20)
        let samples = Self.samples()
        #expect(samples.count > 500)
        for frame in samples {
            var direct = ByteBuffer()
            try encoder.encode(frame, into: &direct)
            var reference = ByteBuffer()
            try encoder.encode(frame.wireFrame, into: &reference)
            #expect(direct == reference, "\(Self.describe(frame)): \(direct.readableBytes) vs \(reference.readableBytes) bytes")
            let decoded = try FrameCodecTests.decode(direct, chunkSize: 4096)
            #expect(decoded == [frame.wireFrame], "\(Self.describe(frame)) does not decode to itself")
        }
    }

    @Test("several frames appended to one buffer keep their boundaries")
    func appendsToPendingBuffer() throws {
        let encoder = FrameEncoder()
        let frames: [OutboundFrame] = [
            .headers(streamID: 9, metadata: [:]),
            .message(streamID: 9, bytes: [1, 2, 3]),
            .close(streamID: 9, code: .ok, message: "", trailers: [:]),
            .other(.ping(payload: 5, ack: true)),
        ]
        var buffer = ByteBuffer()
        for frame in frames { try encoder.encode(frame, into: &buffer) }
        // Headers 8 bytes, Message 13, each with its 4-byte length.
        #expect(Array(buffer.readableBytesView.prefix(8)) == [0, 0, 0, 4, 0x08, 9, 0x1A, 0])
        #expect(Array(buffer.readableBytesView.dropFirst(8).prefix(13)) == [0, 0, 0, 9, 0x08, 9, 0x22, 5, 0x0A, 3, 1, 2, 3])
        #expect(try FrameCodecTests.decode(buffer, chunkSize: 1) == frames.map(\.wireFrame))
    }

    @Test("a frame over the limit is refused with its real size and nothing is written")
    func refusesOversized() throws {
        let encoder = FrameEncoder(maximumFrameSize: 100)
        var metadata = Metadata()
        metadata.addString(String(repeating: "x", count: 120), forKey: "k")
        let oversized: [OutboundFrame] = [
            .message(streamID: 1, bytes: [UInt8](repeating: 1, count: 101)),
            .headers(streamID: 1, metadata: metadata),
            .open(streamID: 1, method: "/a.B/C", metadata: metadata, timeoutMicros: 0),
            .close(streamID: 1, code: .internalError, message: String(repeating: "m", count: 100), trailers: [:]),
        ]
        for frame in oversized {
            var buffer = ByteBuffer()
            var reference = ByteBuffer()
            let expected = #expect(throws: FrameEncodingError.self) { try encoder.encode(frame.wireFrame, into: &reference) }
            let actual = #expect(throws: FrameEncodingError.self) { try encoder.encode(frame, into: &buffer) }
            #expect(actual == expected)
            #expect(buffer.readableBytes == 0)
        }
    }

    static func describe(_ frame: OutboundFrame) -> String {
        switch frame {
        case .open(let id, let method, let metadata, let timeout): return "Open(\(id), \(method), \(metadata.count) entries, \(timeout))"
        case .headers(let id, let metadata): return "Headers(\(id), \(metadata.count) entries)"
        case .message(let id, let bytes): return "Message(\(id), \(bytes.count) bytes)"
        case .halfClose(let id): return "HalfClose(\(id))"
        case .close(let id, let code, let message, let trailers): return "Close(\(id), \(code), \(message.utf8.count) bytes, \(trailers.count) entries)"
        case .other(let frame): return "other(\(frame.kindName))"
        }
    }
}
