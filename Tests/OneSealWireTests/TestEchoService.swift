import GRPCCore
import GRPCProtobuf
import OneSealProto
import Synchronization

/// Raw bytes as messages, so transport tests need no generated service.
struct BytesCoder: MessageSerializer, MessageDeserializer {
    typealias Message = [UInt8]
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
    func deserialize<Bytes: GRPCContiguousBytes>(_ bytes: Bytes) throws -> [UInt8] {
        bytes.withUnsafeBytes { Array($0) }
    }
}

/// What the server-side handlers observed, for assertions.
final class HandlerObservations: Sendable {
    private let state = Mutex<(cancelled: [String], started: [String])>(([], []))

    func started(_ tag: String) { self.state.withLock { $0.started.append(tag) } }
    func cancelled(_ tag: String) { self.state.withLock { $0.cancelled.append(tag) } }
    var cancelledTags: [String] { self.state.withLock { $0.cancelled } }
    var startedTags: [String] { self.state.withLock { $0.started } }

    /// Polls until `condition` holds (handlers run on other tasks); false after ~5 s.
    func eventually(_ condition: (HandlerObservations) -> Bool) async -> Bool {
        for _ in 0..<500 {
            if condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition(self)
    }
}

/// A hand-registered test service: `oneseal.test.v1.Echo`.
struct EchoService: RegistrableRPCService {
    static let unary = MethodDescriptor(fullyQualifiedService: "oneseal.test.v1.Echo", method: "Unary")
    static let expand = MethodDescriptor(fullyQualifiedService: "oneseal.test.v1.Echo", method: "Expand")
    static let collect = MethodDescriptor(fullyQualifiedService: "oneseal.test.v1.Echo", method: "Collect")
    static let chat = MethodDescriptor(fullyQualifiedService: "oneseal.test.v1.Echo", method: "Chat")
    static let hang = MethodDescriptor(fullyQualifiedService: "oneseal.test.v1.Echo", method: "Hang")
    static let ping = MethodDescriptor(fullyQualifiedService: "oneseal.test.v1.Echo", method: "ParsePing")
    static let sleep = MethodDescriptor(fullyQualifiedService: "oneseal.test.v1.Echo", method: "Sleep")

    let observations: HandlerObservations

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        // Unary: echoes the message; copies request metadata `x-echo` into the response metadata.
        router.registerHandler(forMethod: Self.unary, deserializer: BytesCoder(), serializer: BytesCoder()) { request, _ in
            var echoed: Metadata = [:]
            for value in request.metadata[stringValues: "x-echo"] { echoed.addString(value, forKey: "x-echo") }
            return StreamingServerResponse(metadata: echoed) { writer in
                for try await message in request.messages { try await writer.write(message) }
                return ["x-trailer": "done"]
            }
        }
        // Server streaming: a request "n" (decimal) gives n numbered messages.
        router.registerHandler(forMethod: Self.expand, deserializer: BytesCoder(), serializer: BytesCoder()) { request, _ in
            StreamingServerResponse { writer in
                for try await message in request.messages {
                    let count = Int(String(decoding: message, as: UTF8.self)) ?? 0
                    for index in 0..<count { try await writer.write(Array("\(index)".utf8)) }
                }
                return [:]
            }
        }
        // Client streaming: answers with the total byte count of all request messages.
        router.registerHandler(forMethod: Self.collect, deserializer: BytesCoder(), serializer: BytesCoder()) { request, _ in
            StreamingServerResponse { writer in
                var total = 0
                for try await message in request.messages { total += message.count }
                try await writer.write(Array("\(total)".utf8))
                return [:]
            }
        }
        // Bidirectional: answers every message with its reverse, as it arrives.
        router.registerHandler(forMethod: Self.chat, deserializer: BytesCoder(), serializer: BytesCoder()) { request, _ in
            StreamingServerResponse { writer in
                for try await message in request.messages { try await writer.write(message.reversed()) }
                return [:]
            }
        }
        // Never answers; records (by the `x-tag` metadata) that it started and whether
        // cancellation reached it, whether it was waiting for a message or sleeping.
        router.registerHandler(forMethod: Self.hang, deserializer: BytesCoder(), serializer: BytesCoder()) { [observations] request, context in
            let tag = request.metadata[stringValues: "x-tag"].first(where: { _ in true }) ?? ""
            observations.started(tag)
            return StreamingServerResponse { _ in
                do {
                    for try await _ in request.messages {}
                    try await Task.sleep(for: .seconds(60))
                } catch {
                    observations.cancelled(tag)
                    throw error
                }
                observations.cancelled("\(tag) (not cancelled: slept 60 s)")
                return [:]
            }
        }
        // Reads its one request (the tag), then sleeps 30 s before answering it; records (by tag)
        // that it started and whether it was cancelled, and whether GRPCCore's RPC handle saw it.
        router.registerHandler(forMethod: Self.sleep, deserializer: BytesCoder(), serializer: BytesCoder()) { [observations] request, context in
            StreamingServerResponse { writer in
                var tag = ""
                for try await message in request.messages { tag = String(decoding: message, as: UTF8.self) }
                observations.started(tag)
                do {
                    try await Task.sleep(for: .seconds(30))
                } catch {
                    observations.cancelled(context.cancellation.isCancelled ? tag : "\(tag) (task cancelled, RPC not)")
                    throw error
                }
                try await writer.write(Array(tag.utf8))
                return [:]
            }
        }
        // Parses a protobuf message, to prove invalid protobuf becomes INVALID_ARGUMENT.
        router.registerHandler(
            forMethod: Self.ping,
            deserializer: ProtobufDeserializer<Wire_Ping>(),
            serializer: ProtobufSerializer<Wire_Ping>()
        ) { request, _ in
            StreamingServerResponse { writer in
                for try await ping in request.messages {
                    var ack = ping
                    ack.ack = true
                    try await writer.write(ack)
                }
                return [:]
            }
        }
    }
}
