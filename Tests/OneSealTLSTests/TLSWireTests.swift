import Foundation
import GRPCCore
import Logging
import NIOCore
import OneSealAuth
import OneSealWire
import Synchronization
import Testing
import X509

@testable import OneSealTLS

/// OneSeal TCP with TLS between real sockets: mutual authentication, the refusals of (c) with
/// their log lines, service tokens bound to client certificates (b), and rotation under load (d).
@Suite("TLS on OneSeal TCP")
struct TLSWireTests {
    static let whoAmI = MethodDescriptor(fullyQualifiedService: "oneseal.test.v1.TLS", method: "WhoAmI")

    /// Answers with the identity of the client certificate the transport handed to the call.
    struct WhoAmIService: RegistrableRPCService {
        func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
            router.registerHandler(forMethod: TLSWireTests.whoAmI, deserializer: Text(), serializer: Text()) { _, context in
                StreamingServerResponse { writer in
                    let certificate = (context.transportSpecific as? any PeerCertificateCarrying)?.peerCertificate
                    try await writer.write(certificate.flatMap(ServiceIdentity.init(certificate:))?.uri ?? "none")
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

    /// Keeps every line logged through it.
    final class Capture: Sendable {
        let lines = Mutex<[String]>([])
        struct Handler: LogHandler {
            let capture: Capture
            var metadata: Logger.Metadata = [:]
            var logLevel: Logger.Level = .trace
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { self.metadata[key] }
                set { self.metadata[key] = newValue }
            }
            func log(event: LogEvent) {
                let all = self.metadata.merging(event.metadata ?? [:]) { _, new in new }
                let rendered = "\(event.message) " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                self.capture.lines.withLock { $0.append(rendered) }
            }
        }
        var logger: Logger { Logger(label: "test") { _ in Handler(capture: self) } }
        var text: String { self.lines.withLock { $0.joined(separator: "\n") } }
    }

    /// A folder with a node's files, as `oneseal certs` writes them.
    struct Files {
        let directory: URL
        init() throws {
            self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-tls-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        }
        func write(_ issued: IssuedCertificate, as name: String, trust: [NodeCertificateAuthority]) throws -> TLSFiles {
            let certificate = self.directory.appendingPathComponent("\(name).pem"), key = self.directory.appendingPathComponent("\(name).key")
            let bundle = self.directory.appendingPathComponent("trust-\(name).pem")
            try Self.replace(key, with: issued.keyPEM)
            try Self.replace(certificate, with: try issued.certificatePEM)
            try Self.replace(bundle, with: try trust.map { try $0.certificatePEM }.joined())
            return TLSFiles(certificateFile: certificate.path, keyFile: key.path, trustFile: bundle.path)
        }
        func trustOnly(_ trust: [NodeCertificateAuthority], as name: String) throws -> TLSFiles {
            let bundle = self.directory.appendingPathComponent("trust-\(name).pem")
            try Self.replace(bundle, with: try trust.map { try $0.certificatePEM }.joined())
            return TLSFiles(certificateFile: nil, keyFile: nil, trustFile: bundle.path)
        }
        /// Written beside and renamed over, as `oneseal certs issue` does.
        static func replace(_ url: URL, with text: String) throws {
            let temporary = url.appendingPathExtension("tmp")
            try text.write(to: temporary, atomically: false, encoding: .utf8)
            _ = rename(temporary.path, url.path)
        }
        func remove() { try? FileManager.default.removeItem(at: self.directory) }
    }

    /// Serves `WhoAmI` (behind `interceptors`) with `tls`, runs `body` with the port, then stops.
    static func withServer<T: Sendable>(
        tls: TLSMaterialSource, interceptors: [any ServerInterceptor] = [], logger: Logger = Logger(label: "test"),
        _ body: @Sendable (Int) async throws -> T
    ) async throws -> T {
        var configuration = WireConfiguration()
        configuration.refusalLogInterval = .zero
        let transport = OneSealServerTransport(host: "127.0.0.1", port: 0, configuration: configuration, logger: logger, tls: tls)
        let server = GRPCServer(transport: transport, services: [WhoAmIService()], interceptors: interceptors)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            defer { server.beginGracefulShutdown() }
            let port = try await transport.listeningAddress.port!
            return try await body(port)
        }
    }

    static func call(port: Int, tls: OneSealClientTransport.ClientTLS, metadata: Metadata = [:], logger: Logger = Logger(label: "test")) async throws -> String {
        var options = CallOptions.defaults
        options.timeout = .seconds(10)
        return try await withGRPCClient(transport: OneSealClientTransport(host: "127.0.0.1", port: port, logger: logger, tls: tls)) { client in
            try await client.unary(
                request: ClientRequest(message: "", metadata: metadata), descriptor: Self.whoAmI, serializer: Text(), deserializer: Text(), options: options
            ) { try $0.message }
        }
    }

    @Test("mutual TLS: each side proves its identity, and the call sees the client's certificate")
    func mutual() async throws {
        let files = try Files()
        defer { files.remove() }
        let city = try NodeCertificateAuthority.create(node: "371300")
        let county = try NodeCertificateAuthority.create(node: "371302")
        let server = try TLSMaterialSource(files: files.write(try city.issue(service: "approval"), as: "server", trust: [city, county]))
        let client = try TLSMaterialSource(files: files.write(try county.issue(service: "intake"), as: "client", trust: [city, county]))
        let anonymous = try TLSMaterialSource(files: files.trustOnly([city], as: "anonymous"))
        try await Self.withServer(tls: server) { port in
            let seen = try await Self.call(port: port, tls: .init(material: client, expectedNode: "371300", expectedService: "approval"))
            #expect(seen == "oneseal://371302/intake")
            // Integrators and the web front: server-authenticated TLS, no client certificate.
            let none = try await Self.call(port: port, tls: .init(material: anonymous, expectedNode: "371300", expectedService: nil))
            #expect(none == "none")
        }
    }

    @Test("the client refuses a server that is not the service it meant to call, or not from a trusted CA")
    func clientRefuses() async throws {
        let files = try Files()
        defer { files.remove() }
        let city = try NodeCertificateAuthority.create(node: "371300")
        let stranger = try NodeCertificateAuthority.create(node: "371300")
        let client = try TLSMaterialSource(files: files.trustOnly([city], as: "client"))
        let capture = Capture()
        let server = try TLSMaterialSource(files: files.write(try city.issue(service: "approval"), as: "server", trust: [city]))
        try await Self.withServer(tls: server) { port in
            await #expect { _ = try await Self.call(port: port, tls: .init(material: client, expectedNode: "371302", expectedService: "approval"), logger: capture.logger) } throws: {
                ($0 as? RPCError)?.code == .unavailable
            }
            await #expect { _ = try await Self.call(port: port, tls: .init(material: client, expectedNode: "371300", expectedService: "certificate"), logger: capture.logger) } throws: {
                ($0 as? RPCError)?.code == .unavailable
            }
        }
        #expect(capture.text.contains("names node 371300 not 371302"))
        #expect(capture.text.contains("names service approval not certificate"))
        let impostor = try TLSMaterialSource(files: files.write(try stranger.issue(service: "approval"), as: "impostor", trust: [stranger]))
        try await Self.withServer(tls: impostor) { port in
            await #expect(throws: RPCError.self) { _ = try await Self.call(port: port, tls: .init(material: client, expectedNode: "371300", expectedService: "approval"), logger: capture.logger) }
        }
        #expect(capture.text.contains("unknown CA"))
    }

    /// Item (c): the server refuses expired, not-yet-valid, wrong-CA client certificates in the
    /// handshake and logs why; a wrong identity is refused by authorization (see `serviceTokens`).
    @Test("the server refuses bad client certificates with a clear log line")
    func serverRefuses() async throws {
        let files = try Files()
        defer { files.remove() }
        let city = try NodeCertificateAuthority.create(node: "371300")
        let stranger = try NodeCertificateAuthority.create(node: "371300")
        let now = Date()
        let identity = ServiceIdentity(node: "371300", service: "intake")!
        let server = try TLSMaterialSource(files: files.write(try city.issue(service: "approval"), as: "server", trust: [city]))
        let capture = Capture()
        let cases: [(String, IssuedCertificate, String)] = [
            ("expired", try city.issue(identity: identity, hosts: [], notValidBefore: now.addingTimeInterval(-7200), notValidAfter: now.addingTimeInterval(-3600)), "expired at"),
            ("early", try city.issue(identity: identity, hosts: [], notValidBefore: now.addingTimeInterval(3600), notValidAfter: now.addingTimeInterval(7200)), "not yet valid until"),
            ("stranger", try stranger.issue(service: "intake"), "unknown CA"),
        ]
        try await Self.withServer(tls: server, logger: capture.logger) { port in
            for (name, issued, _) in cases {
                let client = try TLSMaterialSource(files: files.write(issued, as: name, trust: [city]))
                await #expect(throws: RPCError.self, "\(name)") {
                    _ = try await Self.call(port: port, tls: .init(material: client, expectedNode: "371300", expectedService: "approval"))
                }
            }
        }
        for (name, _, words) in cases {
            #expect(capture.text.contains("refused a client certificate") && capture.text.contains(words), "\(name): \(capture.text)")
        }
    }

    /// Item (b): a service token is honoured only with a client certificate of the same service
    /// and node; the token replayed without one, or under another node's certificate, is
    /// UNAUTHENTICATED.
    static func bearer(_ token: String) -> Metadata {
        var metadata = Metadata()
        metadata.addString("Bearer \(token)", forKey: "authorization")
        return metadata
    }

    @Test("a service token needs the matching client certificate")
    func serviceTokens() async throws {
        let files = try Files()
        defer { files.remove() }
        let city = try NodeCertificateAuthority.create(node: "371300")
        let county = try NodeCertificateAuthority.create(node: "371302")
        let cityKey = TokenSigningKey.generate(issuer: "371300")
        let countyKey = TokenSigningKey.generate(issuer: "371302")
        let policy = AccessPolicy([Self.whoAmI.fullyQualifiedMethod: MethodRule(roles: [.peerNode], scope: .anyTrustedNode)])
        let auth = AuthServerInterceptor(
            verifier: TokenVerifier(trusting: [TrustedTokenKey(cityKey.publicKey, node: "371300"), TrustedTokenKey(countyKey.publicKey, node: "371302")]),
            policy: policy, localNode: "371300"
        )
        let server = try TLSMaterialSource(files: files.write(try city.issue(service: "approval"), as: "server", trust: [city, county]))
        let cityIntake = try TLSMaterialSource(files: files.write(try city.issue(service: "intake"), as: "city-intake", trust: [city, county]))
        let countyIntake = try TLSMaterialSource(files: files.write(try county.issue(service: "intake"), as: "county-intake", trust: [city, county]))
        let anonymous = try TLSMaterialSource(files: files.trustOnly([city, county], as: "anonymous"))
        let cityToken = try cityKey.mint(subject: "intake@371300", role: .peerNode, node: "371300")
        let countyToken = try countyKey.mint(subject: "intake@371302", role: .peerNode, node: "371302")
        try await Self.withServer(tls: server, interceptors: [auth]) { port in
            func call(_ material: TLSMaterialSource, _ token: String) async throws -> String {
                try await Self.call(port: port, tls: .init(material: material, expectedNode: "371300", expectedService: "approval"), metadata: Self.bearer(token))
            }
            func refused(_ material: TLSMaterialSource, _ token: String, _ words: String) async {
                await #expect {
                    _ = try await call(material, token)
                } throws: { error in
                    let rpc = error as? RPCError
                    return rpc?.code == .unauthenticated && rpc?.message.contains(words) == true
                }
            }
            #expect(try await call(cityIntake, cityToken) == "oneseal://371300/intake")
            #expect(try await call(countyIntake, countyToken) == "oneseal://371302/intake")
            await refused(anonymous, cityToken, "none was presented")
            await refused(countyIntake, cityToken, "names node 371302, the service token node 371300")
            await refused(cityIntake, countyToken, "names node 371300, the service token node 371302")
            let approvalToken = try cityKey.mint(subject: "approval@371300", role: .peerNode, node: "371300")
            await refused(cityIntake, approvalToken, "names service intake, the service token approval")
        }
    }

    /// Item (d): certificates replaced and reloaded again and again while calls run, on long-lived
    /// and fresh connections alike: not one call fails.
    @Test("rotation under load loses no call")
    func rotation() async throws {
        let files = try Files()
        defer { files.remove() }
        let city = try NodeCertificateAuthority.create(node: "371300")
        let serverFiles = try files.write(try city.issue(service: "approval"), as: "server", trust: [city])
        let clientFiles = try files.write(try city.issue(service: "intake"), as: "client", trust: [city])
        let server = try TLSMaterialSource(files: serverFiles)
        let client = try TLSMaterialSource(files: clientFiles)
        let tls = OneSealClientTransport.ClientTLS(material: client, expectedNode: "371300", expectedService: "approval")
        final class Counter: Sendable {
            let value = Atomic<Int>(0)
            func add(_ amount: Int, ordering: AtomicUpdateOrdering) { self.value.add(amount, ordering: .relaxed) }
            func load(ordering: AtomicLoadOrdering) -> Int { self.value.load(ordering: .relaxed) }
        }
        let failures = Counter()
        let calls = Counter()
        let reloads = Counter()
        try await Self.withServer(tls: server) { port in
            try await withThrowingTaskGroup(of: Void.self) { group in
                // One long-lived connection, calling in a loop.
                group.addTask {
                    try await withGRPCClient(transport: OneSealClientTransport(host: "127.0.0.1", port: port, tls: tls)) { grpc in
                        for _ in 0..<300 {
                            do {
                                _ = try await grpc.unary(
                                    request: ClientRequest(message: ""), descriptor: Self.whoAmI, serializer: Text(), deserializer: Text(), options: .defaults
                                ) { try $0.message }
                                calls.add(1, ordering: .relaxed)
                            } catch { failures.add(1, ordering: .relaxed) }
                        }
                    }
                }
                // A new connection (a new handshake) per call.
                group.addTask {
                    for _ in 0..<40 {
                        do {
                            _ = try await Self.call(port: port, tls: tls)
                            calls.add(1, ordering: .relaxed)
                        } catch { failures.add(1, ordering: .relaxed) }
                    }
                }
                // Rotation: new certificates for both sides, written and reloaded, ten times.
                group.addTask {
                    for _ in 0..<10 {
                        _ = try files.write(try city.issue(service: "approval"), as: "server", trust: [city])
                        _ = try files.write(try city.issue(service: "intake"), as: "client", trust: [city])
                        try server.reload()
                        try client.reload()
                        reloads.add(1, ordering: .relaxed)
                        try await Task.sleep(for: .milliseconds(50))
                    }
                }
                try await group.waitForAll()
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(calls.load(ordering: .relaxed) == 340)
        #expect(reloads.load(ordering: .relaxed) == 10)
    }

    @Test("a reload that fails keeps the previous material; one for another identity is refused")
    func failedReload() throws {
        let files = try Files()
        defer { files.remove() }
        let city = try NodeCertificateAuthority.create(node: "371300")
        let source = try TLSMaterialSource(files: files.write(try city.issue(service: "approval"), as: "server", trust: [city]))
        let before = source.current.certificateChain.first
        try TLSWireTests.Files.replace(URL(fileURLWithPath: source.current.files.keyFile!), with: "not a key")
        #expect(throws: TLSMaterial.LoadError.self) { try source.reload() }
        #expect(source.current.certificateChain.first == before)
        _ = try files.write(try city.issue(service: "intake"), as: "server", trust: [city])
        #expect { try source.reload() } throws: { "\($0)".contains("not approval@371300") }
        #expect(source.current.identity?.service == "approval")
    }
}
