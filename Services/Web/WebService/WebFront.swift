import Foundation
import GRPCCore
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import OneSealServiceKit
import OneSealTLS
import OneSealWire
import OneSealAuth
import OneSealPrivacy
import OneSealStore
import ServiceLifecycle
import Synchronization
import WebRules

/// oneseal-web (#18): the node's public web front. One `Service`: it keeps a OneSeal TCP client to
/// the node's intake and certificate services and serves the HTML pages over HTTP/1.1 until graceful
/// shutdown (SIGTERM), when the HTTP server drains first and the clients close after it. It owns
/// no business rules: every answer comes from a service, as for any client. Its only data are
/// applicant accounts and sessions, in its own database, when accounts are configured.
public struct WebFront: Service {
    let configuration: WebConfiguration
    let logger: Logger
    let onListening: @Sendable (Int) -> Void

    /// TLS to the node's services (`ServiceRunner.loadTLS` as `web@<node>`); nil: plain loopback.
    let tls: TLSMaterialSource?
    /// The front's own HTTPS certificate (`WebHTTPS.swift`); nil: plain HTTP behind a terminator.
    let https: WebCertificate?

    public init(
        configuration: WebConfiguration, logger: Logger, tls: TLSMaterialSource? = nil, https: WebCertificate? = nil,
        onListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        self.tls = tls
        self.https = https
        self.configuration = configuration
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let wireLogger = Logger(label: "oneseal.wire.client")
        let material = self.tls
        let node = configuration.node
        let intake = GRPCClient(transport: OneSealClientTransport(
            host: configuration.intake.host, port: configuration.intake.port, configuration: configuration.wire, logger: wireLogger,
            tls: material.map { .init(material: $0, expectedNode: node, expectedService: "intake") }))
        let certificate = GRPCClient(transport: OneSealClientTransport(
            host: configuration.certificate.host, port: configuration.certificate.port, configuration: configuration.wire, logger: wireLogger,
            tls: material.map { .init(material: $0, expectedNode: node, expectedService: "certificate") }))
        let wire = self.configuration.wire
        let evaluation = self.configuration.evaluation.map { address in
            GRPCClient(transport: OneSealClientTransport(
                host: address.host, port: address.port, configuration: wire, logger: wireLogger,
                tls: material.map { .init(material: $0, expectedNode: node, expectedService: "evaluation") }))
        }
        let approval = self.configuration.approval.map { address in
            GRPCClient(transport: OneSealClientTransport(
                host: address.host, port: address.port, configuration: wire, logger: wireLogger,
                tls: material.map { .init(material: $0, expectedNode: node, expectedService: "approval") }))
        }
        let supervision = self.configuration.supervision.map { address in
            GRPCClient(transport: OneSealClientTransport(
                host: address.host, port: address.port, configuration: wire, logger: wireLogger,
                tls: material.map { .init(material: $0, expectedNode: node, expectedService: "supervision") }))
        }
        let boundPort = BoundPort()
        let handlers = PageHandlers(
            configuration: configuration, intake: intake, certificate: certificate, boundPort: boundPort, logger: logger)
        let router = Router(context: WebContext.self)
        router.add(middleware: RequestLogMiddleware(siteName: configuration.siteName, logger: logger, https: https != nil))
        handlers.register(on: router)
        // Accounts (#18 item 3): the front's own database, opened and migrated before it listens.
        let database = configuration.accounts.map {
            PostgresClient(configuration: PostgresClientConfiguration(conninfo: $0.databaseConninfo, maxConnections: $0.databasePoolSize), logger: Logger(label: "oneseal.store"))
        }
        var accountHandlers: AccountHandlers?
        if let accounts = configuration.accounts, let database {
            let keyring = try DataKeyring(contentsOfFile: accounts.dataKeyFile)
            let signer = try TokenSigningKey(contentsOfFile: accounts.applicantKeyFile, issuer: configuration.node)
            let secret = try Self.csrfSecret(dataKeyFile: accounts.dataKeyFile)
            accountHandlers = AccountHandlers(
                store: AccountStore(database: database, keyring: keyring), signer: signer, node: configuration.node,
                policy: SessionPolicy(secure: configuration.cookiesSecure || https != nil), csrf: CSRFTokens(derivedFrom: secret), intake: intake,
                trustedProxies: configuration.trustedProxies, siteName: configuration.siteName, logger: logger)
            accountHandlers?.register(on: router)
            if let accountHandlers {
                ApplyHandlers(accounts: accountHandlers, intake: intake, node: configuration.node).register(on: router)
                MyApplicationHandlers(accounts: accountHandlers, intake: intake, certificate: certificate, evaluation: evaluation, node: configuration.node).register(on: router)
                // The rating link on the receipt (W40): no sign-in; the look-up's per-address limit.
                if let evaluation {
                    RatingLinkHandlers(accounts: accountHandlers, intake: intake, evaluation: evaluation, node: configuration.node, limiter: handlers.progressLimiter)
                        .register(on: router)
                }
                // The staff workbench (#19): its own key, sessions and cookie; the accounts' CSRF,
                // throttle and client address.
                if let staffKeyFile = accounts.staffKeyFile {
                    let staffHandlers = StaffHandlers(
                        accounts: accountHandlers, store: StaffStore(database: database, keyring: keyring),
                        signer: try TokenSigningKey(contentsOfFile: staffKeyFile, issuer: configuration.node), node: configuration.node,
                        policy: .staff(secure: configuration.cookiesSecure || https != nil), approval: approval,
                        intake: intake, supervision: supervision
                    )
                    staffHandlers.register(on: router)
                    DashboardHandlers(staff: staffHandlers, evaluation: evaluation, now: { Date() }).register(on: router)
                    WindowHandlers(staff: staffHandlers, intake: intake, now: { Date() }).register(on: router)
                    let health = [("intake", intake), ("certificate", certificate)]
                        + [approval.map { ("approval", $0) }, supervision.map { ("supervision", $0) }, evaluation.map { ("evaluation", $0) }].compactMap { $0 }
                    OperatorHandlers(staff: staffHandlers, intake: intake, services: health, database: database).register(on: router)
                } else {
                    StaffHandlers.registerUnavailable(on: router, siteName: configuration.siteName)
                }
            }
        } else {
            AccountHandlers.registerUnavailable(on: router, siteName: configuration.siteName)
            StaffHandlers.registerUnavailable(on: router, siteName: configuration.siteName)
        }
        let onListening = self.onListening
        let logger = self.logger
        let configuration = self.configuration
        let https = self.https
        let app = Application(
            router: router,
            server: https.map { HTTPServerBuilder.https($0) } ?? .http1(),
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                boundPort.set(port)
                logger.info("listening", metadata: [
                    "port": "\(port)", "public_url": "\(configuration.publicURL ?? "-")", "node": "\(configuration.node)",
                    "protocol": "\(https == nil ? "http" : "https")",
                ])
                onListening(port)
            },
            logger: logger
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await intake.runConnections() }
            group.addTask { try await certificate.runConnections() }
            if let evaluation { group.addTask { try await evaluation.runConnections() } }
            if let approval { group.addTask { try await approval.runConnections() } }
            if let supervision { group.addTask { try await supervision.runConnections() } }
            defer {
                intake.beginGracefulShutdown()
                certificate.beginGracefulShutdown()
                evaluation?.beginGracefulShutdown()
                approval?.beginGracefulShutdown()
                supervision?.beginGracefulShutdown()
            }
            guard let database else {
                // Runs until graceful shutdown (the ServiceGroup's signal reaches it through the task).
                try await app.run()
                return
            }
            // The pool runs for the life of the front and stops last, once the server has drained.
            try await withThrowingTaskGroup(of: Void.self) { pool in
                pool.addTask { try await database.run() }
                defer { pool.cancelAll() }
                let applied = try await Migrator.apply(AccountStore.migrations, on: database)
                logger.info("accounts database ready", metadata: ["migrations_applied": "\(applied)"])
                try await app.run()
            }
        }
    }
}

extension WebFront {
    /// The CSRF key's input: the current data key's bytes (first key line of the front's data key
    /// file). HKDF with its own label makes a key that seals nothing and indexes nothing.
    static func csrfSecret(dataKeyFile: String) throws -> [UInt8] {
        let text = try String(contentsOfFile: dataKeyFile, encoding: .utf8)
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if let bytes = Data(base64Encoded: trimmed) { return Array(bytes) }
        }
        throw WebCertificate.LoadError(description: "ONESEAL_DATA_KEY_FILE: no key in \(dataKeyFile)")
    }
}

/// The port the server bound (ONESEAL_PORT=0 in tests), for the default public URL.
final class BoundPort: Sendable {
    private let value = Mutex(0)
    func set(_ port: Int) { value.withLock { $0 = port } }
    var port: Int { value.withLock { $0 } }
}

/// One log line per request with its id (also sent back as `X-Request-Id` and printed on every
/// page), the method, the path without its query (a QR link is not secret, but a log is no place
/// for it), the status and the time taken. A handler's unexpected error becomes a plain Chinese
/// page with that id, never a stack trace.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = WebContext
    let siteName: String
    let logger: Logger
    /// Served over HTTPS: every answer tells the browser to come back only over HTTPS (HSTS, a year).
    var https = false

    func handle(_ request: Request, context: WebContext, next: (Request, WebContext) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        var response: Response
        if request.uri.string.utf8.count > WebLimits.maximumTargetBytes {
            response = PageHandlers.html(.uriTooLong, ErrorPage.render(layout: Layout(siteName: siteName, requestID: context.id), title: "链接过长", message: "链接过长，无法处理。"))
        } else {
            do {
                response = try await next(request, context)
            } catch is NIOTooManyBytesError {
                response = PageHandlers.html(.contentTooLarge, ErrorPage.render(layout: Layout(siteName: siteName, requestID: context.id), title: "提交内容过大", message: "提交的内容过大，请检查后重新填写。"))
            } catch let error as HTTPError where error.status == .contentTooLarge {
                response = PageHandlers.html(.contentTooLarge, ErrorPage.render(layout: Layout(siteName: siteName, requestID: context.id), title: "提交内容过大", message: "提交的内容过大，请检查后重新填写。"))
            } catch let error as HTTPError where error.status == .notFound {
                response = PageHandlers.html(.notFound, ErrorPage.render(layout: Layout(siteName: siteName, requestID: context.id), title: "页面不存在", message: "你要找的页面不存在。"))
            } catch let error as HTTPError where error.status == .methodNotAllowed {
                response = PageHandlers.html(.methodNotAllowed, ErrorPage.render(layout: Layout(siteName: siteName, requestID: context.id), title: "请求方式不正确", message: "请从首页重新操作。"))
            } catch {
                context.logger.error("page failed", metadata: ["request_id": "\(context.id)", "error": "\(error)"])
                response = PageHandlers.html(.internalServerError, ErrorPage.render(layout: Layout(siteName: siteName, requestID: context.id), title: "系统出错", message: ErrorPage.unavailable))
            }
        }
        response.headers[.init("X-Request-Id")!] = context.id
        if https { response.headers[.init("Strict-Transport-Security")!] = "max-age=31536000" }
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        logger.info("request", metadata: [
            "request_id": "\(context.id)", "method": "\(request.method.rawValue)", "path": "\(request.uri.path)",
            "status": "\(response.status.code)", "ms": "\(String(format: "%.1f", milliseconds))", "client": "\(context.remoteHost)",
        ])
        return response
    }
}
