import Foundation
import HummingbirdCore
import Logging
import NIOCore
import NIOSSL
import OneSealServiceKit
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The web front's own HTTPS (issue #17 item 6 / #18): the certificate of the public host name
/// (`ONESEAL_PUBLIC_URL`'s, from the operator's CA — not the node CA, browsers do not trust that),
/// given by `ONESEAL_WEB_HTTPS_CERT_FILE` (PEM chain) and `ONESEAL_WEB_HTTPS_KEY_FILE`. Reloaded like
/// every service's certificate — SIGHUP or a change of either file, checked every 10 s — so a
/// renewal drops no page: each new connection takes the context current when it arrives.
public final class WebCertificate: Sendable {
    public let certificateFile: String
    public let keyFile: String
    private let state: Mutex<(context: NIOSSLContext, fingerprint: [String])>

    public init(certificateFile: String, keyFile: String) throws {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.state = Mutex((try Self.context(certificateFile: certificateFile, keyFile: keyFile), TLSReloadService.fingerprint(paths: [certificateFile, keyFile])))
    }

    /// TLS 1.2 and 1.3 (browsers of the halls' machines), HTTP/1.1 by ALPN, no client certificates.
    static func context(certificateFile: String, keyFile: String) throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { NIOSSLCertificateSource.certificate($0) }
        guard !chain.isEmpty else { throw LoadError(description: "\(certificateFile) holds no certificate") }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem)))
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["http/1.1"]
        return try NIOSSLContext(configuration: configuration)
    }

    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    public var current: NIOSSLContext { state.withLock { $0.context } }

    /// Reads the files again when they changed (or always, `force`); a file that does not load
    /// keeps the old context (a half-copied renewal must not take the hall's site down).
    @discardableResult
    public func reload(force: Bool = false, logger: Logger) -> Bool {
        let fingerprint = TLSReloadService.fingerprint(paths: [certificateFile, keyFile])
        if !force, fingerprint == state.withLock({ $0.fingerprint }) { return false }
        do {
            let context = try Self.context(certificateFile: certificateFile, keyFile: keyFile)
            state.withLock { $0 = (context, fingerprint) }
            logger.info("HTTPS certificate reloaded", metadata: ["file": "\(certificateFile)"])
            return true
        } catch {
            state.withLock { $0.fingerprint = fingerprint }  // not retried until the files change again
            logger.error("HTTPS certificate reload failed; keeping the previous one", metadata: ["file": "\(certificateFile)", "error": "\(error)"])
            return false
        }
    }
}

/// A child channel that puts TLS, with the context current at accept time, in front of HTTP/1.1.
struct ReloadingTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let certificate: WebCertificate

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let context = certificate.current
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
        }.flatMap {
            self.base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 behind `ReloadingTLSChannel`.
    static func https(_ certificate: WebCertificate) -> HTTPServerBuilder {
        .init { responder in
            ReloadingTLSChannel(base: HTTP1Channel(responder: responder), certificate: certificate)
        }
    }
}

/// Reloads the HTTPS certificate on SIGHUP and when its files change (every `interval`), as
/// `TLSReloadService` does for the node certificates; one operator habit for both.
public struct WebCertificateReloadService: Service {
    let certificate: WebCertificate
    let logger: Logger
    let interval: Duration

    public init(certificate: WebCertificate, logger: Logger, interval: Duration = .seconds(10)) {
        self.certificate = certificate
        self.logger = logger
        self.interval = interval
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in signals { certificate.reload(force: true, logger: logger) }
            }
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: interval)
                    certificate.reload(logger: logger)
                }
            }
            try await gracefulShutdown()
            group.cancelAll()
        }
    }
}
