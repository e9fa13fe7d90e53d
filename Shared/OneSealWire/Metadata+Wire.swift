import Foundation
import GRPCCore
import OneSealProto

extension Metadata {
    /// The metadata as wire entries; binary values travel as bytes, text values as strings.
    var wireEntries: [Wire_MetadataEntry] {
        self.map { element in
            var entry = Wire_MetadataEntry()
            entry.key = element.key
            switch element.value {
            case .string(let text): entry.text = text
            case .binary(let bytes): entry.binary = Data(bytes)
            }
            return entry
        }
    }

    /// The metadata of a frame, checked entry by entry before any of it reaches GRPCCore.
    ///
    /// Why a throwing conversion: GRPCCore's `Metadata` asserts that binary values sit under
    /// `-bin` keys (`KeyValuePair.init`), so one hostile `Open` used to end the whole process, and
    /// it trusts keys and text to be what gRPC allows. Everything from the wire comes through here
    /// (Open on the server, Headers and Close.trailers on the client); nothing unchecked is ever
    /// handed to `addString`/`addBinary`. Rules (gRPC's HTTP/2 spec, PROTOCOL.md §10):
    /// - a key is non-empty and only `0-9 a-z _ - .` (lowercase; gRPC keys are case-insensitive,
    ///   so an uppercase key could alias a lowercase one);
    /// - a key ending in `-bin` carries `binary`, any other key carries `text`; an entry with
    ///   neither is the empty value of its kind;
    /// - text is printable ASCII, 0x20–0x7E (no control bytes to smuggle into logs or headers);
    /// - at most `limits.maximumEntries` entries and `limits.maximumBytes` bytes of keys plus
    ///   values in all, so a single frame cannot pin megabytes for the life of a call.
    public init(validating entries: [Wire_MetadataEntry], limits: MetadataLimits) throws(MetadataValidationError) {
        guard entries.count <= limits.maximumEntries else {
            throw MetadataValidationError(index: nil, key: nil, problem: .tooManyEntries(count: entries.count, maximum: limits.maximumEntries))
        }
        var total = 0
        for entry in entries {
            total += entry.key.utf8.count
            switch entry.value {
            case .text(let text): total += text.utf8.count
            case .binary(let data): total += data.count
            case .none: break
            }
            if total > limits.maximumBytes {
                throw MetadataValidationError(index: nil, key: nil, problem: .tooManyBytes(maximum: limits.maximumBytes))
            }
        }
        self.init()
        self.reserveCapacity(entries.count)
        for (index, entry) in entries.enumerated() {
            let key = entry.key
            guard !key.utf8.isEmpty else { throw MetadataValidationError(index: index, key: key, problem: .emptyKey) }
            guard key.utf8.allSatisfy(Self.isKeyByte) else { throw MetadataValidationError(index: index, key: key, problem: .invalidKey) }
            let isBinaryKey = key.utf8.count >= 4 && key.utf8.suffix(4).elementsEqual("-bin".utf8)
            switch entry.value {
            case .binary(let data):
                guard isBinaryKey else { throw MetadataValidationError(index: index, key: key, problem: .binaryUnderTextKey) }
                self.addBinary([UInt8](data), forKey: key)
            case .text(let text):
                guard !isBinaryKey else { throw MetadataValidationError(index: index, key: key, problem: .textUnderBinaryKey) }
                guard text.utf8.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E }) else {
                    throw MetadataValidationError(index: index, key: key, problem: .invalidText)
                }
                self.addString(text, forKey: key)
            case .none:
                if isBinaryKey { self.addBinary([], forKey: key) } else { self.addString("", forKey: key) }
            }
        }
    }

    /// gRPC's key characters: `0-9 a-z _ - .`.
    static func isKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
            return true
        default:
            return false
        }
    }
}

/// How much metadata one frame (one call's request metadata, response headers or trailers) may carry.
public struct MetadataLimits: Sendable, Hashable {
    public var maximumEntries: Int
    /// Keys plus values, in bytes (protobuf framing not counted).
    public var maximumBytes: Int

    public init(maximumEntries: Int, maximumBytes: Int) {
        self.maximumEntries = maximumEntries
        self.maximumBytes = maximumBytes
    }
}

/// Why metadata from the wire was refused. Its `description` is safe to log and to send back:
/// every byte of the offending key is escaped (`WireText`).
public struct MetadataValidationError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Problem: Hashable, Sendable {
        case emptyKey
        case invalidKey
        case binaryUnderTextKey
        case textUnderBinaryKey
        case invalidText
        case tooManyEntries(count: Int, maximum: Int)
        case tooManyBytes(maximum: Int)
    }

    /// The position of the offending entry (nil for a limit over the whole list).
    public var index: Int?
    /// The offending key as received (unescaped; use `description` for logs).
    public var key: String?
    public var problem: Problem

    /// Limits are RESOURCE_EXHAUSTED, like the frame limit; anything malformed is INVALID_ARGUMENT.
    public var statusCode: Status.Code {
        switch self.problem {
        case .tooManyEntries, .tooManyBytes: return .resourceExhausted
        default: return .invalidArgument
        }
    }

    public var description: String {
        let entry = self.index.map { index in "entry \(index) (key \"\(WireText.escaped(self.key ?? ""))\")" } ?? ""
        switch self.problem {
        case .emptyKey: return "\(entry): empty key"
        case .invalidKey: return "\(entry): a key may hold only 0-9 a-z _ - ."
        case .binaryUnderTextKey: return "\(entry): a binary value needs a key ending in -bin"
        case .textUnderBinaryKey: return "\(entry): a key ending in -bin carries binary, not text"
        case .invalidText: return "\(entry): text values must be printable ASCII (0x20-0x7E)"
        case .tooManyEntries(let count, let maximum): return "\(count) entries (maximum \(maximum))"
        case .tooManyBytes(let maximum): return "more than \(maximum) bytes of keys and values"
        }
    }
}

extension Wire_Frame {
    static func open(_ id: UInt32, method: String, metadata: [Wire_MetadataEntry], timeoutMicros: UInt64) -> Self {
        var open = Wire_Open()
        open.method = method
        open.metadata = metadata
        open.timeoutMicros = timeoutMicros
        return .init(streamID: id, kind: .open(open))
    }

    static func headers(_ id: UInt32, _ metadata: Metadata) -> Self {
        var headers = Wire_Headers()
        headers.metadata = metadata.wireEntries
        return .init(streamID: id, kind: .headers(headers))
    }

    static func message(_ id: UInt32, _ bytes: [UInt8]) -> Self {
        var message = Wire_Message()
        message.data = Data(bytes)
        return .init(streamID: id, kind: .message(message))
    }

    static func halfClose(_ id: UInt32) -> Self {
        .init(streamID: id, kind: .halfClose(Wire_HalfClose()))
    }

    static func close(_ id: UInt32, code: Status.Code, message: String, trailers: Metadata = [:]) -> Self {
        var close = Wire_Close()
        close.code = Int32(code.rawValue)
        close.message = message
        close.trailers = trailers.wireEntries
        return .init(streamID: id, kind: .close(close))
    }

    static func cancel(_ id: UInt32, reason: String) -> Self {
        var cancel = Wire_Cancel()
        cancel.reason = reason
        return .init(streamID: id, kind: .cancel(cancel))
    }

    static func ping(payload: UInt64, ack: Bool) -> Self {
        var ping = Wire_Ping()
        ping.payload = payload
        ping.ack = ack
        return .init(streamID: 0, kind: .ping(ping))
    }

    static func goAway(lastStreamID: UInt32, code: Status.Code, reason: String) -> Self {
        var goAway = Wire_GoAway()
        goAway.lastStreamID = lastStreamID
        goAway.code = Int32(code.rawValue)
        goAway.reason = reason
        return .init(streamID: 0, kind: .goAway(goAway))
    }

    init(streamID: UInt32, kind: Wire_Frame.OneOf_Kind) {
        self.init()
        self.streamID = streamID
        self.kind = kind
    }

    /// A short name of the frame's kind for log lines and error messages.
    var kindName: String {
        switch self.kind {
        case .open: return "Open"
        case .headers: return "Headers"
        case .message: return "Message"
        case .halfClose: return "HalfClose"
        case .close: return "Close"
        case .cancel: return "Cancel"
        case .ping: return "Ping"
        case .goAway: return "GoAway"
        case .none: return "empty"
        }
    }
}

extension Status.Code {
    /// A status code from the wire; unknown numbers become UNKNOWN rather than a crash.
    init(wire value: Int32) {
        self = Status.Code(rawValue: Int(value)) ?? .unknown
    }
}
