import Foundation
import GRPCCore
import GRPCProtobuf
import OneSealAuth
import OneSealPrivacy
import OneSealProto
import OneSealStore
import OneSealTestSupport
import OneSealWire
import Testing

/// The five executables as operators run them: real processes, real PostgreSQL, real TCP.
@Suite("Service executables")
struct ServiceExecutableTests {
    static let services = ["intake", "approval", "certificate", "supervision", "evaluation"]

    @Test("each starts, migrates, serves health, refuses unknown methods, and stops on SIGTERM", arguments: services)
    func lifecycle(service: String) async throws {
        let key = TokenSigningKey.generate(issuer: "371300")
        try await withTestDatabase(prefix: service) { client, database in
            let process = try ServiceProcess(
                executable: "oneseal-\(service)",
                environment: [
                    "ONESEAL_NODE": "371300",
                    "ONESEAL_PORT": "0",
                    "ONESEAL_METRICS_PORT": "off",
                    "ONESEAL_DATABASE_URL": database.conninfo,
                    "ONESEAL_TOKEN_PUBLIC_KEYS": key.testTrustEntries,
                    "ONESEAL_DATA_KEY_FILE": try Self.dataKeyFile(),
                ]
            )
            let port = await process.listeningPort()
            guard let port else {
                Issue.record("no listening line; output: \(process.lines) \(process.standardError)")
                process.terminate()
                return
            }
            #expect(process.lines.contains { $0.contains("msg=\"database ready\"") && $0.contains("service=\(service)") })

            try await withGRPCClient(transport: OneSealClientTransport(host: "127.0.0.1", port: port)) { grpc in
                let health = try await Health_Health.Client(wrapping: grpc).check(Health_CheckRequest())
                #expect(health.status == .serving)
                #expect(health.service == service)
                #expect(health.node == "371300")
                #expect(health.components.first?.status == .serving)

                // A method this server does not serve is UNIMPLEMENTED, whatever the token.
                let token = try key.mint(subject: "director-1", role: .director, node: "371300")
                await #expect {
                    _ = try await grpc.unary(
                        request: ClientRequest(message: Health_CheckRequest(), metadata: ["authorization": "Bearer \(token)"]),
                        descriptor: MethodDescriptor(fullyQualifiedService: "oneseal.\(service).v1.Unlisted", method: "Anything"),
                        serializer: ProtobufSerializer<Health_CheckRequest>(),
                        deserializer: ProtobufDeserializer<Health_CheckResponse>(),
                        options: .defaults
                    ) { try $0.message }
                } throws: { error in
                    (error as? RPCError)?.code == .unimplemented
                }
            }

            let applied = try await client.query("SELECT version FROM schema_migrations ORDER BY version")
            let versions = try applied.map { try $0.decode("version", as: Int.self) }
            #expect(versions.first == 1 && versions.suffix(3) == [900_001, 900_002, 900_003])

            process.terminate()  // SIGTERM
            let status = await process.waitForExit()
            #expect(status == 0)
            #expect(process.lines.contains { $0.contains("msg=stopped") })
        }
    }

    @Test("a bad configuration value stops the process at once, naming the variable")
    func badConfiguration() async throws {
        let process = try ServiceProcess(executable: "oneseal-intake", environment: ["ONESEAL_NODE": "12"])
        let status = await process.waitForExit()
        #expect(status == 2)
        #expect(process.standardError.contains("ONESEAL_NODE"))
    }

    @Test("intake refuses to start without the keys that seal personal data")
    func intakeNeedsDataKeys() async throws {
        try await withTestDatabase(prefix: "intake_nokey") { _, database in
            let process = try ServiceProcess(executable: "oneseal-intake", environment: [
                "ONESEAL_NODE": "371300", "ONESEAL_PORT": "0", "ONESEAL_METRICS_PORT": "off", "ONESEAL_DATABASE_URL": database.conninfo,
            ])
            let status = await process.waitForExit()
            #expect(status == 2)
            #expect(process.standardError.contains("ONESEAL_DATA_KEY_FILE"))
        }
    }

    /// A fresh data key file in the temporary directory (mode 0600).
    static func dataKeyFile() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-data-\(UUID().uuidString).key").path
        guard FileManager.default.createFile(atPath: path, contents: Data((DataKeyring.generateKeyText() + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown)
        }
        return path
    }
}
