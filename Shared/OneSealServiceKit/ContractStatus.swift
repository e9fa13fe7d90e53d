import GRPCCore
import Logging
import OneSealCore
import OneSealStore

/// An error of a service's rules that stands for one status of the contract (PROTOCOL.md §12):
/// the rules stay free of RPC types, and each service says once, in its own module, what each of
/// its errors answers.
public protocol ContractStatus: Error {
    var rpcError: RPCError { get }
}

/// A year the calendar does not know, or a date it cannot count from, is the same answer in every
/// service: the request cannot be decided until the operator loads the year's notice.
extension CalendarError: ContractStatus {
    public var rpcError: RPCError { RPCError(code: .failedPrecondition, message: "working-day calendar: \(self)") }
}

/// Turns what a handler threw into the status the contract promises (PROTOCOL.md §12): an
/// `RPCError` as is, a rule error (``ContractStatus``) as its status, and a database failure as
/// UNAVAILABLE — the transaction rolled back, so "nothing was changed, retry" is true; a data
/// exception (SQLSTATE class 22) as INVALID_ARGUMENT, since retrying cannot help. With
/// `uniqueViolationIsAlreadyExists`, a unique-key violation (23505) is ALREADY_EXISTS instead, for
/// services where such a race means "someone recorded it first", not a fault. Anything else
/// propagates unchanged (GRPCCore answers it as UNKNOWN and logs it: a bug, not a contract answer).
public func contractError(_ error: any Error, logger: Logger, uniqueViolationIsAlreadyExists: Bool = false) -> any Error {
    switch error {
    case let error as RPCError:
        return error
    case let error as any ContractStatus:
        return error.rpcError
    case let error as PostgresError:
        if uniqueViolationIsAlreadyExists, error.sqlState == "23505" {
            return RPCError(code: .alreadyExists, message: "already recorded (\(error.constraint ?? "unique key")); read it again")
        }
        if error.sqlState?.hasPrefix("22") == true {
            // A data exception (a value PostgreSQL cannot store, e.g. text it cannot hold) is the
            // request's fault: retrying the same request can never succeed, so it must not be
            // answered UNAVAILABLE. The edge checks (`FieldLimits`) should have caught it first.
            logger.warning("database refused a value", metadata: ["sqlstate": "\(error.sqlState ?? "")"])
            return RPCError(code: .invalidArgument, message: "a value of the request cannot be stored (SQLSTATE \(error.sqlState ?? "")); nothing was changed")
        }
        logger.error("database error", metadata: ["error": "\(error)"])
        return RPCError(code: .unavailable, message: "the database could not complete the request; nothing was changed, retry")
    default:
        return error
    }
}

/// Maps every handler's errors with `contractError`, for all methods of a service: one place
/// instead of a wrapper around each handler. The innermost interceptor, so metrics and logs see
/// the status the caller gets.
public struct ContractStatusInterceptor: ServerInterceptor {
    let logger: Logger
    let uniqueViolationIsAlreadyExists: Bool

    public init(logger: Logger, uniqueViolationIsAlreadyExists: Bool = false) {
        self.logger = logger
        self.uniqueViolationIsAlreadyExists = uniqueViolationIsAlreadyExists
    }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let logger = self.logger
        let unique = self.uniqueViolationIsAlreadyExists
        var response: StreamingServerResponse<Output>
        do {
            response = try await next(request, context)
        } catch {
            throw contractError(error, logger: logger, uniqueViolationIsAlreadyExists: unique)
        }
        // A streaming answer fails inside its producer, after `next` has returned.
        if case .success(var contents) = response.accepted {
            let producer = contents.producer
            contents.producer = { writer in
                do { return try await producer(writer) } catch {
                    throw contractError(error, logger: logger, uniqueViolationIsAlreadyExists: unique)
                }
            }
            response.accepted = .success(contents)
        }
        return response
    }
}
