import NIOCore
import OneSealProto

/// A frame as the connection handlers take it from `CallFrameDecoder`.
///
/// Why: the frames of an ordinary unary call are tiny and always written the same way (by this
/// transport, by the C SDK, by any protobuf library: fields in order, defaults omitted). Reading
/// those through SwiftProtobuf cost a generic decode pass, a `Wire_Frame` and, for a Message, a
/// `Data` copy that was then copied again into `[UInt8]`. In that exact form they are read
/// directly; any other byte sequence — other kinds, metadata, a non-zero code, fields in another
/// order, unknown fields — goes to SwiftProtobuf as before (`.frame`), so what a frame means does
/// not depend on which path read it (FrameReaderTests compares both on every shape).
public enum InboundFrame: Sendable, Equatable {
    /// `Message{data}` on a stream.
    case message(streamID: UInt32, bytes: [UInt8])
    /// `HalfClose{}` on a stream.
    case halfClose(streamID: UInt32)
    /// `Headers{}` without metadata.
    case emptyHeaders(streamID: UInt32)
    /// `Close{}`: code 0 (OK), no message, no trailers.
    case okClose(streamID: UInt32)
    /// Anything else, as SwiftProtobuf read it.
    case frame(Wire_Frame)

    /// The same frame as a `Wire_Frame`.
    public var wireFrame: Wire_Frame {
        switch self {
        case .message(let id, let bytes): return .message(id, bytes)
        case .halfClose(let id): return .halfClose(id)
        case .emptyHeaders(let id): return .headers(id, [:])
        case .okClose(let id): return .close(id, code: .ok, message: "")
        case .frame(let frame): return frame
        }
    }
}

/// `FrameDecoder` for the connection handlers: the same framing, limit and errors, with the
/// direct path of `InboundFrame` for the common call frames.
public struct CallFrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = InboundFrame

    public let maximumFrameSize: Int

    public init(maximumFrameSize: Int = WireConfiguration.defaultMaximumFrameSize) {
        self.maximumFrameSize = maximumFrameSize
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> InboundFrame? {
        guard let body = try FrameDecoder.nextBody(&buffer, maximumFrameSize: self.maximumFrameSize) else { return nil }
        if let direct = Self.readCallFrame(body) { return direct }
        return .frame(try FrameDecoder.parse(body: body))
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> InboundFrame? {
        if let frame = try self.decode(buffer: &buffer) { return frame }
        guard buffer.readableBytes > 0 else { return nil }
        if let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) {
            throw FrameDecodingError.truncatedFrame(expected: Int(length), received: buffer.readableBytes - 4)
        }
        throw FrameDecodingError.truncatedFrame(expected: 4, received: buffer.readableBytes)
    }

    /// The direct path: `[0x08 stream_id]` then exactly one kind field running to the end of the
    /// body, in the forms `InboundFrame` names; nil for anything else.
    static func readCallFrame(_ body: ByteBuffer) -> InboundFrame? {
        body.withUnsafeReadableBytes { bytes -> InboundFrame? in
            var index = 0
            var streamID: UInt32 = 0
            if index < bytes.count, bytes[index] == 0x08 {
                index += 1
                guard let value = Self.varint(bytes, &index), value != 0, value <= UInt64(UInt32.max) else { return nil }
                streamID = UInt32(value)
            }
            guard index < bytes.count else { return nil }
            let tag = bytes[index]
            index += 1
            guard let length = Self.varint(bytes, &index), length == UInt64(bytes.count - index) else { return nil }
            switch tag {
            case 0x22:  // message = 4
                guard length > 0 else { return .message(streamID: streamID, bytes: []) }
                guard bytes[index] == 0x0A else { return nil }  // data = 1
                index += 1
                guard let count = Self.varint(bytes, &index), count == UInt64(bytes.count - index) else { return nil }
                return .message(streamID: streamID, bytes: Array(bytes[index...]))
            case 0x2A:  // half_close = 5
                return length == 0 ? .halfClose(streamID: streamID) : nil
            case 0x1A:  // headers = 3
                return length == 0 ? .emptyHeaders(streamID: streamID) : nil
            case 0x32:  // close = 6
                return length == 0 ? .okClose(streamID: streamID) : nil
            default:
                return nil
            }
        }
    }

    /// A base-128 varint at `index` (at most 10 bytes), advancing past it; nil if cut short.
    private static func varint(_ bytes: UnsafeRawBufferPointer, _ index: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while index < bytes.count, shift < 64 {
            let byte = bytes[index]
            index += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }
}
