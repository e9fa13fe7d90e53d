import Logging
import ServiceLifecycle

/// The loop of every background job (sweepers, integrators, workers, maintenance): run `pass`,
/// then wait `interval`, until the service group shuts down gracefully or the task is cancelled.
/// A failing pass is logged with `failure` and tried again after the next wait: background work
/// retries rather than stopping the process. The wait ends early on graceful shutdown, so a
/// stopping node does not sit out an hour-long interval.
///
/// - Parameter waitFirst: wait one interval before the first pass (for jobs that have nothing to
///   do at start).
public func repeatUntilShutdown(
    every interval: Duration,
    waitFirst: Bool = false,
    logger: Logger,
    failure: Logger.Message,
    level: Logger.Level = .error,
    _ pass: () async throws -> Void
) async {
    if waitFirst {
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
    }
    while !Task.isCancelled, !Task.isShuttingDownGracefully {
        do {
            try await pass()
        } catch {
            logger.log(level: level, failure, metadata: ["error": "\(error)"])
        }
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
    }
}
