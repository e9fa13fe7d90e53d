import EvaluationRules
import Foundation
import Logging
import OneSealServiceKit
import ServiceLifecycle

/// Keeps the node's own read model warm in `ReadModelCache`: loaded once at start and brought up
/// to date every `interval`, so the director's board (which asks for this node's figures,
/// warnings and report at once, under the front's 8-second deadline) never pays for the first
/// whole load. A call cancelled by its caller's deadline would otherwise never finish loading at
/// 10,000 open cases in a debug build, and every later call would start over.
public struct ReadModelWarmer: Service {
    let api: EvaluationAPI
    let interval: Duration

    public init(api: EvaluationAPI, interval: Duration = .seconds(30)) {
        self.api = api
        self.interval = interval
    }

    public func run() async throws {
        await repeatUntilShutdown(every: interval, logger: api.logger, failure: "read model refresh failed; will retry") {
            let started = ContinuousClock.now
            let model = try await api.database.withConnection { try await api.models.model(nodes: [api.node], on: $0) }
            let took = ContinuousClock.now - started
            if took > .seconds(1) {
                api.logger.info("read model refreshed", metadata: ["cases": "\(model.cases.count)", "applications": "\(model.applications.count)", "took": "\(took)"])
            }
        }
    }
}
