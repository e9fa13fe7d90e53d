import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import OneSealAuth
import OneSealProto
import OneSealServiceKit
import OneSealTestSupport
import OneSealTLS
import OneSealWire
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The second door of every service (issue #17 item 4): standard gRPC over HTTP/2 on
/// `ONESEAL_GRPC_PORT`, with the OneSeal port's interceptors and limits, over TLS — called here
/// with grpc-swift-nio-transport's own HTTP/2 client, as any gRPC runtime would.
@Suite("gRPC over HTTP/2 port")
struct GRPCHTTP2PortTests {
    /// A throwaway node CA (as `oneseal certs init` makes it) with intake@371302's server
    /// certificate for 127.0.0.1 and a client certificate (an integrator's, `portal@371302`).
    static func certificates() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-grpc-ca-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let authority = try NodeCertificateAuthority.create(node: "371302")
        try authority.certificatePEM.write(to: directory.appendingPathComponent("ca.pem"), atomically: true, encoding: .utf8)
        for (name, service) in [("server", "intake"), ("client", "portal")] {
            let issued = try authority.issue(service: service, hosts: ["localhost", "127.0.0.1"])
            try issued.certificatePEM.write(to: directory.appendingPathComponent("\(name).pem"), atomically: true, encoding: .utf8)
            try issued.keyPEM.write(to: directory.appendingPathComponent("\(name).key"), atomically: true, encoding: .utf8)
        }
        return directory
    }

    /// The gRPC port from the `msg=listening … protocol=grpc-http2` line.
    static func grpcPort(of process: ServiceProcess) async -> Int? {
        guard let line = await process.waitForLine(containing: "msg=listening", "protocol=grpc-http2") else { return nil }
        guard let address = line.split(separator: " ").first(where: { $0.hasPrefix("address=") }) else { return nil }
        return Int(address.split(separator: ":").last ?? "")
    }

    static func client(port: Int, ca: URL, clientCertificate: Bool = false) throws -> HTTP2ClientTransport.Posix {
        let trust: TLSConfig.TrustRootsSource = .certificates([.file(path: ca.appendingPathComponent("ca.pem").path, format: .pem)])
        let security: HTTP2ClientTransport.Posix.TransportSecurity = clientCertificate
            ? .mTLS(
                certificateChain: [.file(path: ca.appendingPathComponent("client.pem").path, format: .pem)],
                privateKey: .file(path: ca.appendingPathComponent("client.key").path, format: .pem)
            ) { $0.trustRoots = trust }
            : .tls { $0.trustRoots = trust }
        return try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: security)
    }

    @Test("an executable serves health, auth and request validation on its TLS HTTP/2 port, and refuses an oversized message")
    func tlsPortRunsTheSameInterceptors() async throws {
        let ca = try Self.certificates()
        defer { try? FileManager.default.removeItem(at: ca) }
        let key = TokenSigningKey.generate(issuer: "371302")
        try await withTestDatabase(prefix: "grpchttp2") { _, database in
            let process = try ServiceProcess(
                executable: "oneseal-intake",
                environment: [
                    "ONESEAL_NODE": "371302", "ONESEAL_PORT": "0", "ONESEAL_METRICS_PORT": "0", "ONESEAL_GRPC_PORT": "0",
                    "ONESEAL_TLS_CERT_FILE": ca.appendingPathComponent("server.pem").path,
                    "ONESEAL_TLS_KEY_FILE": ca.appendingPathComponent("server.key").path,
                    "ONESEAL_TLS_TRUST_FILE": ca.appendingPathComponent("ca.pem").path,
                    "ONESEAL_DATABASE_URL": database.conninfo,
                    "ONESEAL_TOKEN_PUBLIC_KEYS": key.testTrustEntries,
                    "ONESEAL_DATA_KEY_FILE": try ServiceExecutableTests.dataKeyFile(),
                ]
            )
            defer { process.terminate() }
            guard let port = await Self.grpcPort(of: process) else {
                Issue.record("no gRPC HTTP/2 port: \(process.lines) \(process.standardError)")
                return
            }
            #expect(process.lines.contains { $0.contains("protocol=grpc-http2") && $0.contains("tls=server") })
            // The contracts for the integrator's tools, from the metrics port (decision G3).
            if let metricsLine = await process.waitForLine(containing: "metrics endpoint listening"),
               let metricsPort = metricsLine.split(separator: " ").first(where: { $0.hasPrefix("address=") })?.split(separator: ":").last.flatMap({ Int($0) }) {
                let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(metricsPort)/protos.tar")!)
                #expect((response as? HTTPURLResponse)?.statusCode == 200)
                #expect(Array(data) == ProtoArchive.tar)
            } else {
                Issue.record("no metrics endpoint: \(process.lines)")
            }
            try await withGRPCClient(transport: try Self.client(port: port, ca: ca)) { grpc in
                let health = try await Health_Health.Client(wrapping: grpc).check(Health_CheckRequest())
                #expect(health.service == "intake")
                #expect(health.node == "371302")

                // The auth interceptor: no token on a non-public method.
                let intake = Intake_IntakeService.Client(wrapping: grpc)
                let anonymous = await #expect(throws: RPCError.self) {
                    _ = try await intake.getApplication(Intake_GetApplicationRequest())
                }
                #expect(anonymous?.code == .unauthenticated)

                // With a token the call passes auth and meets request validation, naming the field.
                var metadata = Metadata()
                metadata.addString("Bearer " + (try key.mint(subject: "clerk-1", role: .windowClerk, node: "371302")), forKey: "authorization")
                var request = Intake_GetApplicationRequest()
                request.applicationID = String(repeating: "x", count: 300)
                let invalid = await #expect(throws: RPCError.self) {
                    _ = try await intake.getApplication(request, metadata: metadata)
                }
                #expect(invalid?.code == .invalidArgument)
                #expect(invalid?.message.contains("application_id") == true, "\(String(describing: invalid))")
                #expect(invalid.map { Array($0.metadata[binaryValues: "oneseal-bad-request-bin"]).isEmpty } == false)

                // The message-size limit: OneSeal TCP's 4 MiB frame limit. grpc-swift-nio-transport
                // 2.9.2 resets the stream (RST_STREAM) rather than answering RESOURCE_EXHAUSTED, so
                // the caller sees the call fail; the connection and the next call are unharmed.
                var huge = Intake_GetItemRequest()
                huge.implementationCode = String(repeating: "9", count: WireConfiguration.defaultMaximumFrameSize + 1)
                let tooLarge = await #expect(throws: RPCError.self) {
                    _ = try await intake.getItem(huge)
                }
                #expect([.resourceExhausted, .unavailable, .cancelled].contains(tooLarge?.code), "\(String(describing: tooLarge))")
                #expect(try await Health_Health.Client(wrapping: grpc).check(Health_CheckRequest()).service == "intake")
            }
        }
    }

    @Test("with ONESEAL_GRPC_CLIENT_CERTIFICATE=required a client without a certificate from the trusted CA is refused")
    func mutualTLS() async throws {
        let ca = try Self.certificates()
        defer { try? FileManager.default.removeItem(at: ca) }
        try await withTestDatabase(prefix: "grpcmtls") { _, database in
            let process = try ServiceProcess(
                executable: "oneseal-intake",
                environment: [
                    "ONESEAL_NODE": "371302", "ONESEAL_PORT": "0", "ONESEAL_METRICS_PORT": "off", "ONESEAL_GRPC_PORT": "0",
                    "ONESEAL_TLS_CERT_FILE": ca.appendingPathComponent("server.pem").path,
                    "ONESEAL_TLS_KEY_FILE": ca.appendingPathComponent("server.key").path,
                    "ONESEAL_TLS_TRUST_FILE": ca.appendingPathComponent("ca.pem").path,
                    "ONESEAL_GRPC_CLIENT_CERTIFICATE": "required",
                    "ONESEAL_DATABASE_URL": database.conninfo,
                    "ONESEAL_TOKEN_PUBLIC_KEYS": TokenSigningKey.generate(issuer: "x").testTrustEntries,
                    "ONESEAL_DATA_KEY_FILE": try ServiceExecutableTests.dataKeyFile(),
                ]
            )
            defer { process.terminate() }
            guard let port = await Self.grpcPort(of: process) else {
                Issue.record("no gRPC HTTP/2 port: \(process.lines) \(process.standardError)")
                return
            }
            #expect(process.lines.contains { $0.contains("protocol=grpc-http2") && $0.contains("tls=mutual") })
            try await withGRPCClient(transport: try Self.client(port: port, ca: ca, clientCertificate: true)) { grpc in
                let health = try await Health_Health.Client(wrapping: grpc).check(Health_CheckRequest())
                #expect(health.service == "intake")
            }
            try await withGRPCClient(transport: try Self.client(port: port, ca: ca)) { grpc in
                var options = CallOptions.defaults
                options.timeout = .seconds(5)
                let refused = await #expect(throws: RPCError.self) {
                    _ = try await Health_Health.Client(wrapping: grpc).check(Health_CheckRequest(), options: options)
                }
                #expect(refused?.code == .unavailable || refused?.code == .deadlineExceeded, "\(String(describing: refused))")
            }
        }
    }

    @Test("ONESEAL_GRPC_PORT and the TLS variables are read strictly")
    func configuration() throws {
        let wire = WireConfiguration()
        #expect(try GRPCHTTP2Configuration.fromEnvironment([:], host: "127.0.0.1", wire: wire) == nil)
        #expect(try GRPCHTTP2Configuration.fromEnvironment(["ONESEAL_GRPC_PORT": "off"], host: "127.0.0.1", wire: wire) == nil)
        let plain = try #require(try GRPCHTTP2Configuration.fromEnvironment(["ONESEAL_GRPC_PORT": "9101"], host: "0.0.0.0", wire: wire))
        #expect(plain.port == 9101)
        #expect(plain.host == "0.0.0.0")
        #expect(plain.tls == nil)
        // OneSeal TCP's limits, one for one.
        #expect(plain.maximumRequestBytes == wire.maximumFrameSize)
        #expect(plain.maximumConcurrentStreams == wire.maximumConcurrentStreams)
        #expect(plain.maximumServerCalls == wire.maximumServerStreams)
        #expect(plain.maximumConnections == wire.maximumConnections)
        #expect(plain.idleTimeout == wire.idleTimeout)

        func refusal(_ environment: [String: String]) -> String? {
            do {
                _ = try GRPCHTTP2Configuration.fromEnvironment(environment, host: "127.0.0.1", wire: wire)
                return nil
            } catch let error as NodeConfiguration.Invalid {
                return error.variable
            } catch {
                return "\(error)"
            }
        }
        let existing = #filePath
        #expect(refusal(["ONESEAL_GRPC_PORT": "70000"]) == "ONESEAL_GRPC_PORT")
        #expect(refusal(["ONESEAL_GRPC_PORT": "0", "ONESEAL_TLS_CERT_FILE": existing]) == "ONESEAL_TLS_KEY_FILE")
        #expect(refusal(["ONESEAL_GRPC_PORT": "0", "ONESEAL_TLS_KEY_FILE": existing]) == "ONESEAL_TLS_CERT_FILE")
        #expect(refusal(["ONESEAL_GRPC_PORT": "0", "ONESEAL_TLS_CERT_FILE": "/nonexistent.pem", "ONESEAL_TLS_KEY_FILE": existing]) == "ONESEAL_TLS_CERT_FILE")
        #expect(refusal([
            "ONESEAL_GRPC_PORT": "0", "ONESEAL_TLS_CERT_FILE": existing, "ONESEAL_TLS_KEY_FILE": existing, "ONESEAL_GRPC_CLIENT_CERTIFICATE": "required",
        ]) == "ONESEAL_GRPC_CLIENT_CERTIFICATE")
        #expect(refusal(["ONESEAL_GRPC_PORT": "0", "ONESEAL_GRPC_CLIENT_CERTIFICATE": "maybe"]) == "ONESEAL_GRPC_CLIENT_CERTIFICATE")
        let mutual = try #require(try GRPCHTTP2Configuration.fromEnvironment([
            "ONESEAL_GRPC_PORT": "0", "ONESEAL_TLS_CERT_FILE": existing, "ONESEAL_TLS_KEY_FILE": existing, "ONESEAL_TLS_TRUST_FILE": existing,
            "ONESEAL_GRPC_CLIENT_CERTIFICATE": "required",
        ], host: "127.0.0.1", wire: wire))
        #expect(mutual.tls?.requireClientCertificate == true)
    }
}
