import GRPCCore
import Logging
import OneSealProto
import OneSealWire

/// One health check over its own short-lived connection, as an orchestrator's probe would make it.
enum HealthProbe {
    enum Answer {
        case serving
        case notServing(String)
    }

    /// A probe of a process still starting fails by design; its retries are not news.
    static let quiet: Logger = {
        var logger = Logger(label: "oneseal.local-cluster.probe")
        logger.logLevel = .error
        return logger
    }()

    static func check(host: String, port: Int, tls: OneSealClientTransport.ClientTLS? = nil, timeout: Duration = .seconds(2)) async -> Answer {
        do {
            let response = try await withGRPCClient(transport: OneSealClientTransport(host: host, port: port, logger: quiet, tls: tls)) { client in
                var options = CallOptions.defaults
                options.timeout = timeout
                return try await Health_Health.Client(wrapping: client).check(Health_CheckRequest(), options: options)
            }
            return response.status == .serving ? .serving : .notServing("status \(response.status)")
        } catch {
            return .notServing("\(error)")
        }
    }
}
