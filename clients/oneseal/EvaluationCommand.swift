import ArgumentParser
import Foundation
import GRPCCore
import OneSealAuth
import OneSealProto
import OneSealWire

/// `oneseal report …`: what evaluators and leaders read — the monthly analysis report as one
/// self-contained HTML page, the figures table, and the read-model rebuild for operators. The
/// service builds a report in one call and says nothing until done, so a spinner with the elapsed
/// time shows it is still working.
struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Evaluation reports: the monthly HTML report, figures, read-model rebuild.",
        subcommands: [Monthly.self, Figures.self, Rebuild.self]
    )

    struct Monthly: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the month's analysis report (HTML with inline SVG charts, readable offline).")
        @Option(help: "The month, YYYY-MM.") var month: String
        @Option(help: "Where to write the HTML ('-' for standard output).") var out: String
        @Option(help: "Nodes to cover (comma-separated division codes); default the service's own node.") var nodes: String = ""
        @Flag(help: "Include every node below the service's node (a city's counties).") var includeSubordinates = false
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func validate() throws {
            let parts = month.split(separator: "-")
            guard parts.count == 2, Int32(parts[0]) != nil, let number = Int32(parts[1]), (1...12).contains(number) else {
                throw ValidationError("--month must be YYYY-MM, e.g. 2026-10")
            }
            for node in nodes.split(separator: ",") where !DivisionCode.isValid(node.trimmingCharacters(in: .whitespaces)) {
                throw ValidationError("--nodes: '\(node)' is not a 6-digit division code")
            }
        }

        func run() async throws {
            let parts = month.split(separator: "-")
            var request = Evaluation_ReportRequest()
            request.kind = .monthly
            request.year = Int32(parts[0])!
            request.month = Int32(parts[1])!
            request.nodes = nodes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            request.includeSubordinateNodes = includeSubordinates
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .leader)
            let response = try await ProgressLine("building report", total: nil, json: output.json || out == "-").spinning {
                try await connection.evaluation { try await $0.report(request, metadata: metadata) }
            }
            if out == "-" {
                FileHandle.standardOutput.write(Data(response.html.utf8))
                return
            }
            try Data(response.html.utf8).write(to: URL(fileURLWithPath: out))
            var summary = response
            summary.html = ""
            var json = try JSONOutput.value(summary) as? [String: Any] ?? [:]
            json["file"] = out
            let s = response.summary
            try output.emit(json, text: "\(response.title): \(response.charts.count) charts, received \(s.received), decided \(s.decided), on time \(String(format: "%.1f", s.onTimeRate * 100))%, bad reviews \(s.badReviews) → \(out)")
        }
    }

    struct Figures: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print efficiency figures for a period, grouped.")
        @Option(help: "First day, YYYY-MM-DD.") var from: String
        @Option(help: "Last day, YYYY-MM-DD.") var to: String
        @Option(help: "Group by: total, node, item, window, officer, department.") var groupBy: String = "total"
        @Flag(help: "Include every node below the service's node.") var includeSubordinates = false
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        static let groups: [String: Evaluation_GroupBy] = ["total": .unspecified, "node": .node, "item": .item, "window": .window, "officer": .officer, "department": .department]

        static func date(_ text: String, _ name: String) throws -> Common_CivilDate {
            let parts = text.split(separator: "-").compactMap { Int32($0) }
            guard parts.count == 3, (1...12).contains(parts[1]), (1...31).contains(parts[2]) else { throw ValidationError("--\(name) must be YYYY-MM-DD") }
            return Common_CivilDate.with { $0.year = parts[0]; $0.month = parts[1]; $0.day = parts[2] }
        }

        func validate() throws {
            _ = try Self.date(from, "from")
            _ = try Self.date(to, "to")
            guard Self.groups[groupBy] != nil else { throw ValidationError("--group-by: one of \(Self.groups.keys.sorted().joined(separator: ", "))") }
        }

        func run() async throws {
            var request = Evaluation_EfficiencyFiguresRequest()
            request.period.from = try Self.date(from, "from")
            request.period.to = try Self.date(to, "to")
            request.groupBy = Self.groups[groupBy]!
            request.includeSubordinateNodes = includeSubordinates
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .leader)
            let response = try await connection.evaluation { try await $0.efficiencyFigures(request, metadata: metadata) }
            var lines = [["group", "received", "accepted", "decided", "on_time", "wd_mean", "wd_p90", "overdue", "redo", "ratings", "bad_ratio", "rect_on_time"].joined(separator: "\t")]
            for row in response.rows + [response.total] {
                let m = row.metrics
                func pct(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
                lines.append([row.label, "\(m.received)", "\(m.accepted)", "\(m.decided)", pct(m.onTimeRate), String(format: "%.1f", m.workingDaysMean),
                              String(format: "%.0f", m.workingDaysP90), "\(m.overdue)", pct(m.redoRate), "\(m.ratings)", pct(m.badReviewRatio), pct(m.rectificationOnTimeRate)].joined(separator: "\t"))
            }
            try output.emit(response, text: lines.joined(separator: "\n"))
        }
    }

    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rebuild the evaluation read model from its stored events.")
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .operator)
            let response = try await ProgressLine("rebuilding read model", total: nil, json: output.json).spinning {
                try await connection.evaluation { try await $0.rebuildReadModel(Evaluation_RebuildReadModelRequest(), metadata: metadata) }
            }
            try output.emit(response, text: "replayed \(response.eventsReplayed) events: \(response.applications) applications, \(response.cases) cases (\(response.unfiledEvents) events of types evaluation keeps without folding)")
        }
    }
}
