import Foundation
import GRPCCore
import OneSealProto
@testable import OneSealWire
import Testing

/// The frames both connection state machines are driven with: one of each kind the protocol has
/// (PROTOCOL.md §4), on the stream a test names.
enum WireFrames {

    enum Kind: String, CaseIterable, CustomStringConvertible {
        case open, headers, message, halfClose, close, cancel, ping, pingAck, goAway, empty
        var description: String { rawValue }
    }

    /// A frame of `kind` on stream `id` (ping, ping ack and GoAway go on stream 0 as the protocol says).
    static func frame(_ kind: Kind, _ id: UInt32) -> Wire_Frame {
        switch kind {
        case .open: return .open(id, method: "/oneseal.test.v1.Echo/Unary", metadata: [], timeoutMicros: 0)
        case .headers: return .headers(id, [:])
        case .message: return .message(id, [1, 2, 3])
        case .halfClose: return .halfClose(id)
        case .close: return .close(id, code: .ok, message: "")
        case .cancel: return .cancel(id, reason: "bye")
        case .ping: return .ping(payload: 7, ack: false)
        case .pingAck: return .ping(payload: 7, ack: true)
        case .goAway: return .goAway(lastStreamID: 0, code: .ok, reason: "maintenance")
        case .empty:
            var frame = Wire_Frame()
            frame.streamID = id
            return frame
        }
    }

    static func describe(_ frame: Wire_Frame) -> String {
        switch frame.kind {
        case .close(let close): return "Close(\(frame.streamID), \(close.code))"
        case .ping(let ping): return ping.ack ? "PingAck(\(ping.payload))" : "Ping(\(ping.payload))"
        default: return "\(frame.kindName)(\(frame.streamID))"
        }
    }
}
