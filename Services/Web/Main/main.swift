import Foundation
import Logging
import OneSealServiceKit
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
let group = ServiceGroup(
    configuration: ServiceGroupConfiguration(
        services: [.init(service: WebFront(configuration: configuration, logger: logger))],
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
