import ArgumentParser
import Foundation
import GRPCCore
import OneSealAuth
import OneSealProto
import OneSealWire

/// `oneseal casefile …`: 案卷评查 (#20 item 10). The director draws the month's sample once;
/// reviewers score each file against the four criteria; anyone of the node's leading staff reads
/// the sample with its scores. The monthly report (`oneseal report monthly`) carries the summary.
struct CaseFileReviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "casefile",
        abstract: "Case-file review (案卷评查): draw the month's sample, score a file, show the sample.",
        subcommands: [Draw.self, Score.self, Show.self]
    )

    /// `--month YYYY-MM` as the request's two numbers.
    static func month(_ text: String) throws -> (Int32, Int32) {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let year = Int32(parts[0]), let month = Int32(parts[1]), (1...12).contains(month) else {
            throw ValidationError("--month must be YYYY-MM, e.g. 2026-10")
        }
        return (year, month)
    }

    static func lines(_ sample: Evaluation_CaseFileSample) -> [String] {
        var lines = [
            "\(sample.year)年\(sample.month)月 sample of node \(sample.node): \(sample.caseFiles.count) of \(sample.populationCount) closed cases, seed \(sample.seed), drawn by \(sample.drawnBy)",
            "population digest \(sample.populationDigest)",
        ]
        for file in sample.caseFiles {
            let score = file.reviewed ? "\(file.score.total) 分 (\(file.score.materials)/\(file.score.procedure)/\(file.score.timeliness)/\(file.score.documents)) by \(file.reviewer)" : "not reviewed"
            lines.append("\(file.position). \(file.caseNumber.isEmpty ? file.caseID : file.caseNumber)  \(file.itemName)\(file.late ? "  [late]" : "")  \(score)")
        }
        let s = sample.summary
        lines.append("reviewed \(s.reviewed) of \(s.sampled), average \(String(format: "%.1f", s.averageTotal)); 优秀 \(s.excellent), 良好 \(s.good), 合格 \(s.pass), 不合格 \(s.fail)")
        return lines
    }

    struct Draw: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Draw the month's sample of closed cases (once per month; the seed is recorded).")
        @Option(help: "The month, YYYY-MM.") var month: String
        @Option(help: "How many cases (1–200).") var size: Int32
        @Option(help: "The draw's seed (default: chosen by the service and recorded).") var seed: UInt64 = 0
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func validate() throws {
            _ = try CaseFileReviewCommand.month(month)
            guard (1...200).contains(size) else { throw ValidationError("--size must be 1–200") }
        }

        func run() async throws {
            var request = Evaluation_DrawCaseFileSampleRequest()
            (request.year, request.month) = try CaseFileReviewCommand.month(month)
            request.size = size
            request.seed = seed
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .director)
            let sample = try await connection.evaluation { try await $0.drawCaseFileSample(request, metadata: metadata) }
            try output.emit(sample, text: CaseFileReviewCommand.lines(sample).joined(separator: "\n"))
        }
    }

    struct Score: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Score one sampled case file: four criteria of 0–25; a lost point needs its finding.")
        @Option(help: "The month, YYYY-MM.") var month: String
        @Option(help: "The sampled case's id.") var `case`: String
        @Option(help: "材料完整性 (0–25).") var materials: Int32
        @Option(help: "程序合法性 (0–25).") var procedure: Int32
        @Option(help: "办理时效性 (0–25).") var timeliness: Int32
        @Option(help: "文书规范性 (0–25).") var documents: Int32
        @Option(help: "What 材料完整性 lost points for.") var materialsFinding: String = ""
        @Option(help: "What 程序合法性 lost points for.") var procedureFinding: String = ""
        @Option(help: "What 办理时效性 lost points for.") var timelinessFinding: String = ""
        @Option(help: "What 文书规范性 lost points for.") var documentsFinding: String = ""
        @Option(help: "Idempotency key (default: a new UUID).") var idempotencyKey: String?
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func validate() throws { _ = try CaseFileReviewCommand.month(month) }

        func run() async throws {
            var request = Evaluation_ScoreCaseFileRequest()
            (request.year, request.month) = try CaseFileReviewCommand.month(month)
            request.caseID = `case`
            request.score.materials = materials
            request.score.procedure = procedure
            request.score.timeliness = timeliness
            request.score.documents = documents
            request.score.materialsFinding = materialsFinding
            request.score.procedureFinding = procedureFinding
            request.score.timelinessFinding = timelinessFinding
            request.score.documentsFinding = documentsFinding
            request.idempotencyKey = idempotencyKey ?? UUID().uuidString.lowercased()
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .evaluator)
            let response = try await connection.evaluation { try await $0.scoreCaseFile(request, metadata: metadata) }
            let file = response.caseFile
            try output.emit(response, text: "\(file.caseNumber.isEmpty ? file.caseID : file.caseNumber): \(file.score.total) 分, grade \(file.score.grade)")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the month's sample with its scores.")
        @Option(help: "The month, YYYY-MM.") var month: String
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func validate() throws { _ = try CaseFileReviewCommand.month(month) }

        func run() async throws {
            var request = Evaluation_GetCaseFileSampleRequest()
            (request.year, request.month) = try CaseFileReviewCommand.month(month)
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .evaluator)
            let sample = try await connection.evaluation { try await $0.getCaseFileSample(request, metadata: metadata) }
            try output.emit(sample, text: CaseFileReviewCommand.lines(sample).joined(separator: "\n"))
        }
    }
}
