import Foundation
import Logging
import OneSealServiceKit
import OneSealTLS
import ServiceLifecycle
import WebService

// oneseal-web: the node's public web front (#18). Configuration from the environment
// (docs/operators.md); stops on SIGTERM/SIGINT after in-flight requests finish.
let configuration: WebConfiguration
do {
    configuration = try WebConfiguration.fromEnvironment()
} catch {
    FileHandle.standardError.write(Data("oneseal-web: \(error)\n".utf8))
    exit(2)
}
let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
LoggingSystem.bootstrap { label in
    LogfmtLogHandler(label: label, level: level, metadata: ["service": "web", "node": "\(configuration.node)"])
}
let logger = Logger(label: "oneseal.web")
// The front calls intake and certificate over TLS as web@<node> (a certificate from `oneseal certs
// issue --service web`), reloaded on SIGHUP or a file change like every service's.
let tls: TLSMaterialSource?
do {
    tls = try ServiceRunner.loadTLS(configuration.tls, node: configuration.node, service: "web", host: configuration.host, logger: logger)
} catch {
    FileHandle.standardError.write(Data("oneseal-web: \(error)\n".utf8))
    exit(2)
}
// Its own HTTPS, when the operator gives the public host's certificate (docs/operators.md).
let https: WebCertificate?
do {
    https = try configuration.https.map { try WebCertificate(certificateFile: $0.certificateFile, keyFile: $0.keyFile) }
} catch {
    FileHandle.standardError.write(Data("oneseal-web: ONESEAL_WEB_HTTPS_CERT_FILE: \(error)\n".utf8))
    exit(2)
}
var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: WebFront(configuration: configuration, logger: logger, tls: tls, https: https))]
if let tls { services.append(.init(service: TLSReloadService(source: tls, logger: Logger(label: "oneseal.tls")))) }
if let https { services.append(.init(service: WebCertificateReloadService(certificate: https, logger: Logger(label: "oneseal.web.https")))) }
let group = ServiceGroup(
    configuration: ServiceGroupConfiguration(
        services: services,
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger
    )
)
do {
    try await group.run()
    logger.info("stopped")
} catch {
    logger.critical("web front failed", metadata: ["error": "\(error)"])
    exit(1)
}
