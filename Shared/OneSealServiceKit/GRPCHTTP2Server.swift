import OneSealTLS
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import NIOCore
import OneSealWire
import ServiceLifecycle
import Synchronization

/// Standard gRPC over HTTP/2 on a second port of a service (issue #17 item 4), so an integrator can
/// call us with `grpcurl` or any gRPC runtime instead of writing a OneSeal TCP client.
///
/// The same services and the same interceptors as the OneSeal TCP port
/// (`ServiceRunner.serverInterceptors`), and the limits of `WireConfiguration` translated to what
/// HTTP/2 has: the message-size limit, streams per connection, connections per server, calls per
/// server, the idle timeout. What it reads from the environment (docs/operators.md):
///
/// - `ONESEAL_GRPC_PORT`: the port (0 = a free one; unset or `off` = no HTTP/2 server). Off unless
///   set, so embedding programs and old deployments open no port they did not ask for; the local
///   cluster, `scripts/cluster` and `docker-compose.yml` set it for every service.
/// - `ONESEAL_TLS_CERT_FILE`, `ONESEAL_TLS_KEY_FILE`: PEM leaf + chain and PEM key; with both the port
///   speaks TLS (ALPN `h2`), with neither plain HTTP/2 (development), one alone stops the process.
/// - `ONESEAL_TLS_TRUST_FILE` and `ONESEAL_GRPC_CLIENT_CERTIFICATE=required`: mutual TLS, client
///   certificates verified against that bundle. Not the default: grpc-swift-nio-transport 2.9.2 can
///   only not ask for a client certificate or require one (no "optional"), and integrators without a
///   certificate must still reach us with a bearer token (decision G2).
public struct GRPCHTTP2Configuration: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var tls: TLS?
    /// Largest request message accepted (`RESOURCE_EXHAUSTED` above): OneSeal TCP's frame limit.
    public var maximumRequestBytes: Int
    /// HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: OneSeal TCP's streams per connection.
    public var maximumConcurrentStreams: Int
    /// Calls running at once over all connections (`RESOURCE_EXHAUSTED` above): OneSeal TCP's
    /// per-server stream limit, the bound on memory held by calls whoever opens them.
    public var maximumServerCalls: Int
    /// Connections held at once; one more is closed at once.
    public var maximumConnections: Int
    /// A connection with no call for this long is closed with GOAWAY (nil: never).
    public var idleTimeout: Duration?

    public struct TLS: Sendable, Hashable {
        public var certificateFile: String
        public var keyFile: String
        /// CA bundle the client certificates are verified against (mutual TLS only).
        public var trustFile: String?
        public var requireClientCertificate: Bool

        public init(certificateFile: String, keyFile: String, trustFile: String? = nil, requireClientCertificate: Bool = false) {
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.trustFile = trustFile
            self.requireClientCertificate = requireClientCertificate
        }
    }

    /// The HTTP/2 port with OneSeal TCP's limits (`wire`), so neither door is wider than the other.
    public init(host: String, port: Int, tls: TLS? = nil, wire: WireConfiguration = WireConfiguration()) {
        self.host = host
        self.port = port
        self.tls = tls
        self.maximumRequestBytes = wire.maximumFrameSize
        self.maximumConcurrentStreams = wire.maximumConcurrentStreams
        self.maximumServerCalls = wire.maximumServerStreams
        self.maximumConnections = wire.maximumConnections
        self.idleTimeout = wire.idleTimeout
    }

    /// nil when `ONESEAL_GRPC_PORT` is unset or `off`. A bad value throws `NodeConfiguration.Invalid`
    /// naming the variable, like every other setting (exit status 2).
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment, host: String, wire: WireConfiguration
    ) throws -> GRPCHTTP2Configuration? {
        func value(_ key: String) -> String? {
            guard let raw = environment[key]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        guard let rawPort = value("ONESEAL_GRPC_PORT"), rawPort != "off" else { return nil }
        guard let port = Int(rawPort), (0...65535).contains(port) else {
            throw NodeConfiguration.Invalid(variable: "ONESEAL_GRPC_PORT", reason: "'\(rawPort)' is not a port in 0...65535 or off")
        }
        func readable(_ key: String) throws -> String? {
            guard let path = value(key) else { return nil }
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw NodeConfiguration.Invalid(variable: key, reason: "cannot read \(path)")
            }
            return path
        }
        let certificate = try readable("ONESEAL_TLS_CERT_FILE")
        let key = try readable("ONESEAL_TLS_KEY_FILE")
        let trust = try readable("ONESEAL_TLS_TRUST_FILE")
        let clientCertificate = value("ONESEAL_GRPC_CLIENT_CERTIFICATE") ?? "none"
        guard ["none", "required"].contains(clientCertificate) else {
            throw NodeConfiguration.Invalid(variable: "ONESEAL_GRPC_CLIENT_CERTIFICATE", reason: "'\(clientCertificate)' is not none or required")
        }
        var configuration = GRPCHTTP2Configuration(host: host, port: port, wire: wire)
        switch (certificate, key) {
        case (let certificate?, let key?):
            if clientCertificate == "required", trust == nil {
                throw NodeConfiguration.Invalid(
                    variable: "ONESEAL_GRPC_CLIENT_CERTIFICATE", reason: "required needs ONESEAL_TLS_TRUST_FILE (the CAs client certificates are checked against)")
            }
            configuration.tls = TLS(certificateFile: certificate, keyFile: key, trustFile: trust, requireClientCertificate: clientCertificate == "required")
        case (nil, nil):
            if clientCertificate == "required" {
                throw NodeConfiguration.Invalid(variable: "ONESEAL_GRPC_CLIENT_CERTIFICATE", reason: "required needs ONESEAL_TLS_CERT_FILE and ONESEAL_TLS_KEY_FILE")
            }
        case (nil, _):
            throw NodeConfiguration.Invalid(variable: "ONESEAL_TLS_CERT_FILE", reason: "ONESEAL_TLS_KEY_FILE is set, so the certificate is needed too")
        case (_, nil):
            throw NodeConfiguration.Invalid(variable: "ONESEAL_TLS_KEY_FILE", reason: "ONESEAL_TLS_CERT_FILE is set, so its key is needed too")
        }
        return configuration
    }

    var transportSecurity: HTTP2ServerTransport.Posix.TransportSecurity {
        guard let tls else { return .plaintext }
        let chain: [TLSConfig.CertificateSource] = [.file(path: tls.certificateFile, format: .pem)]
        let key: TLSConfig.PrivateKeySource = .file(path: tls.keyFile, format: .pem)
        guard tls.requireClientCertificate, let trust = tls.trustFile else {
            // Server-only TLS: the client is not asked for a certificate; it authenticates with its
            // bearer token, as on OneSeal TCP.
            return .tls(certificateChain: chain, privateKey: key)
        }
        return .mTLS(certificateChain: chain, privateKey: key) { config in
            config.trustRoots = .certificates([.file(path: trust, format: .pem)])
        }
    }

    func transportConfig(connections: ConnectionCounter) -> HTTP2ServerTransport.Posix.Config {
        .defaults { config in
            config.rpc.maxRequestPayloadSize = self.maximumRequestBytes
            config.http2.maxConcurrentStreams = self.maximumConcurrentStreams
            config.connection.maxIdleTime = self.idleTimeout
            config.channelDebuggingCallbacks.onAcceptTCPConnection = { channel in connections.admit(channel) }
        }
    }
}

/// Runs a `GRPCServer` on gRPC over HTTP/2 as a lifecycle `Service`, the twin of `GRPCServerService`:
/// on graceful shutdown it stops accepting, sends GOAWAY and lets running calls finish.
public struct GRPCHTTP2ServerService: Service {
    public let server: GRPCServer<HTTP2ServerTransport.Posix>
    public let transport: HTTP2ServerTransport.Posix
    public let configuration: GRPCHTTP2Configuration
    let logger: Logger

    /// `interceptors` are the OneSeal port's own list; the per-server call limit goes in front,
    /// since this transport, unlike OneSeal TCP's, has none of its own.
    public init(
        configuration: GRPCHTTP2Configuration, services: [any RegistrableRPCService], interceptors: [any ServerInterceptor],
        logger: Logger = Logger(label: "oneseal.grpc")
    ) {
        let connections = ConnectionCounter(limit: configuration.maximumConnections, logger: logger)
        self.transport = HTTP2ServerTransport.Posix(
            address: configuration.host.contains(":")
                ? .ipv6(host: configuration.host, port: configuration.port) : .ipv4(host: configuration.host, port: configuration.port),
            transportSecurity: configuration.transportSecurity,
            config: configuration.transportConfig(connections: connections)
        )
        self.configuration = configuration
        self.server = GRPCServer(
            transport: self.transport, services: services,
            interceptors: [ServerCallLimitInterceptor(limit: configuration.maximumServerCalls)] + interceptors
        )
        self.logger = logger
    }

    public func run() async throws {
        if self.configuration.tls == nil {
            self.logger.warning(
                "gRPC HTTP/2 port without TLS (ONESEAL_TLS_CERT_FILE, ONESEAL_TLS_KEY_FILE unset): bearer tokens cross the network in clear; development only")
        }
        do {
            try await withGracefulShutdownHandler {
                try await self.server.serve()
            } onGracefulShutdown: {
                self.server.beginGracefulShutdown()
            }
        } catch {
            let reason = (error as? RuntimeError)?.cause.map { "\($0)" } ?? "\(error)"
            self.logger.critical(
                "gRPC HTTP/2 server failed",
                metadata: ["address": "\(self.configuration.host):\(self.configuration.port)", "error": "\(reason)"]
            )
            throw error
        }
    }
}

/// Refuses a call with RESOURCE_EXHAUSTED while `limit` calls run on this server: OneSeal TCP's
/// `maximumServerStreams`, which the HTTP/2 transport does not have.
struct ServerCallLimitInterceptor: ServerInterceptor {
    let limit: Int
    private let running = Running()

    private final class Running: Sendable {
        let count = Atomic<Int>(0)
    }

    init(limit: Int) {
        self.limit = limit
    }

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let running = self.running
        guard running.count.wrappingAdd(1, ordering: .relaxed).newValue <= self.limit else {
            running.count.wrappingSubtract(1, ordering: .relaxed)
            throw RPCError(code: .resourceExhausted, message: "the server is running \(self.limit) calls, its maximum; retry later")
        }
        let response: StreamingServerResponse<Output>
        do {
            response = try await next(request, context)
        } catch {
            running.count.wrappingSubtract(1, ordering: .relaxed)
            throw error
        }
        // A streaming response runs after `next` returns: the call ends when its producer does.
        switch response.accepted {
        case .failure:
            running.count.wrappingSubtract(1, ordering: .relaxed)
            return response
        case .success(var contents):
            let producer = contents.producer
            contents.producer = { writer in
                defer { running.count.wrappingSubtract(1, ordering: .relaxed) }
                return try await producer(writer)
            }
            var accepted = response
            accepted.accepted = .success(contents)
            return accepted
        }
    }
}

/// Holds the connection count of one HTTP/2 server: OneSeal TCP's `maximumConnections`. One more
/// connection is closed as soon as it is accepted (before TLS or HTTP/2 cost anything).
final class ConnectionCounter: Sendable {
    let limit: Int
    let logger: Logger
    private let open = Atomic<Int>(0)

    init(limit: Int, logger: Logger) {
        self.limit = limit
        self.logger = logger
    }

    func admit(_ channel: any Channel) -> EventLoopFuture<Void> {
        let count = self.open.wrappingAdd(1, ordering: .relaxed).newValue
        channel.closeFuture.whenComplete { _ in self.open.wrappingSubtract(1, ordering: .relaxed) }
        if count > self.limit {
            self.logger.warning("connection refused: too many connections", metadata: ["limit": "\(self.limit)"])
            // Closed, not failed: a failed child initializer reaches the listening channel as an
            // error, which would end the whole server's accept loop.
            channel.close(promise: nil)
        }
        return channel.eventLoop.makeSucceededVoidFuture()
    }
}

/// The HTTP/2 door hands authorization the client certificate it verified (mutual TLS with
/// ONESEAL_GRPC_CLIENT_CERTIFICATE=required), exactly as OneSeal TCP does; without one, a service
/// token is refused here as there (docs/decisions.md K9).
extension HTTP2ServerTransport.Posix.Context: PeerCertificateCarrying {}
