import Foundation
import OneSealTLS
import OneSealWire
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOCore
import NIOPosix

/// The standard transport beside ours (issue #17 item 4): the same echo service and callers on
/// grpc-swift-nio-transport's HTTP/2 server and client — the transport the services' second port
/// runs — plain or with TLS, on the same GRPCCore. Our own transport should stay ahead of it:
/// if it does not, it is not worth keeping.
func runHTTP2Calls(
    tls: ThrowawayCertificates?, serverGroup: MultiThreadedEventLoopGroup, clientGroup: any EventLoopGroup,
    payload: [UInt8], callers: Int, warmup: Double, duration: Double
) async throws -> RunResult {
    let security: HTTP2ServerTransport.Posix.TransportSecurity = tls.map {
        .tls(certificateChain: [.file(path: $0.serverCertificate, format: .pem)], privateKey: .file(path: $0.serverKey, format: .pem))
    } ?? .plaintext
    // The OneSeal limits the services' HTTP/2 port runs with (GRPCHTTP2Configuration): 256 streams
    // per connection, so 64 callers share one connection as they do on OneSeal TCP.
    let serverTransport = HTTP2ServerTransport.Posix(
        address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: security,
        config: .defaults { $0.http2.maxConcurrentStreams = 256 }, eventLoopGroup: serverGroup
    )
    let server = GRPCServer(transport: serverTransport, services: [BenchEchoService()])
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await server.serve() }
        let port = try await serverTransport.listeningAddress.ipv4!.port
        let clientSecurity: HTTP2ClientTransport.Posix.TransportSecurity = tls.map { certificates in
            .tls { $0.trustRoots = .certificates([.file(path: certificates.authority, format: .pem)]) }
        } ?? .plaintext
        let clientTransport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: clientSecurity, eventLoopGroup: clientGroup
        )
        let result = try await withGRPCClient(transport: clientTransport) { client in
            try await runTransportCalls(client: client, payload: payload, callers: callers, warmup: warmup, duration: duration)
        }
        server.beginGracefulShutdown()
        try await tasks.waitForAll()
        return result
    }
}

/// A throwaway node CA and a server certificate for the TLS runs, made the way `oneseal certs`
/// makes them (OneSealTLS: P-256, `oneseal://370000/bench`, SAN 127.0.0.1) in a temporary directory
/// and removed with it. The same files serve both transports, so they run the same TLS.
struct ThrowawayCertificates: Sendable {
    static let node = "370000"
    static let service = "bench"
    let directory: URL
    var authority: String { directory.appendingPathComponent("ca.pem").path }
    var serverCertificate: String { directory.appendingPathComponent("server.pem").path }
    var serverKey: String { directory.appendingPathComponent("server.key").path }

    static func make() throws -> ThrowawayCertificates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-bench-ca-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let made = ThrowawayCertificates(directory: directory)
        let authority = try NodeCertificateAuthority.create(node: node)
        let issued = try authority.issue(service: service, hosts: ["localhost", "127.0.0.1"])
        try authority.certificatePEM.write(toFile: made.authority, atomically: true, encoding: .utf8)
        try issued.certificatePEM.write(toFile: made.serverCertificate, atomically: true, encoding: .utf8)
        try issued.keyPEM.write(toFile: made.serverKey, atomically: true, encoding: .utf8)
        return made
    }

    /// OneSeal TCP's server side (certificate, key, trust) and client side (trust only).
    func oneSealServer() throws -> TLSMaterialSource {
        try TLSMaterialSource(files: TLSFiles(certificateFile: serverCertificate, keyFile: serverKey, trustFile: authority))
    }

    func oneSealClient() throws -> OneSealClientTransport.ClientTLS {
        .init(material: try TLSMaterialSource(files: TLSFiles(certificateFile: nil, keyFile: nil, trustFile: authority)),
              expectedNode: Self.node, expectedService: Self.service)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

/// Date, commit and machine of a run, printed first so a figure pasted into docs/benchmarks.md
/// says where it came from.
func runHeader() -> String {
    let formatter = ISO8601DateFormatter()
    let process = Process()
    let pipe = Pipe()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["git", "-C", URL(fileURLWithPath: #filePath).deletingLastPathComponent().path, "describe", "--always", "--dirty"]
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    var commit = "unknown"
    if (try? process.run()) != nil {
        process.waitUntilExit()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if process.terminationStatus == 0, !text.isEmpty { commit = text }
    }
    return "date: \(formatter.string(from: Date()))  commit: \(commit)"
}
