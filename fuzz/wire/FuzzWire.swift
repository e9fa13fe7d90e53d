// libFuzzer entry point for OneSeal TCP (#15): the bytes a peer can send, through everything that
// reads them before a handler does. Built by scripts/fuzz-wire together with the OneSealWire
// sources it covers (compiled into this module, with coverage), never part of the package.
//
// One input = one connection's inbound byte stream. The first byte picks the read size (TCP may
// split frames anywhere); the rest is cut into frames by `CallFrameDecoder` exactly as the
// connection handlers do, and every frame goes to:
//   - the server state machine (Open → metadata validation, stream rules, refusals), and the
//     frames its answers become (encoded with the direct encoder, as the handler would);
//   - the client state machine, with streams 1...8 open so Headers and Close reach the metadata
//     conversion;
//   - the plain SwiftProtobuf decoder, which must agree with the direct path on every frame;
//   - `FrameBoundaryTracker` (the frame timer), which must see the same frame boundaries.
// Any crash, precondition or assertion (GRPCCore's `-bin` assert included) is a finding.
import GRPCCore
import NIOCore
import OneSealProto

@_cdecl("LLVMFuzzerTestOneInput")
public func oneSealWireFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    WireFuzz.run(UnsafeBufferPointer(start: data, count: size))
    return 0
}

enum WireFuzz {
    /// Small limits so the fuzzer reaches the refusals without megabyte inputs.
    static let configuration: WireConfiguration = {
        var configuration = WireConfiguration()
        configuration.maximumFrameSize = 64 * 1024
        configuration.maximumConcurrentStreams = 4
        configuration.maximumMetadataEntries = 16
        configuration.maximumMetadataBytes = 1_024
        return configuration
    }()

    static func run(_ input: UnsafeBufferPointer<UInt8>) {
        guard let first = input.first else { return }
        let chunk = Int(first % 32) + 1
        let stream = input.dropFirst()

        var decoder = CallFrameDecoder(maximumFrameSize: self.configuration.maximumFrameSize)
        var server = ServerConnectionStateMachine(configuration: self.configuration)
        var client = ClientConnectionStateMachine(metadataLimits: self.configuration.metadataLimits)
        for _ in 0..<8 { _ = client.openStream() }
        let encoder = FrameEncoder(maximumFrameSize: self.configuration.maximumFrameSize)
        var out = ByteBuffer()

        var buffer = ByteBuffer()
        var index = stream.startIndex
        var tracker = FrameBoundaryTracker()
        var decoded = 0
        do {
            while index < stream.endIndex {
                let end = min(index + chunk, stream.endIndex)
                let piece = UnsafeBufferPointer(rebasing: stream[index..<end])
                buffer.writeBytes(piece)
                tracker.consume(UnsafeRawBufferPointer(piece))
                index = end
                while let frame = try decoder.decode(buffer: &buffer) {
                    decoded += 1
                    self.check(frame, server: &server, client: &client, encoder: encoder, out: &out)
                }
                buffer.discardReadBytes()
                // The frame timer's view of the stream (FrameProgressHandler) is the decoder's.
                if tracker.completedFrames != decoded || tracker.isInsideFrame != (buffer.readableBytes > 0) {
                    fatalError("boundary tracker disagrees with the decoder: \(tracker.completedFrames) frames vs \(decoded)")
                }
            }
            while let frame = try decoder.decodeLast(buffer: &buffer, seenEOF: true) {
                self.check(frame, server: &server, client: &client, encoder: encoder, out: &out)
            }
        } catch is FrameDecodingError {
            // The connection would end with a GoAway: a normal outcome.
        } catch {
            fatalError("decoder threw something other than FrameDecodingError: \(error)")
        }
        _ = server.connectionClosed()
        _ = client.connectionClosed()
    }

    static func check(
        _ inbound: InboundFrame,
        server: inout ServerConnectionStateMachine,
        client: inout ClientConnectionStateMachine,
        encoder: FrameEncoder,
        out: inout ByteBuffer
    ) {
        // The direct path and SwiftProtobuf must read the same frame.
        var reencoded = ByteBuffer()
        do {
            try encoder.encode(inbound.wireFrame, into: &reencoded)
        } catch {
            // A frame at the size limit can grow by re-encoding (canonical varints); not a finding.
            return
        }
        var plain = FrameDecoder(maximumFrameSize: Int.max)
        guard let again = try? plain.decode(buffer: &reencoded) else {
            fatalError("a frame the decoder produced does not survive re-encoding: \(inbound)")
        }
        if again != inbound.wireFrame {
            fatalError("direct and SwiftProtobuf paths disagree: \(inbound.wireFrame) vs \(again)")
        }

        switch server.receive(inbound) {
        case .openStream(let id, _, let metadata, _):
            // What the handler does with an accepted call: echo its metadata in Headers, end it.
            let headers = server.send(.metadata(metadata), on: id)
            let status = server.send(.status(Status(code: .ok, message: ""), metadata), on: id)
            for frame in [headers.leading, headers.frame, status.leading, status.frame].compactMap({ $0 }) {
                try? encoder.encode(frame, into: &out)
            }
        case .write(let frame), .writeAndCancel(let frame, _):
            try? encoder.encode(frame, into: &out)
        case .deliverMessage, .finishInbound, .cancelStream, .peerGoingAway, .none:
            break
        }

        switch client.receive(inbound) {
        case .deliver(_, .metadata(let metadata)), .deliver(_, .status(_, let metadata)):
            // Valid metadata must go back out through the direct encoder unchanged.
            try? encoder.encode(OutboundFrame.headers(streamID: 1, metadata: metadata), into: &out)
        case .write(let frame), .failStream(_, _, let frame):
            try? encoder.encode(frame, into: &out)
        default:
            break
        }
        out.clear()
    }
}
