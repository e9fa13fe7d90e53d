import ArgumentParser
import Foundation
import GRPCCore
import OneSealAuth
import OneSealProto
import OneSealServiceKit
import OneSealWire
import SupervisionContracts
import SupervisionRules

/// `oneseal supervision`: departments and the boundary list (审管边界清单) as a file or a listing,
/// and the quarterly report (季度通报), through the supervision service's RPCs like any integrator.
struct Supervision: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Supervision push (审管联动): departments, the boundary list, the quarterly report.",
        subcommands: [Departments.self, Boundary.self, Pushes.self, Claim.self, Report.self]
    )

    struct Boundary: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Departments and the boundary list as a file (oneseal-boundary/1 JSON, Services/Supervision/boundary/README.md), or listed.",
            subcommands: [Import.self, Export.self, List.self]
        )
    }

    struct Departments: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the supervising departments (code, name, node, delivery, contact).")
        @Flag(help: "Include deactivated departments.") var includeInactive = false
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .operator)
            let departments = try await connection.supervision { try await allDepartments($0, includeInactive: includeInactive, metadata: metadata) }
            let lines = departments.map { department in
                let contact = [department.contactName, department.contactPhone].filter { !$0.isEmpty }.joined(separator: " ")
                return "\(department.code)  \(department.name)  node \(department.node)  delivery \(Text.name(department.delivery))\(department.endpoint.isEmpty ? "" : " \(department.endpoint)")\(contact.isEmpty ? "" : "  contact \(contact)")\(department.active ? "" : "  (inactive)")"
            }
            try output.emit(try JSONOutput.values(departments), text: (lines + ["\(departments.count) departments"]).joined(separator: "\n"))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the boundary entries: item, then each supervising department and its responsibility.")
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .operator)
            let entries = try await connection.supervision { try await allBoundaryEntries($0, metadata: metadata) }
            var lines: [String] = []
            for entry in entries {
                lines.append("\(entry.implementationCode.isEmpty ? entry.basicCode : entry.implementationCode)  v\(entry.version)  \(entry.itemName)")
                for department in entry.departments {
                    lines.append("    → \(department.department.code) \(department.department.name)\(department.responsibility.isEmpty ? "" : ": \(department.responsibility)")")
                }
            }
            try output.emit(try JSONOutput.values(entries), text: (lines + ["\(entries.count) entries"]).joined(separator: "\n"))
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register every department and publish every entry of a boundary file.")
        @Option(help: "Boundary file (oneseal-boundary/1).") var file: String
        @Flag(help: "Also remove entries the file does not list.") var prune = false
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let contents: BoundaryFile.Contents
            do { contents = try BoundaryFile.decode(try Data(contentsOf: URL(fileURLWithPath: file))) } catch let error as BoundaryFile.Invalid {
                throw ValidationError("--file \(file):\n\(error)")
            } catch {
                throw ValidationError("--file \(file): \(error)")
            }
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .operator)
            let progress = ProgressLine("importing", total: contents.departments.count + contents.entries.count, json: output.json)
            var lines = try await connection.supervision { supervision in
                var lines: [String] = []
                for department in contents.departments where department.active {
                    let response = try await supervision.upsertDepartment(.with { $0.department = department.proto }, metadata: metadata)
                    lines.append("department \(department.code) \(response.created ? "registered" : "updated") \(department.name)")
                    progress.advance()
                }
                for entry in contents.entries {
                    let response = try await supervision.upsertBoundary(.with { $0.entry = entry.proto }, metadata: metadata)
                    lines.append("entry \(entry.key) v\(response.entry.version) → \(entry.departments.map(\.code).joined(separator: ", "))")
                    progress.advance()
                }
                if prune {
                    let keep = Set(contents.entries.map(\.key))
                    for existing in try await allEntries(supervision, metadata: metadata) where !keep.contains(existing.key) {
                        _ = try await supervision.removeBoundary(.with { $0.implementationCode = existing.implementationCode; $0.basicCode = existing.basicCode }, metadata: metadata)
                        lines.append("entry \(existing.key) removed")
                    }
                }
                for department in contents.departments where !department.active {
                    _ = try await supervision.removeDepartment(.with { $0.code = department.code }, metadata: metadata)
                    lines.append("department \(department.code) deactivated")
                    progress.advance()
                }
                return lines
            }
            progress.finish()
            lines.append("\(contents.departments.count) departments, \(contents.entries.count) entries")
            try output.emit(["departments": contents.departments.count, "entries": contents.entries.count, "changes": Array(lines.dropLast())],
                            text: lines.joined(separator: "\n"))
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the departments and the boundary list to a file.")
        @Option(help: "Where to write the file ('-' for standard output).") var out: String
        @Flag(help: "Include deactivated departments.") var includeInactive = false
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .operator)
            let (protos, entries) = try await connection.supervision { supervision in
                (try await allDepartments(supervision, includeInactive: includeInactive, metadata: metadata), try await allEntries(supervision, metadata: metadata))
            }
            let departments = protos.map { proto in
                var department = SupervisionRules.Department(proto: proto)
                department.active = proto.active
                return department
            }
            let data = BoundaryFile.encode(BoundaryFile.Contents(departments: departments, entries: entries))
            if out == "-" {
                FileHandle.standardOutput.write(data)
            } else {
                try data.write(to: URL(fileURLWithPath: out))
                try output.emit(["departments": departments.count, "entries": entries.count, "file": out],
                                text: "\(departments.count) departments, \(entries.count) entries written to \(out)")
            }
        }
    }

    struct Pushes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A department's pushes (审管联动推送): what it must claim, by status, kind or case.",
            discussion: "With a department token (--role department --token-department CODE) it is that department's own list; bureau roles may name --department.")
        @Option(help: "Statuses (comma-separated): pending, claimed, rejected, rerouted.") var status: String?
        @Option(help: "Kinds (comma-separated): grant, licence, change, revocation, cancellation, commitment.") var kind: String?
        @Flag(help: "Only pushes whose claim deadline has passed unclaimed.") var overdue = false
        @Option(help: "One department's code (bureau roles; a department token always gets its own).") var department: String = ""
        @Option(help: "Only the pushes about this case.") var caseID: String = ""
        @Option(help: "At most this many.") var limit: Int = 100
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func statuses() throws -> [Supervision_PushStatus] {
            try (status ?? "").split(separator: ",").map { try Text.parse(String($0).trimmingCharacters(in: .whitespaces), option: "--status") }
        }

        func kinds() throws -> [Supervision_PushKind] {
            try (kind ?? "").split(separator: ",").map { try Text.parse(String($0).trimmingCharacters(in: .whitespaces), option: "--kind") }
        }

        func validate() throws {
            _ = try statuses()
            _ = try kinds()
            guard limit > 0 else { throw ValidationError("--limit must be positive") }
        }

        func run() async throws {
            var request = Supervision_ListPushesRequest()
            request.statuses = try statuses()
            request.kinds = try kinds()
            request.claimOverdueOnly = overdue
            request.departmentCode = department
            request.caseID = caseID
            request.page.pageSize = Int32(min(limit, 500))
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .department)
            let pushes = try await connection.supervision { supervision in
                return try await allPages(limit: limit) { token in
                    request.page.pageToken = token
                    let response = try await supervision.listPushes(request, metadata: metadata)
                    return (response.pushes, response.page.nextPageToken)
                }
            }
            let lines = pushes.map(PushText.row)
            try output.emit(try JSONOutput.values(pushes), text: (lines + ["\(pushes.count) pushes"]).joined(separator: "\n"))
        }
    }

    struct Claim: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The department claims pushes (认领): it takes over supervision of those licence holders.",
            discussion: "Several --push claim them all in one call (ClaimPushes): all or none.")
        @Option(help: "Push id (repeat for several, at most 100).") var push: [String]
        @Option(help: "A note for the record.") var note: String = ""
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard !push.isEmpty else { throw ValidationError("give at least one --push") }
        }

        func run() async throws {
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .department)
            if push.count == 1 {
                let request = Supervision_ClaimPushRequest.with { $0.pushID = push[0]; $0.note = note }
                let response = try await connection.supervision { try await $0.claimPush(request, metadata: metadata) }
                try output.emit(response.push, text: "claimed\n" + PushText.row(response.push))
                return
            }
            let request = Supervision_ClaimPushesRequest.with { $0.pushIds = push; $0.note = note }
            let response = try await connection.supervision { try await $0.claimPushes(request, metadata: metadata) }
            try output.emit(try JSONOutput.values(response.pushes), text: (["claimed"] + response.pushes.map(PushText.row)).joined(separator: "\n"))
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The quarterly report (季度通报) per department: pushed, claimed on time, claim latency, rejected, findings.")
        @Option(help: "Year, e.g. 2026.") var year: Int
        @Option(help: "Quarter 1–4.") var quarter: Int
        @Option(help: "One department's code (default: every department).") var department: String = ""
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard (1...4).contains(quarter) else { throw ValidationError("--quarter must be 1–4") }
            guard (2000...9999).contains(year) else { throw ValidationError("--year must be a year such as 2026") }
        }

        func run() async throws {
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .operator)
            let response = try await connection.supervision { supervision in
                try await supervision.quarterlyFigures(.with {
                    $0.year = Int32(year)
                    $0.quarter = Int32(quarter)
                    $0.departmentCode = department
                }, metadata: metadata)
            }
            print(output.json ? QuarterlyReport.json(response) : QuarterlyReport.text(response))
        }
    }
}

/// The human form of the 季度通报: one block per department, then the total.
enum QuarterlyReport {
    /// Machine form: every figure present (proto3 JSON would omit the zeros a report needs).
    static func json(_ response: Supervision_QuarterlyFiguresResponse) -> String {
        func object(_ figures: Supervision_DepartmentFigures) -> [String: Any] {
            [
                "department_code": figures.department.code, "department_name": figures.department.name, "department_node": figures.department.node,
                "pushed": figures.pushed, "pushed_on_time": figures.pushedOnTime, "claimed": figures.claimed, "claimed_on_time": figures.claimedOnTime,
                "claim_on_time_rate": figures.claimOnTimeRate, "claim_latency_mean_hours": figures.claimLatencyMeanHours,
                "claim_latency_median_hours": figures.claimLatencyMedianHours, "claim_latency_p90_hours": figures.claimLatencyP90Hours,
                "claim_latency_worst_hours": figures.claimLatencyWorstHours, "rejected": figures.rejected, "rerouted": figures.rerouted,
                "unclaimed_overdue": figures.unclaimedOverdue, "findings": figures.findings, "accuracy": figures.accuracy,
            ]
        }
        let top: [String: Any] = [
            "year": Int(response.year), "quarter": Int(response.quarter),
            "departments": response.departments.map(object), "total": object(response.total),
        ]
        let data = (try? JSONSerialization.data(withJSONObject: top, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    static func text(_ response: Supervision_QuarterlyFiguresResponse) -> String {
        var lines = ["审管联动季度通报 \(response.year)年第\(response.quarter)季度", ""]
        func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
        func hours(_ value: Double) -> String { String(format: "%.1f", value) }
        func block(_ title: String, _ figures: Supervision_DepartmentFigures) {
            lines.append(title)
            lines.append("  推送 \(figures.pushed) 件（按时推送 \(figures.pushedOnTime)），认领 \(figures.claimed) 件，按时认领 \(figures.claimedOnTime) 件，按时认领率 \(percent(figures.claimOnTimeRate))")
            lines.append("  认领用时（工作小时）：中位 \(hours(figures.claimLatencyMedianHours))，平均 \(hours(figures.claimLatencyMeanHours))，P90 \(hours(figures.claimLatencyP90Hours))，最长 \(hours(figures.claimLatencyWorstHours))")
            lines.append("  退回 \(figures.rejected) 件，改派 \(figures.rerouted) 件，逾期未认领 \(figures.unclaimedOverdue) 件，监管反馈 \(figures.findings) 条，推送准确率 \(percent(figures.accuracy))")
        }
        if response.departments.isEmpty { lines.append("（本季度无推送）") }
        for figures in response.departments {
            let name = figures.department.name.isEmpty ? figures.department.code : "\(figures.department.name)（\(figures.department.code)）"
            block(name, figures)
        }
        lines.append("")
        block("合计", response.total)
        return lines.joined(separator: "\n")
    }
}

func allEntries(_ supervision: Supervision_SupervisionService.Client<OneSealClientTransport>, metadata: Metadata) async throws -> [BoundaryEntry] {
    try await allBoundaryEntries(supervision, metadata: metadata).map { entry in
        BoundaryEntry(implementationCode: entry.implementationCode, basicCode: entry.basicCode, itemName: entry.itemName,
                      departments: entry.departments.map { SupervisingDepartment(code: $0.department.code, responsibility: $0.responsibility) })
    }
}

func allDepartments(_ supervision: Supervision_SupervisionService.Client<OneSealClientTransport>, includeInactive: Bool, metadata: Metadata) async throws -> [Supervision_Department] {
    var request = Supervision_ListDepartmentsRequest()
    request.includeInactive = includeInactive
    request.page.pageSize = 500
    return try await allPages { token in
        request.page.pageToken = token
        let response = try await supervision.listDepartments(request, metadata: metadata)
        return (response.departments, response.page.nextPageToken)
    }
}

func allBoundaryEntries(_ supervision: Supervision_SupervisionService.Client<OneSealClientTransport>, metadata: Metadata) async throws -> [Supervision_BoundaryEntry] {
    var request = Supervision_ListBoundaryRequest()
    request.page.pageSize = 500
    return try await allPages { token in
        request.page.pageToken = token
        let response = try await supervision.listBoundary(request, metadata: metadata)
        return (response.entries, response.page.nextPageToken)
    }
}

extension SupervisionRules.Department {
    var proto: Supervision_Department {
        Supervision_Department.with {
            $0.code = code
            $0.name = name
            $0.level = level?.proto ?? .unspecified
            $0.node = node
            $0.contactName = contactName
            $0.contactPhone = contactPhone
            $0.delivery = delivery.proto
            $0.endpoint = endpoint
            $0.active = active
        }
    }
}

extension BoundaryEntry {
    var proto: Supervision_BoundaryEntry {
        Supervision_BoundaryEntry.with {
            $0.implementationCode = implementationCode
            $0.basicCode = basicCode
            $0.itemName = itemName
            $0.departments = departments.map { department in
                Supervision_SupervisingDepartment.with { $0.department.code = department.code; $0.responsibility = department.responsibility }
            }
        }
    }
}

/// One push on one line: what a department's inspector scans.
enum PushText {
    static func row(_ push: Supervision_Push) -> String {
        let claimed = push.status == .claimed ? (push.claimedOnTime ? " on time" : " late") : ""
        return [
            push.pushID, Text.name(push.kind), Text.name(push.status) + claimed, push.department.code,
            push.caseNumber.isEmpty ? push.caseID : push.caseNumber, push.itemName, push.licence.licenceNumber.isEmpty ? "-" : push.licence.licenceNumber,
            "claim by " + Text.date(push.claimDeadline.dueOn),
        ].joined(separator: "  ")
    }
}
