import GRPCCore
import OneSealTrace

/// Binds the call's trace context (a child of the caller's `traceparent`, or a new trace) for the
/// handler, so its log lines carry `trace_id` and the events it writes carry the `traceparent`.
/// First in the server's interceptor chain, so even a refused call's log line has the trace id.
public struct TraceServerInterceptor: ServerInterceptor {
    public init() {}

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let trace = TraceContext.continuing(request.metadata[stringValues: "traceparent"].first(where: { _ in true }))
        var response = try await TraceContext.$current.withValue(trace) { try await next(request, context) }
        // The response body runs later, outside this scope: bind the context for it too.
        if case .success(var contents) = response.accepted {
            let producer = contents.producer
            contents.producer = { writer in
                try await TraceContext.$current.withValue(trace) { try await producer(writer) }
            }
            response.accepted = .success(contents)
        }
        return response
    }
}

/// Sends the current trace context on outgoing calls (to peers and other nodes) as `traceparent`,
/// as a new span of the same trace, unless the caller set one itself.
public struct TraceClientInterceptor: ClientInterceptor {
    public init() {}

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingClientRequest<Input>,
        context: ClientContext,
        next: (StreamingClientRequest<Input>, ClientContext) async throws -> StreamingClientResponse<Output>
    ) async throws -> StreamingClientResponse<Output> {
        var request = request
        if request.metadata[stringValues: "traceparent"].first(where: { _ in true }) == nil, let current = TraceContext.current {
            request.metadata.addString(current.child().traceparent, forKey: "traceparent")
        }
        return try await next(request, context)
    }
}
