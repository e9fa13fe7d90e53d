import GRPCCore
import NIOCore
import OneSealProto

/// A frame a call sends, before it is bytes: what the connection handlers hand to
/// `FrameEncoder.encode(_:into:)`.
///
/// Why not a `Wire_Frame`: building one per call part cost a `Data` copy of every message, an
/// array of `Wire_MetadataEntry` for every (usually empty) metadata, and SwiftProtobuf's generic
/// size-then-serialise pass into a fresh `[UInt8]` that was then copied again into the outbound
/// buffer. The call frames are written straight into the buffer instead, byte for byte what
/// SwiftProtobuf writes for the same `Wire_Frame` (FrameWriterTests compares the two); any other
/// frame still goes through SwiftProtobuf as `.other`.
public enum OutboundFrame: Sendable, Equatable {
    case open(streamID: UInt32, method: String, metadata: Metadata, timeoutMicros: UInt64)
    case headers(streamID: UInt32, metadata: Metadata)
    case message(streamID: UInt32, bytes: [UInt8])
    case halfClose(streamID: UInt32)
    case close(streamID: UInt32, code: Status.Code, message: String, trailers: Metadata)
    /// Any other frame (Ping, GoAway, Cancel, refusals), serialised by SwiftProtobuf.
    case other(Wire_Frame)

    /// The same frame, to be written by the direct path when it is a call frame (the raw
    /// baseline of the benchmark replays captured frames through the same encoder this way).
    /// A metadata entry without a value becomes the empty value of its kind, as it does for a
    /// call. Metadata the wire rules refuse (`Metadata(validating:limits:)`) is never converted:
    /// such a frame goes out as `.other`, exactly as given.
    public init(_ frame: Wire_Frame) {
        let limits = MetadataLimits(maximumEntries: .max, maximumBytes: .max)
        switch frame.kind {
        case .open(let open):
            guard let metadata = try? Metadata(validating: open.metadata, limits: limits) else {
                self = .other(frame)
                return
            }
            self = .open(streamID: frame.streamID, method: open.method, metadata: metadata, timeoutMicros: open.timeoutMicros)
        case .headers(let headers):
            guard let metadata = try? Metadata(validating: headers.metadata, limits: limits) else {
                self = .other(frame)
                return
            }
            self = .headers(streamID: frame.streamID, metadata: metadata)
        case .message(let message):
            self = .message(streamID: frame.streamID, bytes: [UInt8](message.data))
        case .halfClose:
            self = .halfClose(streamID: frame.streamID)
        case .close(let close) where Status.Code(rawValue: Int(close.code)) != nil:
            guard let trailers = try? Metadata(validating: close.trailers, limits: limits) else {
                self = .other(frame)
                return
            }
            self = .close(streamID: frame.streamID, code: Status.Code(wire: close.code), message: close.message, trailers: trailers)
        default:
            self = .other(frame)
        }
    }

    /// The same frame on another stream.
    public func withStreamID(_ id: UInt32) -> OutboundFrame {
        switch self {
        case .open(_, let method, let metadata, let timeoutMicros):
            return .open(streamID: id, method: method, metadata: metadata, timeoutMicros: timeoutMicros)
        case .headers(_, let metadata): return .headers(streamID: id, metadata: metadata)
        case .message(_, let bytes): return .message(streamID: id, bytes: bytes)
        case .halfClose: return .halfClose(streamID: id)
        case .close(_, let code, let message, let trailers):
            return .close(streamID: id, code: code, message: message, trailers: trailers)
        case .other(var frame):
            frame.streamID = id
            return .other(frame)
        }
    }

    /// The same frame as a `Wire_Frame` (tests, logs; not the send path).
    public var wireFrame: Wire_Frame {
        switch self {
        case .open(let id, let method, let metadata, let timeoutMicros):
            return .open(id, method: method, metadata: metadata.wireEntries, timeoutMicros: timeoutMicros)
        case .headers(let id, let metadata):
            return .headers(id, metadata)
        case .message(let id, let bytes):
            return .message(id, bytes)
        case .halfClose(let id):
            return .halfClose(id)
        case .close(let id, let code, let message, let trailers):
            return .close(id, code: code, message: message, trailers: trailers)
        case .other(let frame):
            return frame
        }
    }
}

extension FrameEncoder {
    /// Appends one frame to `buffer`: the call frames written directly (see `OutboundFrame`),
    /// others through SwiftProtobuf. Refuses (and writes nothing) when it is over the limit.
    public func encode(_ frame: OutboundFrame, into buffer: inout ByteBuffer) throws {
        var writer = ProtobufWriter()
        switch frame {
        case .other(let frame):
            try self.encode(frame, into: &buffer)
            return
        case .open(let id, let method, let metadata, let timeoutMicros):
            let inner = ProtobufWriter.stringFieldSize(method)
                + ProtobufWriter.metadataFieldSize(metadata)
                + (timeoutMicros == 0 ? 0 : 1 + ProtobufWriter.varintSize(timeoutMicros))
            let body = ProtobufWriter.frameSize(streamID: id, inner: inner)
            try self.checkSize(body)
            writer.begin(body, in: &buffer)
            writer.frameHeader(streamID: id, kind: 2, inner: inner, in: &buffer)
            writer.stringField(1, method, in: &buffer)
            writer.metadataField(2, metadata, in: &buffer)
            if timeoutMicros != 0 {
                buffer.writeInteger(UInt8(3 << 3))
                writer.varint(timeoutMicros, in: &buffer)
            }
        case .headers(let id, let metadata):
            let inner = ProtobufWriter.metadataFieldSize(metadata)
            let body = ProtobufWriter.frameSize(streamID: id, inner: inner)
            try self.checkSize(body)
            writer.begin(body, in: &buffer)
            writer.frameHeader(streamID: id, kind: 3, inner: inner, in: &buffer)
            writer.metadataField(1, metadata, in: &buffer)
        case .message(let id, let bytes):
            let inner = bytes.isEmpty ? 0 : 1 + ProtobufWriter.varintSize(UInt64(bytes.count)) + bytes.count
            let body = ProtobufWriter.frameSize(streamID: id, inner: inner)
            try self.checkSize(body)
            writer.begin(body, in: &buffer)
            writer.frameHeader(streamID: id, kind: 4, inner: inner, in: &buffer)
            if !bytes.isEmpty {
                buffer.writeInteger(UInt8(1 << 3 | 2))
                writer.varint(UInt64(bytes.count), in: &buffer)
                buffer.writeBytes(bytes)
            }
        case .halfClose(let id):
            let body = ProtobufWriter.frameSize(streamID: id, inner: 0)
            writer.begin(body, in: &buffer)
            writer.frameHeader(streamID: id, kind: 5, inner: 0, in: &buffer)
        case .close(let id, let code, let message, let trailers):
            // int32 on the wire: a negative value is sign-extended to 10 bytes (never the case
            // for a gRPC status code, but this is what protobuf specifies).
            let wireCode = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: code.rawValue)))
            let inner = (wireCode == 0 ? 0 : 1 + ProtobufWriter.varintSize(wireCode))
                + ProtobufWriter.stringFieldSize(message)
                + ProtobufWriter.metadataFieldSize(trailers)
            let body = ProtobufWriter.frameSize(streamID: id, inner: inner)
            try self.checkSize(body)
            writer.begin(body, in: &buffer)
            writer.frameHeader(streamID: id, kind: 6, inner: inner, in: &buffer)
            if wireCode != 0 {
                buffer.writeInteger(UInt8(1 << 3))
                writer.varint(wireCode, in: &buffer)
            }
            writer.stringField(2, message, in: &buffer)
            writer.metadataField(3, trailers, in: &buffer)
        }
        writer.end(in: buffer)
    }

    private func checkSize(_ body: Int) throws {
        guard body <= self.maximumFrameSize else {
            throw FrameEncodingError.frameTooLarge(length: body, maximum: self.maximumFrameSize)
        }
    }
}

/// The few protobuf encoding rules the call frames need (proto3: scalar fields at their default
/// are omitted, a set oneof member is always written, fields in field-number order, which is
/// what SwiftProtobuf does).
struct ProtobufWriter {
    /// Where the frame started and how long its body should be: checked at `end` in debug builds.
    private var start = 0
    private var expected = 0

    static func varintSize(_ value: UInt64) -> Int {
        // 1 byte per 7 bits, at least one.
        let bits = 64 - value.leadingZeroBitCount
        return bits == 0 ? 1 : (bits + 6) / 7
    }

    /// A length-delimited field (tag, length, content) of `content` bytes.
    static func delimitedSize(_ content: Int) -> Int {
        1 + varintSize(UInt64(content)) + content
    }

    /// stream_id (omitted at 0) and the oneof member holding `inner` bytes.
    static func frameSize(streamID: UInt32, inner: Int) -> Int {
        (streamID == 0 ? 0 : 1 + varintSize(UInt64(streamID))) + delimitedSize(inner)
    }

    static func stringFieldSize(_ string: String) -> Int {
        let count = string.utf8.count
        return count == 0 ? 0 : delimitedSize(count)
    }

    /// A `MetadataEntry`'s own content: key (omitted when empty), then the value member, which
    /// is always written since it is a set oneof.
    static func entrySize(key: String, value: Metadata.Value) -> Int {
        let valueCount: Int
        switch value {
        case .string(let text): valueCount = text.utf8.count
        case .binary(let bytes): valueCount = bytes.count
        }
        return stringFieldSize(key) + delimitedSize(valueCount)
    }

    /// A repeated `MetadataEntry` field: one length-delimited entry per element.
    static func metadataFieldSize(_ metadata: Metadata) -> Int {
        guard !metadata.isEmpty else { return 0 }
        var size = 0
        for element in metadata { size += delimitedSize(entrySize(key: element.key, value: element.value)) }
        return size
    }

    mutating func begin(_ body: Int, in buffer: inout ByteBuffer) {
        buffer.reserveCapacity(minimumWritableBytes: 4 + body)
        buffer.writeInteger(UInt32(body))
        self.start = buffer.writerIndex
        self.expected = body
    }

    func end(in buffer: ByteBuffer) {
        assert(buffer.writerIndex - self.start == self.expected, "frame size computed wrongly")
    }

    func varint(_ value: UInt64, in buffer: inout ByteBuffer) {
        var value = value
        while value >= 0x80 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        buffer.writeInteger(UInt8(value))
    }

    func frameHeader(streamID: UInt32, kind: UInt8, inner: Int, in buffer: inout ByteBuffer) {
        if streamID != 0 {
            buffer.writeInteger(UInt8(1 << 3))
            self.varint(UInt64(streamID), in: &buffer)
        }
        buffer.writeInteger(kind << 3 | 2)
        self.varint(UInt64(inner), in: &buffer)
    }

    func stringField(_ field: UInt8, _ string: String, in buffer: inout ByteBuffer) {
        let count = string.utf8.count
        guard count > 0 else { return }
        buffer.writeInteger(field << 3 | 2)
        self.varint(UInt64(count), in: &buffer)
        buffer.writeString(string)
    }

    func metadataField(_ field: UInt8, _ metadata: Metadata, in buffer: inout ByteBuffer) {
        guard !metadata.isEmpty else { return }
        for element in metadata {
            buffer.writeInteger(field << 3 | 2)
            self.varint(UInt64(Self.entrySize(key: element.key, value: element.value)), in: &buffer)
            self.stringField(1, element.key, in: &buffer)
            switch element.value {
            case .string(let text):
                buffer.writeInteger(UInt8(2 << 3 | 2))
                self.varint(UInt64(text.utf8.count), in: &buffer)
                buffer.writeString(text)
            case .binary(let bytes):
                buffer.writeInteger(UInt8(3 << 3 | 2))
                self.varint(UInt64(bytes.count), in: &buffer)
                buffer.writeBytes(bytes)
            }
        }
    }
}
