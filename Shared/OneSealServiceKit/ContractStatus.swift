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

/// Runs an RPC handler's body and turns what it throws into the status the contract promises:
/// an `RPCError` as is, a rule error (``ContractStatus``) as its status, and a database failure as
/// UNAVAILABLE — the transaction rolled back, so "nothing was changed, retry" is true. With
/// `uniqueViolationIsAlreadyExists`, a unique-key violation (23505) is ALREADY_EXISTS instead, for
/// services where such a race means "someone recorded it first", not a fault. Anything else
/// propagates unchanged (GRPCCore answers it as UNKNOWN and logs it: a bug, not a contract answer).
public func answering<T>(
    logger: Logger, uniqueViolationIsAlreadyExists: Bool = false, _ body: () async throws -> T
) async throws -> T {
    do {
        return try await body()
    } catch let error as RPCError {
        throw error
    } catch let error as any ContractStatus {
        throw error.rpcError
    } catch let error as PostgresError {
        if uniqueViolationIsAlreadyExists, error.sqlState == "23505" {
            throw RPCError(code: .alreadyExists, message: "already recorded (\(error.constraint ?? "unique key")); read it again")
        }
        if error.sqlState?.hasPrefix("22") == true {
            // A data exception (a value PostgreSQL cannot store, e.g. text it cannot hold) is the
            // request's fault: retrying the same request can never succeed, so it must not be
            // answered UNAVAILABLE. The edge checks (`FieldLimits`) should have caught it first.
            logger.warning("database refused a value", metadata: ["sqlstate": "\(error.sqlState ?? "")"])
            throw RPCError(code: .invalidArgument, message: "a value of the request cannot be stored (SQLSTATE \(error.sqlState ?? "")); nothing was changed")
        }
        logger.error("database error", metadata: ["error": "\(error)"])
        throw RPCError(code: .unavailable, message: "the database could not complete the request; nothing was changed, retry")
    }
}
