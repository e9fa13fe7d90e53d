import Foundation
import GRPCCore
import OneSealWire
import Testing

@testable import OneSealAuth

/// The interceptor in front of a real server on OneSeal TCP: what a caller with each kind of
/// token gets, and that the handler sees the verified caller.
@Suite("Auth interceptor over the wire")
struct InterceptorTests {
    static let whoAmI = MethodDescriptor(fullyQualifiedService: "oneseal.test.v1.Auth", method: "WhoAmI")

    struct WhoAmIService: RegistrableRPCService {
        func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
            router.registerHandler(forMethod: InterceptorTests.whoAmI, deserializer: Text(), serializer: Text()) { _, _ in
                StreamingServerResponse { writer in
                    let caller = Caller.current
                    try await writer.write("\(caller?.subject ?? "-")/\(caller?.role.rawValue ?? "-")/\(caller?.node ?? "-")")
                    return [:]
                }
            }
        }
    }

    struct Text: MessageSerializer, MessageDeserializer {
        func serialize<Bytes: GRPCContiguousBytes>(_ message: String) throws -> Bytes { Bytes(Array(message.utf8)) }
        func deserialize<Bytes: GRPCContiguousBytes>(_ bytes: Bytes) throws -> String {
            bytes.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        }
    }

    @Test("valid, missing, expired and wrong-role tokens")
    func outcomes() async throws {
        let key = TokenSigningKey.generate(issuer: "371300")
        let countyKey = TokenSigningKey.generate(issuer: "371302")
        let policy = AccessPolicy([Self.whoAmI.fullyQualifiedMethod: MethodRule(roles: [.officer])])
        let transport = OneSealServerTransport(host: "127.0.0.1", port: 0)
        let server = GRPCServer(
            transport: transport,
            services: [WhoAmIService()],
            interceptors: [
                AuthServerInterceptor(
                    verifier: TokenVerifier(trusting: [
                        TrustedTokenKey(key.publicKey, node: "371300"), TrustedTokenKey(key.publicKey, node: "371302"),
                        TrustedTokenKey(countyKey.publicKey, node: "371302"),
                    ]),
                    policy: policy, localNode: "371300"
                )
            ]
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            let port = try await transport.listeningAddress.port!
            try await withGRPCClient(transport: OneSealClientTransport(host: "127.0.0.1", port: port)) { client in
                func call(_ token: String?) async throws -> String {
                    var metadata: Metadata = [:]
                    if let token { metadata.addString("Bearer \(token)", forKey: "authorization") }
                    return try await client.unary(
                        request: ClientRequest(message: "", metadata: metadata),
                        descriptor: Self.whoAmI, serializer: Text(), deserializer: Text(), options: .defaults
                    ) { try $0.message }
                }
                let good = try await call(try key.mint(subject: "officer-1", role: .officer, node: "371300"))
                #expect(good == "officer-1/officer/371300")

                await #expect { _ = try await call(nil) } throws: { ($0 as? RPCError)?.code == .unauthenticated }
                let expired = try key.mint(subject: "o", role: .officer, node: "371300", lifetime: .seconds(1), now: Date().addingTimeInterval(-3600))
                await #expect { _ = try await call(expired) } throws: {
                    ($0 as? RPCError)?.code == .unauthenticated && ($0 as? RPCError)?.message.contains("expired") == true
                }
                let clerk = try key.mint(subject: "c", role: .windowClerk, node: "371300")
                await #expect { _ = try await call(clerk) } throws: { ($0 as? RPCError)?.code == .permissionDenied }
                let county = try key.mint(subject: "o", role: .officer, node: "371302")
                await #expect { _ = try await call(county) } throws: { ($0 as? RPCError)?.code == .permissionDenied }
                // The county's own key claiming the city (issue #15 item 6): not a city token at all.
                let posing = try countyKey.mint(subject: "o", role: .officer, node: "371300")
                await #expect { _ = try await call(posing) } throws: {
                    ($0 as? RPCError)?.code == .unauthenticated && ($0 as? RPCError)?.message.contains("not trusted") == true
                }
            }
            server.beginGracefulShutdown()
            try await group.waitForAll()
        }
    }
}
