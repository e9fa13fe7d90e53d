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

    init(wireEntries: [Wire_MetadataEntry]) {
        self.init()
        self.reserveCapacity(wireEntries.count)
        for entry in wireEntries {
            switch entry.value {
            case .binary(let data): self.addBinary([UInt8](data), forKey: entry.key)
            case .text(let text): self.addString(text, forKey: entry.key)
            case .none: self.addString("", forKey: entry.key)
            }
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
