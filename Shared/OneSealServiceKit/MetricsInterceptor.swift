import GRPCCore
import Metrics

/// Counts every call and times it, by method and status code: `oneseal_rpc_calls_total` and
/// `oneseal_rpc_duration_seconds` on /metrics.
public struct MetricsServerInterceptor: ServerInterceptor {
    public init() {}

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let method = context.descriptor.fullyQualifiedMethod
        let start = ContinuousClock.now
        @Sendable func record(_ code: String) {
            Counter(label: "oneseal_rpc_calls_total", dimensions: [("method", method), ("code", code)]).increment()
            Metrics.Timer(label: "oneseal_rpc_duration_seconds", dimensions: [("method", method)])
                .recordInterval(since: start)
        }
        var response: StreamingServerResponse<Output>
        do {
            response = try await next(request, context)
        } catch {
            record((error as? RPCError).map { "\($0.code)" } ?? "unknown")
            throw error
        }
        switch response.accepted {
        case .failure(let error):
            record("\(error.code)")
        case .success(var contents):
            let producer = contents.producer
            contents.producer = { writer in
                do {
                    let trailers = try await producer(writer)
                    record("ok")
                    return trailers
                } catch {
                    record((error as? RPCError).map { "\($0.code)" } ?? "unknown")
                    throw error
                }
            }
            response.accepted = .success(contents)
        }
        return response
    }
}

extension Metrics.Timer {
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let (seconds, attoseconds) = elapsed.components
        self.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
