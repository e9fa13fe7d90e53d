import ArgumentParser
import Foundation
import GRPCCore
import OneSealAuth
import OneSealProto

/// `oneseal case …`: the back office's side of an approval case, from the work list to the
/// decision. A sole-officer case goes `claim` (if the step is unassigned) → `review` → `decide`;
/// a section-tier case adds `sign-off` by the section chief before `decide`.
struct CaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "case",
        abstract: "Approval cases: list, show, claim, review, sign off, decide, export the case file (案卷).",
        subcommands: [List.self, Show.self, Claim.self, Review.self, SignOff.self, Suspend.self, Resume.self, Extend.self, Hearing.self, Decide.self, Export.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List cases: a work list by status, assignee, application, or the queue to claim from.")
        @Option(help: "Statuses (comma-separated): in_progress, suspended, granted, denied, withdrawn, revoked, cancelled.") var status: String?
        @Option(help: "Cases whose active step is assigned to this subject.") var assignee: String?
        @Option(help: "Cases of one application (id).") var application: String?
        @Option(help: "Cases of one item (implementation code).") var item: String?
        @Flag(help: "Only overdue cases.") var overdue = false
        @Flag(help: "Only cases whose next step nobody has claimed.") var unassigned = false
        @Option(help: "At most this many cases.") var limit: Int = 100
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard limit > 0 else { throw ValidationError("--limit must be positive") }
            _ = try statuses()
        }

        func statuses() throws -> [Approval_CaseStatus] {
            try (status ?? "").split(separator: ",").map { try Text.parse(String($0).trimmingCharacters(in: .whitespaces), option: "--status") }
        }

        func run() async throws {
            var request = Approval_ListCasesRequest()
            request.statuses = try statuses()
            request.assigneeSubject = assignee ?? ""
            request.applicationID = application ?? ""
            request.implementationCode = item ?? ""
            request.overdueOnly = overdue
            request.unassignedOnly = unassigned
            request.page.pageSize = Int32(min(limit, 500))
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .officer)
            let cases = try await connection.approval { approval in
                return try await allPages(limit: limit) { token in
                    request.page.pageToken = token
                    let response = try await approval.listCases(request, metadata: metadata)
                    return (response.cases, response.page.nextPageToken)
                }
            }
            let lines = cases.map(CaseText.row)
            try output.emit(try JSONOutput.values(cases), text: (lines + ["\(cases.count) cases"]).joined(separator: "\n"))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a case by id or number: item, applicant, clock, steps, decision.")
        @Option(name: .customLong("case"), help: "Case id (UUID) or case number.") var key: String
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .operator)
            let response = try await connection.approval { approval in
                try await approval.getCase(Approval_GetCaseRequest.with {
                    if UUID(uuidString: key) != nil { $0.caseID = key } else { $0.caseNumber = key }
                }, metadata: metadata)
            }
            try output.emit(response.case, text: CaseText.detail(response.case))
        }
    }

    struct Claim: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take the case's unassigned active step from your role's queue.")
        @Option(name: .customLong("case"), help: "Case id.") var caseID: String
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .officer)
            let response = try await connection.approval { try await $0.claimStep(.with { $0.caseID = caseID }, metadata: metadata) }
            try output.emit(response.case, text: "claimed\n" + CaseText.detail(response.case))
        }
    }

    struct Review: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The officer's review (承办审查) of the active step: a conclusion and a specific opinion.")
        @OptionGroup var step: StepJudgement
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .officer)
            let request = Approval_ReviewStepRequest.with {
                $0.caseID = step.caseID
                $0.conclusion = step.parsedConclusion
                $0.opinion = step.opinion
                $0.expectedRevision = step.expectedRevision
            }
            let response = try await connection.approval { try await $0.reviewStep(request, metadata: metadata) }
            try output.emit(response.case, text: "reviewed\n" + CaseText.detail(response.case))
        }
    }

    struct SignOff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sign-off",
            abstract: "A section chief's or deputy director's sign-off (审核/审批) of the active step.")
        @OptionGroup var step: StepJudgement
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .sectionChief)
            let request = Approval_SignOffRequest.with {
                $0.caseID = step.caseID
                $0.conclusion = step.parsedConclusion
                $0.opinion = step.opinion
                $0.expectedRevision = step.expectedRevision
            }
            let response = try await connection.approval { try await $0.signOff(request, metadata: metadata) }
            try output.emit(response.case, text: "signed off\n" + CaseText.detail(response.case))
        }
    }

    struct Suspend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop the statutory clock for a special procedure (Art. 45: hearing, testing, expert review …) with the notice to the applicant.")
        @Option(name: .customLong("case"), help: "Case id.") var caseID: String
        @Option(help: "hearing, tender, auction, inspection, site_inspection, testing, quarantine, appraisal, expert_review.") var procedure: String
        @Option(help: "Expected working days (informational: the clock stays stopped until resumed).") var expectedDays: Int = 0
        @Option(help: "The notice to the applicant: what procedure and how long.") var notice: String
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func validate() throws { _ = try Text.parse(procedure, option: "--procedure", as: Common_SpecialProcedure.self) }

        func run() async throws {
            var request = Approval_SuspendClockRequest()
            request.caseID = caseID
            request.reason = try Text.parse(procedure, option: "--procedure")
            request.expectedDays = Int32(clamping: expectedDays)
            request.noticeText = notice
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .officer)
            let response = try await connection.approval { try await $0.suspendClock(request, metadata: metadata) }
            try output.emit(response, text: "clock suspended (\(Text.name(response.suspension.reason)))\n" + CaseText.detail(response.case))
        }
    }

    /// 听证 (Arts. 46–48): `oneseal case hearing notify|request|schedule|record`.
    struct Hearing: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hearings (Arts. 46–48): the notice of the right, the request, the schedule, the record.",
            subcommands: [Notify.self, Request.self, Schedule.self, Record.self])

        struct Notify: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Issue the written notice of the right to request a hearing (听证权利告知书).")
            @Option(name: .customLong("case"), help: "Case id.") var caseID: String
            @Option(help: "Why the decision affects major interests of the applicant or others (printed on the notice).") var reason: String
            @OptionGroup var connection: Connection
            @OptionGroup var credentials: Credentials
            @OptionGroup var output: OutputOptions

            func run() async throws {
                let request = Approval_NotifyHearingRightRequest.with { $0.caseID = caseID; $0.reason = reason }
                let metadata = try credentials.metadata(node: connection.node, defaultRole: .officer)
                let response = try await connection.approval { try await $0.notifyHearingRight(request, metadata: metadata) }
                let h = response.case.hearing
                try output.emit(response, text: "hearing right notified: \(h.rightNotice.number); a hearing may be requested until \(Text.date(h.lastDayToRequest))\n" + CaseText.detail(response.case))
            }
        }

        struct Request: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Record a hearing request received in time; the clock stops for the hearing (Art. 45).")
            @Option(name: .customLong("case"), help: "Case id.") var caseID: String
            @Option(help: "Who asked: the applicant or an interested party, as on the written request.") var requestedBy: String
            @OptionGroup var connection: Connection
            @OptionGroup var credentials: Credentials
            @OptionGroup var output: OutputOptions

            func run() async throws {
                let request = Approval_RequestHearingRequest.with { $0.caseID = caseID; $0.requestedBy = requestedBy }
                let metadata = try credentials.metadata(node: connection.node, defaultRole: .officer)
                let response = try await connection.approval { try await $0.requestHearing(request, metadata: metadata) }
                try output.emit(response, text: "hearing requested; hold it by \(Text.date(response.case.hearing.holdBy))\n" + CaseText.detail(response.case))
            }
        }

        struct Schedule: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Fix the hearing's day, place and presiding officer and issue its notice (7 working days ahead).")
            @Option(name: .customLong("case"), help: "Case id.") var caseID: String
            @Option(help: "Hearing day, YYYY-MM-DD.") var on: String
            @Option(help: "Where it is held.") var place: String
            @Option(help: "public, state_secret, business_secret or privacy.") var publicity: String = "public"
            @Option(help: "Presiding officer: not one of the staff who reviewed the application.") var presidingOfficer: String
            @OptionGroup var connection: Connection
            @OptionGroup var credentials: Credentials
            @OptionGroup var output: OutputOptions

            func validate() throws {
                _ = try CaseText.date(on, option: "--on")
                _ = try Text.parse(publicity, option: "--publicity", as: Approval_HearingPublicity.self)
            }

            func run() async throws {
                var request = Approval_ScheduleHearingRequest()
                request.caseID = caseID
                request.hearingOn = try CaseText.date(on, option: "--on")
                request.place = place
                request.publicity = try Text.parse(publicity, option: "--publicity")
                request.presidingOfficer = presidingOfficer
                let metadata = try credentials.metadata(node: connection.node, defaultRole: .officer)
                let response = try await connection.approval { try await $0.scheduleHearing(request, metadata: metadata) }
                try output.emit(response, text: "hearing scheduled: \(response.case.hearing.hearingNotice.number)\n" + CaseText.detail(response.case))
            }
        }

        struct Record: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Close the hearing record (听证笔录) on or after the hearing day; the clock counts again.")
            @Option(name: .customLong("case"), help: "Case id.") var caseID: String
            @Option(help: "The hearing record as signed: who took part, what each side stated, the evidence examined.") var record: String
            @OptionGroup var connection: Connection
            @OptionGroup var credentials: Credentials
            @OptionGroup var output: OutputOptions

            func run() async throws {
                let request = Approval_RecordHearingRequest.with { $0.caseID = caseID; $0.record = record }
                let metadata = try credentials.metadata(node: connection.node, defaultRole: .officer)
                let response = try await connection.approval { try await $0.recordHearing(request, metadata: metadata) }
                try output.emit(response, text: "hearing recorded\n" + CaseText.detail(response.case))
            }
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Restart the clock after the special procedure, recording its result.")
        @Option(name: .customLong("case"), help: "Case id.") var caseID: String
        @Option(help: "The procedure's outcome, e.g. the expert panel's conclusion.") var result: String
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let request = Approval_ResumeClockRequest.with { $0.caseID = caseID; $0.result = result }
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .officer)
            let response = try await connection.approval { try await $0.resumeClock(request, metadata: metadata) }
            try output.emit(response.case, text: "clock resumed\n" + CaseText.detail(response.case))
        }
    }

    struct Extend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The one extension of the time limit (Art. 42), approved by the head of the bureau.",
            discussion: "Defaults to the director's role; the statutory maximum (10 working days, 15 for joint handling) when --days is 0.")
        @Option(name: .customLong("case"), help: "Case id.") var caseID: String
        @Option(help: "Why the limit cannot be met (told to the applicant).") var reason: String
        @Option(help: "Working days (0 = the statutory maximum).") var days: Int = 0
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let request = Approval_RequestExtensionRequest.with { $0.caseID = caseID; $0.reason = reason; $0.extensionDays = Int32(clamping: days) }
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .director)
            let response = try await connection.approval { try await $0.requestExtension(request, metadata: metadata) }
            try output.emit(response.case, text: "time limit extended\n" + CaseText.detail(response.case))
        }
    }

    struct Decide: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The decision: grant (scope, conditions, validity, place) or deny (every reason, legal basis).",
            discussion: "By the role at the end of the item's chain (the officer for sole-tier items, the default role here); --role section_chief etc. for other tiers.")
        @Option(name: .customLong("case"), help: "Case id.") var caseID: String
        @Option(help: "grant or deny.") var decision: String
        @Option(help: "Grant: the licensed scope (许可范围 / 经营项目).") var scope: String?
        @Option(help: "Grant: a condition attached to it; repeat for several.") var condition: [String] = []
        @Option(help: "Grant: first day of validity, YYYY-MM-DD (default: the service's rule).") var validFrom: String?
        @Option(help: "Grant: last day of validity, YYYY-MM-DD (default: from the item's validity).") var validUntil: String?
        @Option(help: "Grant: the place it is for (经营场所).") var place: String?
        @Option(help: "Grant: a licence template field as name=value; repeat for several.") var licenceField: [String] = []
        @Option(help: "Deny: a specific reason; repeat for several (at least one).") var reason: [String] = []
        @Option(help: "Deny: the provision the denial rests on.") var legalBasis: String?
        @Option(help: "Sole approval (独任审批) on the spot: the review opinion, reviewed and decided in one act.") var opinion: String?
        @Option(help: "Refuse if the case changed since this revision (0 = don't check).") var expectedRevision: Int64 = 0
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if let opinion, opinion.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw ValidationError("--opinion: the review opinion, or leave it out") }
            switch decision {
            case "grant":
                guard let scope, !scope.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--scope: a grant states its scope") }
                guard reason.isEmpty, legalBasis == nil else { throw ValidationError("--reason/--legal-basis belong to --decision deny") }
                if let validFrom { _ = try CaseText.date(validFrom, option: "--valid-from") }
                if let validUntil { _ = try CaseText.date(validUntil, option: "--valid-until") }
                _ = try CaseText.pairs(licenceField, option: "--licence-field")
            case "deny":
                guard !reason.isEmpty else { throw ValidationError("--reason: a denial states every reason (repeat --reason)") }
                guard scope == nil, condition.isEmpty, validFrom == nil, validUntil == nil, place == nil, licenceField.isEmpty else {
                    throw ValidationError("--scope/--condition/--valid-from/--valid-until/--place/--licence-field belong to --decision grant")
                }
            default:
                throw ValidationError("--decision: '\(decision)' is not grant or deny")
            }
        }

        func run() async throws {
            var request = Approval_DecideRequest()
            request.caseID = caseID
            request.expectedRevision = expectedRevision
            request.opinion = opinion ?? ""
            if decision == "grant" {
                var grant = Approval_Grant()
                grant.scope = scope ?? ""
                grant.conditions = condition
                if let validFrom { grant.validFrom = try CaseText.date(validFrom, option: "--valid-from") }
                if let validUntil { grant.validUntil = try CaseText.date(validUntil, option: "--valid-until") }
                grant.place = place ?? ""
                grant.licenceFields = try CaseText.pairs(licenceField, option: "--licence-field")
                request.grant = grant
            } else {
                var denial = Approval_Denial()
                denial.reasons = reason
                denial.legalBasis = legalBasis ?? ""
                request.denial = denial
            }
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .officer)
            let response = try await connection.approval { try await $0.decide(request, metadata: metadata) }
            try output.emit(response.case, text: "decided\n" + CaseText.detail(response.case))
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a case's signed case file (oneseal-case-file/1).")
        @Option(name: .customLong("case"), help: "Case id.") var caseID: String
        @Option(help: "Where to write it (default: the suggested file name in the current directory).") var out: String?
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .operator)
            let response = try await connection.approval { approval in
                try await approval.exportCaseFile(Approval_ExportCaseFileRequest.with { $0.caseID = caseID }, metadata: metadata)
            }
            let path = out ?? response.fileName
            do { try response.archive.write(to: URL(fileURLWithPath: path)) } catch { throw ValidationError("--out: cannot write \(path): \(error.localizedDescription)") }
            try output.emit(["file": path, "content_sha256": response.contentSha256, "key_id": response.keyID, "bytes": response.archive.count],
                            text: "\(path): sha256 \(response.contentSha256), signed by key \(response.keyID)")
        }
    }
}

/// A case as text, and the parsing of the case commands' values.
/// What an officer's review and a chief's or deputy's sign-off both say about the active step:
/// a conclusion and a specific opinion, guarded by the revision the signer read.
struct StepJudgement: ParsableArguments {
    @Option(name: .customLong("case"), help: "Case id.") var caseID: String
    @Option(help: "grant or deny (review: 拟同意 / 拟不同意; sign-off: 同意 / 不同意).") var conclusion: String
    @Option(help: "The opinion: facts checked, materials examined, legal basis (boilerplate is refused).") var opinion: String
    @Option(help: "Refuse if the case changed since this revision (0 = don't check).") var expectedRevision: Int64 = 0

    func validate() throws { _ = try CaseText.conclusion(conclusion) }

    /// `--conclusion` as the wire value (validated before `run`).
    var parsedConclusion: Approval_StepConclusion { (try? CaseText.conclusion(conclusion)) ?? .unspecified }
}

enum CaseText {
    static func conclusion(_ text: String) throws -> Approval_StepConclusion {
        switch text {
        case "grant": .proposeGrant
        case "deny": .proposeDeny
        default: throw ValidationError("--conclusion: '\(text)' is not grant or deny")
        }
    }

    static func date(_ text: String, option: String) throws -> Common_CivilDate {
        let parts = text.split(separator: "-").compactMap { Int32($0) }
        guard parts.count == 3, (1...12).contains(parts[1]), (1...31).contains(parts[2]) else { throw ValidationError("\(option): '\(text)' is not YYYY-MM-DD") }
        return Common_CivilDate.with { $0.year = parts[0]; $0.month = parts[1]; $0.day = parts[2] }
    }

    /// `name=value` options as a map.
    static func pairs(_ values: [String], option: String) throws -> [String: String] {
        var map: [String: String] = [:]
        for value in values {
            let parts = value.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("\(option): '\(value)' is not name=value") }
            map[String(parts[0])] = String(parts[1])
        }
        return map
    }

    /// One line of a work list.
    static func row(_ c: Approval_Case) -> String {
        let due = c.deadline.dueOn.year == 0 ? "" : "  due \(Text.date(c.deadline.dueOn))\(c.deadline.overdue ? " OVERDUE" : "")"
        return "\(c.caseID)  \(c.caseNumber)  \(Text.name(c.status))  next \(Text.name(c.nextRole))\(due)  \(c.item.implementationCode) \(c.item.name)"
    }

    /// Everything an officer looks at first.
    static func detail(_ c: Approval_Case) -> String {
        var lines = [
            "case \(c.caseNumber) (\(c.caseID))  revision \(c.revision)",
            "status \(Text.name(c.status))  item \(c.item.implementationCode) \(c.item.name) v\(c.item.version), tier \(Text.name(c.item.tier))",
            "application \(c.applicationNumber) (\(c.applicationID)), accepted \(Text.date(c.acceptedOn)) (\(Text.name(c.acceptanceKind)))",
            "applicant \(c.applicant.name) \(c.applicant.idNumber)",
        ]
        if c.deadline.dueOn.year != 0 {
            lines.append("due \(Text.date(c.deadline.dueOn)): \(c.deadline.workingDaysUsed) of \(c.deadline.workingDaysTotal) working days used\(c.deadline.overdue ? ", OVERDUE" : "")")
        }
        if c.hasHearing {
            let h = c.hearing
            var line = "hearing: right notified \(Text.date(h.rightNotifiedOn)) (\(h.rightNotice.number)), request by \(Text.date(h.lastDayToRequest))"
            if h.hasRequestedOn { line += "; requested \(Text.date(h.requestedOn)) by \(h.requestedBy), hold by \(Text.date(h.holdBy))" }
            if h.hasHearingOn { line += "; held \(Text.date(h.hearingOn)) at \(h.place), \(Text.name(h.publicity)), presided by \(h.presidingOfficer)" }
            if h.hasRecordClosedOn { line += "; record closed \(Text.date(h.recordClosedOn)) (those days not counted, Art. 45)" }
            lines.append(line)
        }
        if c.hasRenewal {
            let r = c.renewal
            lines.append("renewal (延续) of \(r.licence.licenceIdentifier), valid until \(Text.date(r.validUntil)): decide by that day, or it is granted by law the day after (Art. 50)")
        }
        for step in c.steps {
            let who = step.assignee.subject.isEmpty ? "unassigned" : step.assignee.subject
            let conclusion = step.conclusion == .unspecified ? "" : "  \(Text.name(step.conclusion)): \(step.opinion)"
            lines.append("  step \(step.index) \(Text.name(step.role)) \(Text.name(step.status)) \(who)\(conclusion)")
        }
        if c.nextRole != .unspecified { lines.append("next: \(Text.name(c.nextRole))\(c.awaitingDecision ? " (awaiting the decision)" : "")") }
        if c.hasDecision {
            let d = c.decision
            switch d.outcome {
            case .grant(let grant)?: lines.append("decision: GRANTED\(d.deemedRenewal ? " BY LAW (视为准予延续, Art. 50)" : "") on \(Text.date(d.decidedOn)) by \(d.decidedBy.subject): \(grant.scope)")
            case .denial(let denial)?: lines.append("decision: DENIED on \(Text.date(d.decidedOn)) by \(d.decidedBy.subject): \(denial.reasons.joined(separator: "; "))")
            case nil: break
            }
            if !d.document.number.isEmpty { lines.append("document \(d.document.number) \(d.document.title)") }
        }
        if !c.licence.licenceIdentifier.isEmpty { lines.append("licence \(c.licence.licenceIdentifier) \(c.licence.licenceNumber)") }
        return lines.joined(separator: "\n")
    }
}
