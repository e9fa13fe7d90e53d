import ArgumentParser
import Foundation
import GRPCCore
import OneSealAuth
import OneSealProto
import OneSealWire

/// `oneseal report …`: what evaluators and leaders read — the monthly analysis report as one
/// self-contained HTML page, the figures table, and the read-model rebuild for operators.
struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Evaluation reports: the monthly HTML report, figures, read-model rebuild.",
        subcommands: [Monthly.self, Figures.self, Rebuild.self]
    )

    struct Monthly: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the month's analysis report (HTML with inline SVG charts, readable offline).")
        @Option(help: "host:port of the node's evaluation service.") var address: String = "127.0.0.1:7205"
        @Option(help: "The month, YYYY-MM.") var month: String
        @Option(help: "Where to write the HTML ('-' for standard output).") var out: String
        @Option(help: "Nodes to cover (comma-separated division codes); default the service's own node.") var nodes: String = ""
        @Flag(help: "Include every node below the service's node (a city's counties).") var includeSubordinates = false
        @OptionGroup var credentials: EvaluationCredentials

        func run() async throws {
            let parts = month.split(separator: "-")
            guard parts.count == 2, let year = Int32(parts[0]), let number = Int32(parts[1]), (1...12).contains(number) else {
                throw ValidationError("--month must be YYYY-MM, e.g. 2026-10")
            }
            var request = Evaluation_ReportRequest()
            request.kind = .monthly
            request.year = year
            request.month = number
            request.nodes = nodes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            request.includeSubordinateNodes = includeSubordinates
            let metadata = try credentials.metadata()
            let response = try await withEvaluation(address) { try await $0.report(request, metadata: metadata) }
            if out == "-" {
                FileHandle.standardOutput.write(Data(response.html.utf8))
            } else {
                try Data(response.html.utf8).write(to: URL(fileURLWithPath: out))
                let s = response.summary
                print("\(response.title): \(response.charts.count) charts, received \(s.received), decided \(s.decided), on time \(String(format: "%.1f", s.onTimeRate * 100))%, bad reviews \(s.badReviews) → \(out)")
            }
        }
    }

    struct Figures: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print efficiency figures for a period, grouped.")
        @Option(help: "host:port of the node's evaluation service.") var address: String = "127.0.0.1:7205"
        @Option(help: "First day, YYYY-MM-DD.") var from: String
        @Option(help: "Last day, YYYY-MM-DD.") var to: String
        @Option(help: "Group by: total, node, item, window, officer, department.") var groupBy: String = "total"
        @Flag(help: "Include every node below the service's node.") var includeSubordinates = false
        @OptionGroup var credentials: EvaluationCredentials

        func run() async throws {
            func date(_ text: String, _ name: String) throws -> Common_CivilDate {
                let parts = text.split(separator: "-").compactMap { Int32($0) }
                guard parts.count == 3 else { throw ValidationError("--\(name) must be YYYY-MM-DD") }
                return Common_CivilDate.with { $0.year = parts[0]; $0.month = parts[1]; $0.day = parts[2] }
            }
            let groups: [String: Evaluation_GroupBy] = ["total": .unspecified, "node": .node, "item": .item, "window": .window, "officer": .officer, "department": .department]
            guard let group = groups[groupBy] else { throw ValidationError("--group-by: one of \(groups.keys.sorted().joined(separator: ", "))") }
            var request = Evaluation_EfficiencyFiguresRequest()
            request.period.from = try date(from, "from")
            request.period.to = try date(to, "to")
            request.groupBy = group
            request.includeSubordinateNodes = includeSubordinates
            let metadata = try credentials.metadata()
            let response = try await withEvaluation(address) { try await $0.efficiencyFigures(request, metadata: metadata) }
            print(["group", "received", "accepted", "decided", "on_time", "wd_mean", "wd_p90", "overdue", "redo", "ratings", "bad_ratio", "rect_on_time"].joined(separator: "\t"))
            for row in response.rows + [response.total] {
                let m = row.metrics
                func pct(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
                print([row.label, "\(m.received)", "\(m.accepted)", "\(m.decided)", pct(m.onTimeRate), String(format: "%.1f", m.workingDaysMean),
                       String(format: "%.0f", m.workingDaysP90), "\(m.overdue)", pct(m.redoRate), "\(m.ratings)", pct(m.badReviewRatio), pct(m.rectificationOnTimeRate)].joined(separator: "\t"))
            }
        }
    }

    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rebuild the evaluation read model from its stored events.")
        @Option(help: "host:port of the node's evaluation service.") var address: String = "127.0.0.1:7205"
        @OptionGroup var credentials: EvaluationCredentials

        func run() async throws {
            let metadata = try credentials.metadata()
            let response = try await withEvaluation(address) { try await $0.rebuildReadModel(Evaluation_RebuildReadModelRequest(), metadata: metadata) }
            print("replayed \(response.eventsReplayed) events: \(response.applications) applications, \(response.cases) cases (\(response.unfiledEvents) events of types evaluation keeps without folding)")
        }
    }
}

/// A token as is, or one minted from a key file for an evaluator or leader (local use).
struct EvaluationCredentials: ParsableArguments {
    @Option(help: "Bearer token (or ONESEAL_TOKEN).") var token: String?
    @Option(help: "Signing key file to mint a token from (local use).") var key: String?
    @Option(help: "Node of the minted token.") var node: String = "371300"
    @Option(help: "Subject of the minted token.") var subject: String = "evaluation-cli"
    @Option(help: "Role of the minted token: leader, evaluator or operator.") var role: String = "leader"

    func metadata() throws -> Metadata {
        var bearer = token ?? ProcessInfo.processInfo.environment["ONESEAL_TOKEN"]
        if bearer == nil, let key {
            guard let role = Role(rawValue: role), [.leader, .evaluator, .operator].contains(role) else {
                throw ValidationError("--role: leader, evaluator or operator")
            }
            bearer = try TokenSigningKey(contentsOfFile: key, issuer: node).mint(subject: subject, role: role, node: node, lifetime: .seconds(600))
        }
        guard let bearer else { throw ValidationError("give --token, ONESEAL_TOKEN or --key") }
        var metadata = Metadata()
        metadata.addString("Bearer \(bearer)", forKey: "authorization")
        return metadata
    }
}

func withEvaluation<T: Sendable>(_ address: String, _ body: (Evaluation_EvaluationService.Client<OneSealClientTransport>) async throws -> T) async throws -> T {
    let parts = address.split(separator: ":")
    guard parts.count == 2, let port = Int(parts[1]) else { throw ValidationError("address must be host:port") }
    return try await withGRPCClient(transport: OneSealClientTransport(host: String(parts[0]), port: port)) { client in
        try await body(Evaluation_EvaluationService.Client(wrapping: client))
    }
}
