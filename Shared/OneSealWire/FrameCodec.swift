import NIOCore
import SwiftProtobuf
import OneSealProto

/// Why a byte stream could not be read as OneSeal TCP frames. Any of these ends the connection:
/// once framing is lost there is no safe way to find the next frame boundary.
public enum FrameDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The 4-byte length announced more than the receiver accepts; the body was never read.
    case frameTooLarge(length: Int, maximum: Int)
    /// The body was not a valid serialized `oneseal.wire.v1.Frame`.
    case malformedFrame(length: Int, reason: String)
    /// The connection ended in the middle of a frame.
    case truncatedFrame(expected: Int, received: Int)

    public var description: String {
        switch self {
        case .frameTooLarge(let length, let maximum):
            return "frame of \(length) bytes exceeds the maximum of \(maximum) bytes"
        case .malformedFrame(let length, let reason):
            return "frame of \(length) bytes is not a valid oneseal.wire.v1.Frame: \(reason)"
        case .truncatedFrame(let expected, let received):
            return "connection closed inside a frame: expected \(expected) more bytes, got \(received)"
        }
    }

    /// The gRPC status code a peer reports for this failure in its `GoAway`.
    public var statusCode: Int32 {
        switch self {
        case .frameTooLarge: return 8  // RESOURCE_EXHAUSTED
        case .malformedFrame, .truncatedFrame: return 13  // INTERNAL
        }
    }
}

/// Splits a byte stream into `Wire_Frame`s: `u32 big-endian length` + that many bytes of protobuf.
///
/// Pure and event-loop-free, so it can be fed byte by byte in tests exactly as TCP may deliver it.
/// The length is checked against `maximumFrameSize` before waiting for (or allocating) the body.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = Wire_Frame

    public let maximumFrameSize: Int

    public init(maximumFrameSize: Int = WireConfiguration.defaultMaximumFrameSize) {
        self.maximumFrameSize = maximumFrameSize
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> Wire_Frame? {
        guard let body = try Self.nextBody(&buffer, maximumFrameSize: self.maximumFrameSize) else { return nil }
        return try Self.parse(body: body)
    }

    /// The next whole frame body, or nil until all its bytes are there. The length is checked
    /// against the limit before anything waits for (or allocates) the body.
    static func nextBody(_ buffer: inout ByteBuffer, maximumFrameSize: Int) throws -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        let bodyLength = Int(length)
        guard bodyLength <= maximumFrameSize else {
            throw FrameDecodingError.frameTooLarge(length: bodyLength, maximum: maximumFrameSize)
        }
        guard buffer.readableBytes >= 4 + bodyLength else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: bodyLength)!
    }

    /// One frame body (the bytes after the length) through SwiftProtobuf.
    static func parse(body: ByteBuffer) throws -> Wire_Frame {
        do {
            return try Wire_Frame(serializedBytes: ByteBufferBytes(body))
        } catch {
            throw FrameDecodingError.malformedFrame(length: body.readableBytes, reason: "\(error)")
        }
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> Wire_Frame? {
        if let frame = try self.decode(buffer: &buffer) { return frame }
        guard buffer.readableBytes > 0 else { return nil }
        if let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) {
            throw FrameDecodingError.truncatedFrame(expected: Int(length), received: buffer.readableBytes - 4)
        }
        throw FrameDecodingError.truncatedFrame(expected: 4, received: buffer.readableBytes)
    }
}

/// A frame body handed to SwiftProtobuf where it lies, in the received `ByteBuffer`: parsing no
/// longer first copies every body into a fresh `[UInt8]` (one allocation and copy per frame).
struct ByteBufferBytes: SwiftProtobufContiguousBytes {
    var buffer: ByteBuffer

    init(_ buffer: ByteBuffer) {
        self.buffer = buffer
    }

    init(repeating: UInt8, count: Int) {
        self.buffer = ByteBuffer(repeating: repeating, count: count)
    }

    init<S: Sequence>(_ sequence: S) where S.Element == UInt8 {
        self.buffer = ByteBuffer(bytes: sequence)
    }

    var count: Int { self.buffer.readableBytes }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try self.buffer.withUnsafeReadableBytes(body)
    }

    mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try self.buffer.withUnsafeMutableReadableBytes(body)
    }
}

/// Why a frame could not be sent.
public enum FrameEncodingError: Error, Hashable, Sendable, CustomStringConvertible {
    case frameTooLarge(length: Int, maximum: Int)

    public var description: String {
        switch self {
        case .frameTooLarge(let length, let maximum):
            return "frame of \(length) bytes exceeds the maximum of \(maximum) bytes"
        }
    }
}

/// Writes `Wire_Frame`s as `u32 big-endian length` + protobuf body.
public struct FrameEncoder: Sendable {
    public let maximumFrameSize: Int

    public init(maximumFrameSize: Int = WireConfiguration.defaultMaximumFrameSize) {
        self.maximumFrameSize = maximumFrameSize
    }

    /// Appends one encoded frame to `buffer`; refuses (and writes nothing) when it is over the limit,
    /// so a too-large message fails its own call instead of the whole connection.
    public func encode(_ frame: Wire_Frame, into buffer: inout ByteBuffer) throws {
        let body: [UInt8] = try frame.serializedBytes()
        guard body.count <= self.maximumFrameSize else {
            throw FrameEncodingError.frameTooLarge(length: body.count, maximum: self.maximumFrameSize)
        }
        buffer.reserveCapacity(minimumWritableBytes: 4 + body.count)
        buffer.writeInteger(UInt32(body.count))
        buffer.writeBytes(body)
    }

}
