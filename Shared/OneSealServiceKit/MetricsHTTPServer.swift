import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle

/// A tiny HTTP endpoint for Prometheus scrapes (`GET /metrics`), liveness probes (`GET /healthz`)
/// and the contracts as a tar file (`GET /protos.tar`, `ProtoArchive`). It serves nothing else, and
/// carries no personal data.
public struct MetricsHTTPServer: Service {
    let host: String
    let port: Int
    let registry: PrometheusCollectorRegistry
    let logger: Logger
    let bearerToken: String?

    public init(host: String, port: Int, registry: PrometheusCollectorRegistry, logger: Logger, bearerToken: String? = nil) {
        self.bearerToken = bearerToken
        self.host = host
        self.port = port
        self.registry = registry
        self.logger = logger
    }

    public func run() async throws {
        let registry = self.registry
        let token = self.bearerToken
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(registry: registry, bearerToken: token))
                    }
                }
                .bind(host: self.host, port: self.port).get()
        } catch {
            self.logger.critical("could not listen for metrics", metadata: ["address": "\(self.host):\(self.port)", "error": "\(error)"])
            throw error
        }
        // Read once: a channel closed meanwhile (cancelled at once) has no address any more.
        let address = channel.localAddress.map { "\($0)" } ?? "\(self.host):\(self.port)"
        self.logger.info("metrics endpoint listening", metadata: [
            "address": "\(address)", "paths": "/metrics /healthz /protos.tar", "token": self.bearerToken == nil ? "none" : "required for /metrics",
        ])
        // Why the cancellation handler: when another service of the group fails (the RPC port is
        // taken), the group cancels this one instead of shutting it down gracefully; waiting on
        // `closeFuture` alone ignored that, so the process hung after the failure, SIGTERM too.
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await channel.closeFuture.get()
            } onGracefulShutdown: {
                channel.close(promise: nil)
            }
        } onCancel: {
            channel.close(promise: nil)
        }
    }
}

final class MetricsHTTPHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let registry: PrometheusCollectorRegistry
    let bearerToken: String?

    init(registry: PrometheusCollectorRegistry, bearerToken: String? = nil) {
        self.registry = registry
        self.bearerToken = bearerToken
    }

    /// Compared in time independent of where the first difference is.
    static func authorized(_ header: String?, token: String?) -> Bool {
        guard let token else { return true }
        guard let header, header.lowercased().hasPrefix("bearer ") else { return false }
        let given = Array(header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces).utf8)
        let expected = Array(token.utf8)
        guard given.count == expected.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(given, expected) { difference |= a ^ b }
        return difference == 0
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let request) = self.unwrapInboundIn(data) else { return }
        let (status, body, type): (HTTPResponseStatus, [UInt8], String)
        switch (request.method, request.uri.split(separator: "?").first.map(String.init) ?? request.uri) {
        case (.GET, "/metrics") where !Self.authorized(request.headers.first(name: "authorization"), token: self.bearerToken):
            (status, body, type) = (.unauthorized, Array("a bearer token is required for /metrics\n".utf8), "text/plain")
        case (.GET, "/metrics"): (status, body, type) = (.ok, self.registry.emitToBuffer(), "text/plain; version=0.0.4")
        case (.GET, "/healthz"): (status, body, type) = (.ok, Array("ok\n".utf8), "text/plain")
        case (.GET, "/protos.tar"): (status, body, type) = (.ok, ProtoArchive.tar, "application/x-tar")
        default: (status, body, type) = (.notFound, Array("not found: try /metrics, /healthz or /protos.tar\n".utf8), "text/plain")
        }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: type)
        headers.add(name: "content-length", value: "\(body.count)")
        headers.add(name: "connection", value: "close")
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
    }
}
