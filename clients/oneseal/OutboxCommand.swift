import ArgumentParser
import Foundation
import OneSealOutbox
import OneSealStore

/// `oneseal outbox …`: the dead letters of one service's outbox — events its relay set aside
/// because they can never be delivered as they are (too large for a frame, refused by the
/// consumer). Unlike the other commands this one reads the service's own database (libpq
/// conninfo), not its RPC port: it is a tool for the operator who runs that database, and the
/// dead letters hold personal data that no RPC should hand out (docs/decisions.md O16).
struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Inspect and replay a service's dead-lettered events (reads the service's database).",
        subcommands: [DeadLettersList.self, Replay.self, Discard.self]
    )

    /// Which service's database: `--database`, else ONESEAL_DATABASE_URL, else the default a service
    /// itself uses (`dbname=oneseal_<service>_<node>` on 127.0.0.1 as postgres). A password comes
    /// from libpq's own PGPASSWORD / ~/.pgpass, never from an option.
    struct DatabaseTarget: ParsableArguments {
        @Option(help: "Service whose outbox to read (intake, approval, certificate, supervision, evaluation).")
        var service: String

        @Option(help: "Node (GB/T 2260 code) of that service.")
        var node: String = "371300"

        @Option(help: ArgumentHelp("libpq conninfo of the service's database (default ONESEAL_DATABASE_URL, else the service's default).", valueName: "conninfo"))
        var database: String?

        func validate() throws {
            guard ServiceName(rawValue: service) != nil else {
                throw ValidationError("--service: '\(service)' is not one of \(ServiceName.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard node.count == 6, node.allSatisfy(\.isNumber) else { throw ValidationError("--node: '\(node)' is not a 6-digit division code") }
        }

        var conninfo: String {
            if let database { return database }
            if let url = ProcessInfo.processInfo.environment["ONESEAL_DATABASE_URL"], !url.isEmpty { return url }
            return "host=127.0.0.1 port=5432 user=postgres dbname=oneseal_\(service)_\(node)"
        }

        func withClient<T: Sendable>(_ body: (PostgresClient) async throws -> T) async throws -> T {
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

    struct DeadLettersList: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dead-letters", abstract: "List the dead-lettered events (no payloads), oldest first.")
        @OptionGroup var target: DatabaseTarget
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let letters = try await target.withClient { try await DeadLetters.list(on: $0) }
            let iso = ISO8601DateFormatter()
            try output.emit(
                letters.map { letter -> [String: Any] in
                    [
                        "id": letter.id, "event_id": letter.eventID.uuidString, "type": letter.type, "destination": letter.destination,
                        "aggregate_id": letter.aggregateID, "size": letter.size, "attempts": letter.attempts, "reason": letter.reason,
                        "first_failed_at": iso.string(from: letter.firstFailedAt), "dead_at": iso.string(from: letter.deadAt),
                    ]
                },
                text: letters.isEmpty
                    ? "no dead letters in \(target.service)@\(target.node)"
                    : letters.map { letter in
                        "\(letter.id)  \(letter.type)  → \(letter.destination)  \(letter.size) B  first failure \(iso.string(from: letter.firstFailedAt))\n    \(letter.reason)"
                    }.joined(separator: "\n"))
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a dead letter back into the outbox; it is delivered next for its destination.")
        @OptionGroup var target: DatabaseTarget
        @Option(help: "The dead letter's id (as `dead-letters` lists it).") var id: Int64
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let moved = try await target.withClient { try await DeadLetters.replay(id: id, on: $0) }
            guard moved else { throw ValidationError("--id: no dead letter \(id) in \(target.service)@\(target.node)") }
            try output.emit(["id": id, "replayed": true], text: "dead letter \(id) is back in the outbox of \(target.service)@\(target.node)")
        }
    }

    struct Discard: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a dead letter for good (its effect will never happen at its destination).")
        @OptionGroup var target: DatabaseTarget
        @Option(help: "The dead letter's id (as `dead-letters` lists it).") var id: Int64
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let deleted = try await target.withClient { try await DeadLetters.discard(id: id, on: $0) }
            guard deleted else { throw ValidationError("--id: no dead letter \(id) in \(target.service)@\(target.node)") }
            try output.emit(["id": id, "discarded": true], text: "dead letter \(id) deleted from \(target.service)@\(target.node)")
        }
    }
}
