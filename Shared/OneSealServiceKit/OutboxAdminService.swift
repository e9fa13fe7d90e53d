import Foundation
import GRPCCore
import Logging
import OneSealAuth
import OneSealOutbox
import OneSealProto
import OneSealStore
import SwiftProtobuf

/// `oneseal.events.v1.OutboxAdmin`: the dead letters of this service's outbox, for
/// `oneseal outbox dead-letters | replay | discard`. Every service serves it for its own outbox;
/// only an `operator` of this node may call it (``policy``). Payloads are never returned (they may
/// hold personal data); every replay and discard is logged with the operator's subject, because
/// each one decides whether an effect happens at another service.
public struct OutboxAdminService: Events_OutboxAdmin.SimpleServiceProtocol {
    let database: PostgresClient
    let logger: Logger

    public init(database: PostgresClient, logger: Logger = Logger(label: "oneseal.outbox")) {
        self.database = database
        self.logger = logger
    }

    public static let policy = AccessPolicy([
        "oneseal.events.v1.OutboxAdmin/ListDeadLetters": MethodRule(roles: [.operator], objects: .anyOfTheNode),
        "oneseal.events.v1.OutboxAdmin/ReplayDeadLetter": MethodRule(roles: [.operator], objects: .anyOfTheNode),
        "oneseal.events.v1.OutboxAdmin/DiscardDeadLetter": MethodRule(roles: [.operator], objects: .anyOfTheNode),
    ])

    public func listDeadLetters(request: Events_ListDeadLettersRequest, context: ServerContext) async throws -> Events_ListDeadLettersResponse {
        let size = request.page.pageSize == 0 ? 100 : Int(request.page.pageSize)
        guard (1...1000).contains(size) else {
            throw RPCError(code: .invalidArgument, message: "page.page_size: \(request.page.pageSize) is not in 1...1000")
        }
        var after: Int64 = 0
        if !request.page.pageToken.isEmpty {
            guard let token = Int64(request.page.pageToken), token >= 0 else {
                throw RPCError(code: .invalidArgument, message: "page.page_token: not a token this service gave out")
            }
            after = token
        }
        let letters = try await DeadLetters.list(after: after, limit: size, on: database)
        var response = Events_ListDeadLettersResponse()
        response.deadLetters = letters.map { letter in
            var message = Events_DeadLetter()
            message.id = letter.id
            message.eventID = letter.eventID.uuidString
            message.type = letter.type
            message.destination = letter.destination
            message.aggregateID = letter.aggregateID
            message.size = Int64(letter.size)
            message.attempts = Int32(clamping: letter.attempts)
            message.reason = letter.reason
            message.firstFailedAt = Google_Protobuf_Timestamp(date: letter.firstFailedAt)
            message.deadAt = Google_Protobuf_Timestamp(date: letter.deadAt)
            return message
        }
        response.page.nextPageToken = letters.count == size ? String(letters.last?.id ?? 0) : ""
        response.page.totalSize = Int64(try await DeadLetters.count(on: database))
        return response
    }

    public func replayDeadLetter(request: Events_ReplayDeadLetterRequest, context: ServerContext) async throws -> Events_ReplayDeadLetterResponse {
        let eventID = try await DeadLetters.replay(id: request.id, on: database)
        guard let eventID else { throw RPCError(code: .notFound, message: "id: no dead letter \(request.id)") }
        logger.notice(
            "dead letter replayed into the outbox",
            metadata: ["id": "\(request.id)", "event_id": "\(eventID)", "by": "\(Caller.current?.logSubject ?? "-")"])
        return Events_ReplayDeadLetterResponse.with { $0.eventID = eventID.uuidString }
    }

    public func discardDeadLetter(request: Events_DiscardDeadLetterRequest, context: ServerContext) async throws -> Events_DiscardDeadLetterResponse {
        let eventID = try await DeadLetters.discard(id: request.id, on: database)
        guard let eventID else { throw RPCError(code: .notFound, message: "id: no dead letter \(request.id)") }
        logger.warning(
            "dead letter discarded: its effect will not happen at its destination",
            metadata: ["id": "\(request.id)", "event_id": "\(eventID)", "by": "\(Caller.current?.logSubject ?? "-")"])
        return Events_DiscardDeadLetterResponse.with { $0.eventID = eventID.uuidString }
    }
}
