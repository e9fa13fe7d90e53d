import GRPCCore
import NIOCore
import OneSealProto
import Testing

@testable import OneSealWire

/// The frame decoder must give the same frames however TCP splits the bytes, and must refuse a
/// length over the limit from the 4 length bytes alone.
@Suite("Frame codec")
struct FrameCodecTests {
    static let sampleFrames: [Wire_Frame] = [
        .open(1, method: "/oneseal.test.v1.Echo/Unary", metadata: ([("authorization", "Bearer x"), ("x-oneseal-node", "371300")] as Metadata).wireEntries, timeoutMicros: 5_000_000),
        .message(1, Array("你好, OneSeal".utf8)),
        .message(1, []),
        .halfClose(1),
        .ping(payload: 42, ack: false),
        .cancel(3, reason: "user pressed stop"),
        .close(1, code: .invalidArgument, message: "applicant.id_number: checksum mismatch"),
        .goAway(lastStreamID: 7, code: .unavailable, reason: "draining"),
    ]

    static func encodeAll(_ frames: [Wire_Frame], maximum: Int = WireConfiguration.defaultMaximumFrameSize) throws -> ByteBuffer {
        let encoder = FrameEncoder(maximumFrameSize: maximum)
        var buffer = ByteBuffer()
        for frame in frames { try encoder.encode(frame, into: &buffer) }
        return buffer
    }

    /// Feeds `bytes` in chunks of `chunkSize` and returns every frame decoded.
    static func decode(_ bytes: ByteBuffer, chunkSize: Int, maximum: Int = WireConfiguration.defaultMaximumFrameSize) throws -> [Wire_Frame] {
        var processor = NIOSingleStepByteToMessageProcessor(FrameDecoder(maximumFrameSize: maximum))
        var frames: [Wire_Frame] = []
        var remaining = bytes
        while remaining.readableBytes > 0 {
            let chunk = remaining.readSlice(length: min(chunkSize, remaining.readableBytes))!
            try processor.process(buffer: chunk) { frames.append($0) }
        }
        try processor.finishProcessing(seenEOF: true) { frames.append($0) }
        return frames
    }

    @Test("byte by byte gives the same frames", arguments: [1, 2, 3, 5, 7, 64, 100_000])
    func chunked(chunkSize: Int) throws {
        let bytes = try Self.encodeAll(Self.sampleFrames)
        let frames = try Self.decode(bytes, chunkSize: chunkSize)
        #expect(frames == Self.sampleFrames)
    }

    @Test("the length prefix is big-endian and counts only the body")
    func layout() throws {
        let frame = Wire_Frame.ping(payload: 1, ack: true)
        let body: [UInt8] = try frame.serializedBytes()
        let bytes = try Self.encodeAll([frame])
        #expect(bytes.getInteger(at: 0, as: UInt32.self) == UInt32(body.count))
        #expect(bytes.getBytes(at: 4, length: body.count) == body)
        #expect(bytes.readableBytes == 4 + body.count)
    }

    @Test("a length over the limit is refused before the body arrives")
    func oversizedLength() throws {
        var bytes = ByteBuffer()
        bytes.writeInteger(UInt32(4 * 1024 * 1024 + 1))  // no body follows: must fail on the prefix alone
        #expect(throws: FrameDecodingError.frameTooLarge(length: 4 * 1024 * 1024 + 1, maximum: 4 * 1024 * 1024)) {
            _ = try Self.decode(bytes, chunkSize: 4)
        }
    }

    @Test("a configured smaller limit is enforced on both ends")
    func smallLimit() throws {
        let big = Wire_Frame.message(1, [UInt8](repeating: 7, count: 200))
        #expect(throws: FrameEncodingError.self) { _ = try Self.encodeAll([big], maximum: 100) }
        let bytes = try Self.encodeAll([big])
        #expect(throws: FrameDecodingError.self) { _ = try Self.decode(bytes, chunkSize: 1, maximum: 100) }
    }

    @Test("garbage is reported as a malformed frame")
    func garbage() throws {
        var bytes = ByteBuffer()
        bytes.writeInteger(UInt32(6))
        bytes.writeBytes([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect {
            _ = try Self.decode(bytes, chunkSize: 3)
        } throws: { error in
            guard case .malformedFrame(let length, _) = error as? FrameDecodingError else { return false }
            return length == 6
        }
    }

    @Test("a connection ending inside a frame is reported as truncated")
    func truncated() throws {
        var bytes = try Self.encodeAll([Wire_Frame.message(1, Array("hello".utf8))])
        bytes.moveWriterIndex(to: bytes.writerIndex - 2)
        #expect {
            _ = try Self.decode(bytes, chunkSize: 1)
        } throws: { error in
            guard case .truncatedFrame = error as? FrameDecodingError else { return false }
            return true
        }
    }
}
