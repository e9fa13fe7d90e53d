import Foundation
import NIOCore
import NIOPosix
import OneSealProto
import OneSealWire

/// One unary call made by hand against the real transport server, returning every frame it
/// answered with — the templates the raw baseline server replays, so both send the same bytes.
func probeTransportResponse(port: Int, payload: [UInt8], group: any EventLoopGroup) async throws -> [Wire_Frame] {
    let channel = try await ClientBootstrap(group: group)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    var open = Wire_Frame()
    open.streamID = 1
    open.open = Wire_Open()
    open.open.method = BenchEchoService.methodPath
    var message = Wire_Frame()
    message.streamID = 1
    message.message = Wire_Message()
    message.message.data = Data(payload)
    var halfClose = Wire_Frame()
    halfClose.streamID = 1
    halfClose.halfClose = Wire_HalfClose()
    var request = ByteBuffer()
    let encoder = FrameEncoder()
    for frame in [open, message, halfClose] { try encoder.encode(frame, into: &request) }

    var frames: [Wire_Frame] = []
    try await channel.executeThenClose { inbound, outbound in
        try await outbound.write(request)
        let processor = NIOSingleStepByteToMessageProcessor(FrameDecoder())
        loop: for try await chunk in inbound {
            try processor.process(buffer: chunk) { frames.append($0) }
            if frames.contains(where: { if case .close = $0.kind { return true } else { return false } }) { break loop }
        }
    }
    return frames
}

/// Bytes on the wire of one frame: the 4-byte length prefix plus the serialized body.
func wireSize(_ frame: Wire_Frame) -> Int {
    var buffer = ByteBuffer()
    try? FrameEncoder().encode(frame, into: &buffer)
    return buffer.readableBytes
}

func kindName(_ frame: Wire_Frame) -> String {
    switch frame.kind {
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
