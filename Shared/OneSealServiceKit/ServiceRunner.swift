import Foundation
import GRPCCore
import Logging
import Metrics
import NIOCore
import OneSealAuth
import OneSealOutbox
import OneSealPrivacy
import OneSealStore
import OneSealTLS
import OneSealTrace
import OneSealWire
import Prometheus
import ServiceLifecycle
import UnixSignals

/// What a service library hands to the shared runner: its name, SQL migrations, method table and
/// RPC services. The runner does the rest the same way for all five, so operators learn one
/// start-up, one log format, one shutdown.
public struct ServiceDefinition: Sendable {
    public var name: String
    public var migrations: [Migration]
    public var policy: AccessPolicy
    /// Builds the RPC services once the database is migrated.
    public var makeServices: @Sendable (ServiceEnvironment) async throws -> [any RegistrableRPCService]
    /// Extra long-running work (sweepers) started with the server.
    public var makeBackgroundServices: @Sendable (ServiceEnvironment) async throws -> [any Service]
    /// Applies events other services deliver to this one (nil: this service subscribes to none).
    public var eventConsumer: (any EventConsumer)?
    /// Whether a unique-key violation answers ALREADY_EXISTS ("someone recorded it first") rather
    /// than UNAVAILABLE (`ContractStatusInterceptor`).
    public var uniqueViolationIsAlreadyExists: Bool
    /// Whether this service's relay paces what it sends to evaluation
    /// (`NodeConfiguration.outboxEvaluationPace`). Approval's is not: a case's facts reach the
    /// accepting node's evaluation with its events, and a rating right after pickup needs them.
    public var pacesEvaluationFeed: Bool
    /// How long this service's event sink gathers concurrent batches into one transaction, and
    /// the sources whose batches go at once (`DeliveryGatherer`; nil: each batch its own).
    /// Evaluation's: nobody waits on it.
    public var gathersDeliveries: (window: Duration, prompt: Set<String>)?

    public init(
        name: String,
        migrations: [Migration],
        policy: AccessPolicy,
        makeServices: @escaping @Sendable (ServiceEnvironment) async throws -> [any RegistrableRPCService],
        makeBackgroundServices: @escaping @Sendable (ServiceEnvironment) async throws -> [any Service] = { _ in [] },
        eventConsumer: (any EventConsumer)? = nil,
        uniqueViolationIsAlreadyExists: Bool = false,
        pacesEvaluationFeed: Bool = true,
        gathersDeliveries: (window: Duration, prompt: Set<String>)? = nil
    ) {
        self.pacesEvaluationFeed = pacesEvaluationFeed
        self.gathersDeliveries = gathersDeliveries
        self.eventConsumer = eventConsumer
        self.uniqueViolationIsAlreadyExists = uniqueViolationIsAlreadyExists
        self.name = name
        self.migrations = migrations
        self.policy = policy
        self.makeServices = makeServices
        self.makeBackgroundServices = makeBackgroundServices
    }

    /// Migrations bundled in a service library's `Migrations/` resource folder.
    public static func migrations(in bundle: Bundle) throws -> [Migration] {
        guard let url = bundle.url(forResource: "Migrations", withExtension: nil) else {
            throw NodeConfiguration.Invalid(variable: "Migrations", reason: "no Migrations folder in \(bundle.bundlePath)")
        }
        return try Migration.load(from: url)
    }
}

/// What a running service's code may use.
public struct ServiceEnvironment: Sendable {
    public var configuration: NodeConfiguration
    public var database: PostgresClient
    public var logger: Logger
    /// One running client per ONESEAL_PEERS entry ("certificate@371300"), for calls to other
    /// services; the runner keeps them connected for the life of the process.
    public var peers: [String: GRPCClient<OneSealClientTransport>]
    /// Mints this service's own `node` token for those calls; nil without ONESEAL_SERVICE_KEY_FILE.
    public var serviceToken: (@Sendable () throws -> String)?
    /// This process's TLS material (nil: `--insecure-loopback`), for the rare client a handler
    /// makes itself (a node reached through its trust-list endpoint): `clientTLS(node:service:)`.
    public var tls: TLSMaterialSource?

    /// The TLS a client made by a handler uses to reach `service` of `node` (nil: plain TCP, only
    /// under `--insecure-loopback`).
    public func clientTLS(node: String?, service: String?) -> OneSealClientTransport.ClientTLS? {
        self.tls.map { OneSealClientTransport.ClientTLS(material: $0, expectedNode: node, expectedService: service) }
    }

    public init(
        configuration: NodeConfiguration, database: PostgresClient, logger: Logger,
        peers: [String: GRPCClient<OneSealClientTransport>] = [:], serviceToken: (@Sendable () throws -> String)? = nil,
        tls: TLSMaterialSource? = nil
    ) {
        self.tls = tls
        self.configuration = configuration
        self.database = database
        self.logger = logger
        self.peers = peers
        self.serviceToken = serviceToken
    }
}

/// The policy entries every service shares: health is public.
public let sharedAccessPolicy = AccessPolicy([
    "oneseal.health.v1.Health/Check": .public,
])

/// A service started by `ServiceRunner.run`: where it listens, and how an embedding program (a
/// test, a combined process) asks it to drain and stop as SIGTERM would.
public struct RunningService: Sendable {
    public let port: Int
    /// The gRPC HTTP/2 port, when the service has one (`GRPCHTTP2Configuration`).
    public let grpcPort: Int?
    let group: ServiceGroup

    public func shutdown() async {
        await group.triggerGracefulShutdown()
    }
}

public enum ServiceRunner {
    /// The process's TLS material, checked against what it is: its certificate must name this
    /// service of this node, or peers would refuse it anyway (better said at start than at the
    /// first call). nil under `--insecure-loopback`, which is logged as a warning.
    /// oneseal-web uses it too (as `web@<node>`), so both say a wrong certificate the same way.
    public static func loadTLS(_ configuration: NodeConfiguration, logger: Logger) throws -> TLSMaterialSource? {
        try loadTLS(configuration.tls, node: configuration.node, service: configuration.service, host: configuration.host, logger: logger)
    }

    public static func loadTLS(_ tls: NodeConfiguration.TLS, node: String, service: String, host: String, logger: Logger) throws -> TLSMaterialSource? {
        guard let files = tls.files else {
            logger.warning(
                "insecure loopback: OneSeal TCP without TLS and service tokens without certificates, for development only",
                metadata: ["address": "\(host)"]
            )
            return nil
        }
        let source: TLSMaterialSource
        do { source = try TLSMaterialSource(files: files) } catch {
            throw NodeConfiguration.Invalid(variable: "ONESEAL_TLS_CERT_FILE", reason: "\(error)")
        }
        let material = source.current
        guard let identity = material.identity else {
            throw NodeConfiguration.Invalid(variable: "ONESEAL_TLS_CERT_FILE", reason: "the certificate names no oneseal://<node>/<service> identity")
        }
        guard identity.node == node, identity.service == service else {
            throw NodeConfiguration.Invalid(
                variable: "ONESEAL_TLS_CERT_FILE",
                reason: "the certificate is for \(identity), this process is \(service)@\(node)"
            )
        }
        if let leaf = material.certificateChain.first {
            logger.info("TLS certificate loaded", metadata: [
                "identity": "\(identity.uri)", "not_after": "\(leaf.notValidAfter.formatted(.iso8601))",
                "trusted_cas": "\(material.trust.authorities.count)",
            ])
        }
        return source
    }

    /// Starts one service process: configuration → logging → database → migrations → RPC server
    /// (+ metrics endpoint, background work) → runs until SIGTERM/SIGINT, then drains and stops.
    public static func main(_ definition: ServiceDefinition) async {
        let configuration: NodeConfiguration
        let grpc: GRPCHTTP2Configuration?
        do {
            configuration = try NodeConfiguration.fromEnvironment(service: definition.name, arguments: CommandLine.arguments)
            grpc = try GRPCHTTP2Configuration.fromEnvironment(host: configuration.host, wire: configuration.wire)
        } catch {
            FileHandle.standardError.write(Data("oneseal-\(definition.name): \(error)\n".utf8))
            exit(2)
        }
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        LoggingSystem.bootstrap({ label, provider in
            var handler = LogfmtLogHandler(label: label, level: level, metadata: ["service": "\(configuration.service)", "node": "\(configuration.node)"])
            handler.metadataProvider = provider
            return handler
        }, metadataProvider: TraceContext.loggerMetadataProvider)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "oneseal.\(definition.name)")
        do {
            try await self.run(definition, configuration: configuration, registry: registry, logger: logger, grpc: grpc)
            logger.info("stopped")
        } catch let error as NodeConfiguration.Invalid {
            // A configuration the service found wrong only once it started (e.g. a key file): the
            // same exit status as a bad variable, so operators read both the same way.
            logger.critical("service failed", metadata: ["error": "\(error)"])
            FileHandle.standardError.write(Data("oneseal-\(definition.name): \(error)\n".utf8))
            exit(2)
        } catch {
            logger.critical("service failed", metadata: ["error": "\(error)"])
            exit(1)
        }
    }

    public static func run(
        _ definition: ServiceDefinition,
        configuration: NodeConfiguration,
        registry: PrometheusCollectorRegistry?,
        logger: Logger,
        grpc: GRPCHTTP2Configuration? = nil,
        signals: [UnixSignal] = [.sigterm, .sigint],
        onListening: @escaping @Sendable (RunningService) -> Void = { _ in }
    ) async throws {
        let database = PostgresClient(
            configuration: PostgresClientConfiguration(conninfo: configuration.databaseConninfo, maxConnections: configuration.databasePoolSize),
            logger: Logger(label: "oneseal.store")
        )
        let tls = try Self.loadTLS(configuration, logger: logger)
        // One client per peer: handlers call other services through them, and the outbox relay
        // delivers events with them. With TLS, each presents this service's certificate and
        // accepts only a server whose certificate names the peer entry's service and node.
        var peerClients: [String: GRPCClient<OneSealClientTransport>] = [:]
        for (name, address) in configuration.peers {
            let expected = ServiceIdentity(peerName: name)
            // With TLS the name is what the peer's certificate must say: it has to be one.
            guard tls == nil || expected != nil else {
                throw NodeConfiguration.Invalid(
                    variable: "ONESEAL_PEERS", reason: "'\(name)' is not service@node (a 6-digit node code); with TLS the peer's certificate must name it")
            }
            peerClients[name] = GRPCClient(
                transport: OneSealClientTransport(
                    host: address.host, port: address.port, configuration: configuration.wire, logger: Logger(label: "oneseal.wire.client"),
                    tls: tls.map { OneSealClientTransport.ClientTLS(material: $0, expectedNode: expected?.node, expectedService: expected?.service) }
                ),
                interceptors: [TraceClientInterceptor()]
            )
        }
        var serviceToken: (@Sendable () throws -> String)?
        if let keyFile = configuration.serviceKeyFile {
            let signer = try TokenSigningKey(contentsOfFile: keyFile, issuer: configuration.node)
            // Every service of the node holds this key, so their logs share one pseudonym per caller.
            LogPseudonym.configure(secret: signer.privateKey.rawRepresentation)
            let subject = "\(configuration.service)@\(configuration.node)"
            // One token for a minute of its five (`ReusedToken`): not a signature per delivery.
            let token = ReusedToken(reuseFor: .seconds(60)) { now in
                try signer.mint(subject: subject, role: .peerNode, node: configuration.node, lifetime: .seconds(300), now: now)
            }
            serviceToken = { try token.token() }
        }
        let environment = ServiceEnvironment(
            configuration: configuration, database: database, logger: logger, peers: peerClients, serviceToken: serviceToken, tls: tls
        )
        let verifier = TokenVerifier(trusting: configuration.trustedTokenKeys)
        if verifier.isEmpty {
            logger.warning("no trusted token keys configured (ONESEAL_TOKEN_PUBLIC_KEYS): only public methods will answer")
        }

        try await withThrowingTaskGroup(of: Void.self) { group in
            // The pool runs for the life of the process (health checks, reconnects); it stops
            // last, after the server has drained, when this group is cancelled below.
            group.addTask { try await database.run() }
            defer { group.cancelAll() }

            let applied = try await Migrator.apply(OutboxMigrations.all + definition.migrations, on: database)
            logger.info("database ready", metadata: ["migrations_applied": "\(applied)"])

            // Every service has an outbox, so every service lets its operator see and replay its
            // dead letters (OutboxAdminService).
            var services = try await definition.makeServices(environment)
                + [HealthService(configuration: configuration, database: database), OutboxAdminService(database: database)]
            var policy = sharedAccessPolicy.merging(definition.policy).merging(OutboxAdminService.policy)
            var gatherers: [any Service] = []
            if let consumer = definition.eventConsumer {
                var sink = EventSinkService(consumerName: definition.name, database: database, consumer: consumer)
                if let gathering = definition.gathersDeliveries {
                    let applying = sink
                    let gatherer = DeliveryGatherer(window: gathering.window, prompt: gathering.prompt) { events in
                        _ = try await database.withTransaction { try await applying.applyTogether(events, in: $0) }
                    }
                    sink.gatherer = gatherer
                    gatherers.append(gatherer)
                }
                services.append(sink)
                policy = policy.merging(EventDelivery.sinkPolicy)
            }
            // Created only now that the services exist: a transport that never serves would leave
            // its listening-address promise unfulfilled.
            let transport = OneSealServerTransport(
                host: configuration.host, port: configuration.port, configuration: configuration.wire,
                logger: Logger(label: "oneseal.wire"), tls: tls
            )
            let interceptors = Self.serverInterceptors(
                verifier: verifier, policy: policy, localNode: configuration.node,
                serviceCertificates: tls == nil ? .notRequired : .required, logger: logger,
                uniqueViolationIsAlreadyExists: definition.uniqueViolationIsAlreadyExists
            )
            var lifecycle: [ServiceGroupConfiguration.ServiceConfiguration] = [
                .init(service: GRPCServerService(transport: transport, services: services, interceptors: interceptors))
            ]
            // The second door, standard gRPC over HTTP/2 (GRPCHTTP2Server.swift): same services, same interceptors.
            let http2 = grpc.map { GRPCHTTP2ServerService(configuration: $0, services: services, interceptors: interceptors) }
            if let http2 { lifecycle.append(.init(service: http2)) }
            if let registry, let port = configuration.metricsPort {
                let token = try configuration.metricsTokenFile.map { file -> String in
                    guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                        throw NodeConfiguration.Invalid(variable: "ONESEAL_METRICS_TOKEN_FILE", reason: "cannot read \(file)")
                    }
                    return text.trimmingCharacters(in: .whitespacesAndNewlines)
                }
                lifecycle.append(.init(service: MetricsHTTPServer(
                    host: configuration.metricsHost, port: port, registry: registry, logger: logger, bearerToken: token)))
            }
            if let tls {
                lifecycle.append(.init(service: TLSReloadService(source: tls, logger: Logger(label: "oneseal.tls"))))
            }
            // The peer clients run first (stop last), and the relay empties this service's outbox into them.
            for client in peerClients.values {
                lifecycle.insert(.init(service: GRPCClientService(client: client)), at: 0)
            }
            if let serviceToken {
                let delivery = EventDelivery(
                    sourceService: configuration.service, sourceNode: configuration.node, clients: peerClients, token: serviceToken,
                    keyring: try configuration.dataKeyFile.map { try DataKeyring(contentsOfFile: $0) }
                )
                // Batches stay under the frame limit (the peers share this node's wire settings), sized
                // with the exact encoding, so a large event can never jam its destination.
                var relayConfiguration = OutboxRelay.Configuration()
                relayConfiguration.maximumBatchBytes = OutboxRelay.batchLimit(forFrameSize: configuration.wire.maximumFrameSize)
                relayConfiguration.encodedSize = { delivery.encodedSize(of: $0) }
                relayConfiguration.keepsDelivered = configuration.outboxKeepDelivered > .zero
                if definition.pacesEvaluationFeed {
                    relayConfiguration.pace = OutboxRelay.pacing(["evaluation": configuration.outboxEvaluationPace])
                }
                lifecycle.append(.init(service: OutboxRelay(client: database, configuration: relayConfiguration, logger: Logger(label: "oneseal.outbox")) { destination, events in
                    try await delivery.deliver(to: destination, events)
                }))
            } else {
                logger.warning("no service key (ONESEAL_SERVICE_KEY_FILE): events in the outbox wait until one is configured")
            }
            lifecycle.append(.init(service: OutboxMaintenance(
                database: database, keepDelivered: configuration.outboxKeepDelivered, logger: Logger(label: "oneseal.outbox"))))
            for background in try await definition.makeBackgroundServices(environment) + gatherers {
                lifecycle.append(.init(service: background))
            }
            let serviceGroup = ServiceGroup(
                configuration: ServiceGroupConfiguration(services: lifecycle, gracefulShutdownSignals: signals, logger: logger)
            )
            group.addTask {
                let address = try await transport.listeningAddress
                logger.info("listening", metadata: [
                    "address": "\(configuration.host):\(address.port ?? 0)", "protocol": tls == nil ? "oneseal-tcp" : "oneseal-tcp+tls",
                ])
                var grpcPort: Int?
                if let http2 {
                    let bound = try await http2.transport.listeningAddress
                    grpcPort = bound.ipv4?.port ?? bound.ipv6?.port
                    logger.info("listening", metadata: [
                        "address": "\(configuration.host):\(grpcPort ?? 0)", "protocol": "grpc-http2",
                        "tls": "\(http2.configuration.tls == nil ? "off" : http2.configuration.tls!.requireClientCertificate ? "mutual" : "server")",
                    ])
                }
                onListening(RunningService(port: address.port ?? 0, grpcPort: grpcPort, group: serviceGroup))
            }
            try await serviceGroup.run()
            logger.info("drained; closing the database pool")
        }
    }
}
