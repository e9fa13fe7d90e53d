import ArgumentParser
import Foundation
import GRPCCore
import OneSealAuth
import OneSealOutbox
import OneSealProto
import OneSealStore
import OneSealWire
import SwiftProtobuf

/// `oneseal outbox …`: the dead letters of one service's outbox — events its relay set aside
/// because they can never be delivered as they are (too large for a frame, refused by the
/// consumer). Like every command it asks the service (`oneseal.events.v1.OutboxAdmin`, role
/// operator); with `--database` it reads the service's database directly instead, for when the
/// service is not running (docs/decisions.md O16).
struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Inspect, replay or discard a service's dead-lettered events.",
        subcommands: [DeadLettersList.self, Replay.self, Discard.self]
    )

    /// Which service's outbox, and how to reach it.
    struct Target: ParsableArguments {
        @Option(help: "Service whose outbox it is (intake, approval, certificate, supervision, evaluation).")
        var service: String

        @Option(help: ArgumentHelp(
            "Read the service's database (libpq conninfo) instead of calling the service; a password comes from PGPASSWORD or ~/.pgpass.",
            valueName: "conninfo"))
        var database: String?

        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials

        func validate() throws {
            guard ServiceName(rawValue: service) != nil else {
                throw ValidationError("--service: '\(service)' is not one of \(ServiceName.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        var name: String { "\(service)@\(connection.node)" }

        /// Runs `body` with the service's OutboxAdmin client and an operator's metadata.
        func admin<T: Sendable>(_ body: (Events_OutboxAdmin.Client<OneSealClientTransport>, Metadata) async throws -> T) async throws -> T {
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .operator)
            return try await connection.call(ServiceName(rawValue: service)!) { client in
                try await body(Events_OutboxAdmin.Client(wrapping: client), metadata)
            }
        }

        /// One act on dead letter `id`: on the database with `--database`, else through the
        /// service's OutboxAdmin; the event id it concerned.
        func act(
            on id: Int64, direct: @escaping (PostgresClient) async throws -> UUID?,
            rpc: (Events_OutboxAdmin.Client<OneSealClientTransport>, Metadata) async throws -> String
        ) async throws -> String {
            guard let conninfo = database else { return try await admin(rpc) }
            guard let eventID = try await self.direct(conninfo, direct) else {
                throw ValidationError("--id: no dead letter \(id) in \(name)")
            }
            return eventID.uuidString
        }

        /// Runs `body` on the service's database (`--database`).
        func direct<T: Sendable>(_ conninfo: String, _ body: (PostgresClient) async throws -> T) async throws -> T {
            let client = PostgresClient(conninfo: conninfo, maxConnections: 1)
            do {
                let result = try await body(client)
                await client.shutdown()
                return result
            } catch {
                await client.shutdown()
                throw error
            }
        }
    }

    /// One row as both paths print it.
    struct Row: Sendable {
        var id: Int64
        var eventID: String
        var type: String
        var destination: String
        var aggregateID: String
        var size: Int64
        var attempts: Int
        var reason: String
        var firstFailedAt: Date
        var deadAt: Date
    }

    struct DeadLettersList: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dead-letters", abstract: "List the dead-lettered events (no payloads), oldest first. [operator]")
        @OptionGroup var target: Target
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let rows: [Row]
            if let conninfo = target.database {
                rows = try await target.direct(conninfo) { try await DeadLetters.list(on: $0) }.map { letter in
                    Row(
                        id: letter.id, eventID: letter.eventID.uuidString, type: letter.type, destination: letter.destination,
                        aggregateID: letter.aggregateID, size: Int64(letter.size), attempts: letter.attempts, reason: letter.reason,
                        firstFailedAt: letter.firstFailedAt, deadAt: letter.deadAt)
                }
            } else {
                rows = try await target.admin { admin, metadata in
                    var request = Events_ListDeadLettersRequest()
                    request.page.pageSize = 1000
                    return try await allPages { token in
                        request.page.pageToken = token
                        let response = try await admin.listDeadLetters(request, metadata: metadata)
                        return (response.deadLetters, response.page.nextPageToken)
                    }
                }.map { letter in
                    Row(
                        id: letter.id, eventID: letter.eventID, type: letter.type, destination: letter.destination,
                        aggregateID: letter.aggregateID, size: letter.size, attempts: Int(letter.attempts), reason: letter.reason,
                        firstFailedAt: letter.firstFailedAt.date, deadAt: letter.deadAt.date)
                }
            }
            let iso = ISO8601DateFormatter()
            try output.emit(
                rows.map { row -> [String: Any] in
                    [
                        "id": row.id, "event_id": row.eventID, "type": row.type, "destination": row.destination,
                        "aggregate_id": row.aggregateID, "size": row.size, "attempts": row.attempts, "reason": row.reason,
                        "first_failed_at": iso.string(from: row.firstFailedAt), "dead_at": iso.string(from: row.deadAt),
                    ]
                },
                text: rows.isEmpty
                    ? "no dead letters in \(target.name)"
                    : rows.map { row in
                        "\(row.id)  \(row.type)  → \(row.destination)  \(row.size) B  first failure \(iso.string(from: row.firstFailedAt))\n    \(row.reason)"
                    }.joined(separator: "\n"))
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a dead letter back into the outbox; it is delivered next for its destination. [operator]")
        @Option(help: "The dead letter's id (as `dead-letters` lists it).") var id: Int64
        @OptionGroup var target: Target
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let eventID = try await target.act(
                on: id, direct: { try await DeadLetters.replay(id: id, on: $0) },
                rpc: { admin, metadata in
                    try await admin.replayDeadLetter(Events_ReplayDeadLetterRequest.with { $0.id = id }, metadata: metadata).eventID
                })
            try output.emit(
                ["id": id, "event_id": eventID, "replayed": true],
                text: "dead letter \(id) (event \(eventID)) is back in the outbox of \(target.name)")
        }
    }

    struct Discard: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a dead letter for good (its effect will never happen at its destination). [operator]")
        @Option(help: "The dead letter's id (as `dead-letters` lists it).") var id: Int64
        @OptionGroup var target: Target
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let eventID = try await target.act(
                on: id, direct: { try await DeadLetters.discard(id: id, on: $0) },
                rpc: { admin, metadata in
                    try await admin.discardDeadLetter(Events_DiscardDeadLetterRequest.with { $0.id = id }, metadata: metadata).eventID
                })
            try output.emit(
                ["id": id, "event_id": eventID, "discarded": true], text: "dead letter \(id) (event \(eventID)) deleted from \(target.name)")
        }
    }
}
