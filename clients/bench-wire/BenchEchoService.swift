import GRPCCore

/// Request and response messages as raw bytes, so the benchmark measures the transport and
/// GRPCCore, not a protobuf codec.
struct BytesCoder: MessageSerializer, MessageDeserializer {
    typealias Message = [UInt8]
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
    func deserialize<Bytes: GRPCContiguousBytes>(_ bytes: Bytes) throws -> [UInt8] {
        bytes.withUnsafeBytes { Array($0) }
    }
}

/// A hand-registered unary echo, `/oneseal.bench.v1.Echo/Unary`: the cheapest handler possible,
/// so what is left is the cost of the transport and GRPCCore's call machinery.
struct BenchEchoService: RegistrableRPCService {
    static let unary = MethodDescriptor(fullyQualifiedService: "oneseal.bench.v1.Echo", method: "Unary")
    static let methodPath = "/oneseal.bench.v1.Echo/Unary"

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(forMethod: Self.unary, deserializer: BytesCoder(), serializer: BytesCoder()) { request, _ in
            StreamingServerResponse { writer in
                for try await message in request.messages { try await writer.write(message) }
                return [:]
            }
        }
    }
}
