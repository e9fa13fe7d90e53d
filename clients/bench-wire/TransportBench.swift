import GRPCCore
import OneSealWire

/// Runs `callers` tasks, each making unary echo calls back to back through one `GRPCClient` (one
/// OneSeal TCP connection, or GRPCCore's in-process transport for its floor), and merges their
/// latencies.
func runTransportCalls<Transport: ClientTransport>(
    client: GRPCClient<Transport>, payload: [UInt8], callers: Int, warmup: Double, duration: Double
) async throws -> RunResult {
    let window = MeasurementWindow(warmupSeconds: warmup, durationSeconds: duration)
    var merged = RunResult()
    merged.seconds = window.seconds
    let cpuBefore = processCPUSeconds()
    try await withThrowingTaskGroup(of: RunResult.self) { group in
        for _ in 0..<callers {
            group.addTask {
                var result = RunResult()
                let request = ClientRequest(message: payload)
                while true {
                    let start = monotonicNanos()
                    if start >= window.end { break }
                    do {
                        _ = try await client.unary(
                            request: request,
                            descriptor: BenchEchoService.unary,
                            serializer: BytesCoder(),
                            deserializer: BytesCoder(),
                            options: .defaults
                        ) { response in try response.message }
                        result.record(started: start, finished: monotonicNanos(), in: window)
                    } catch {
                        result.errors += 1
                    }
                }
                return result
            }
        }
        for try await result in group { merged.merge(result) }
    }
    merged.cpuSeconds = processCPUSeconds() - cpuBefore
    return merged
}
