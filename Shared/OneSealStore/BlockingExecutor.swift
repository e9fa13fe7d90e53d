import NIOPosix

/// Runs blocking libpq calls on an `NIOThreadPool`, so neither NIO event loops nor Swift's
/// cooperative threads ever wait on the network.
///
/// Unlike `NIOThreadPool.runIfActive`, submitted work is not dropped when the awaiting task is
/// cancelled: a ROLLBACK issued by a cancelled task must still reach the server.
struct BlockingExecutor: Sendable {
    let pool: NIOThreadPool

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            pool.submit { state in
                switch state {
                case .active:
                    continuation.resume(with: Result(catching: body))
                case .cancelled:
                    continuation.resume(throwing: PostgresError(kind: .clientClosed, message: "the PostgreSQL client is shut down"))
                }
            }
        }
    }
}
