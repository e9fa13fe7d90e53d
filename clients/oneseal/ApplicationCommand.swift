import ArgumentParser
import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealProto
import SwiftProtobuf

/// `oneseal application …`: the window's side (综合受理) from the command line — submit, then one of
/// the intake outcomes (accept, correction notice, not accepted), look-up, the work list and the
/// public progress look-up. Accepting opens one approval case per item on the approval service.
struct ApplicationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "application",
        abstract: "Applications at the window: submit, accept, correct, reject, show, list, track.",
        subcommands: [Submit.self, Accept.self, Correct.self, Reject.self, Forward.self, Deliver.self, Withdraw.self, Show.self, List.self, Track.self]
    )

    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Submit an application from flags, or from --file (protobuf JSON of oneseal.intake.v1.SubmitApplicationRequest).",
            discussion: """
                Each --material is REQUIREMENT_CODE=FILE_ID (a file id from `oneseal material upload`) or REQUIREMENT_CODE=@PATH \
                (the file is uploaded first); its name, form and copies come from the item's current catalogue entry. Retries are safe: the idempotency key (generated, printed, \
                or given with --idempotency-key) makes the same submission return the same application.
                """)
        @Option(help: "Implementation code of an item; repeat for a bundle.") var item: [String] = []
        @Option(help: "natural_person or legal_person (default: legal_person for --id-type uscc, else natural_person).") var applicantKind: String?
        @Option(help: "Applicant's full name or registered name.") var name: String?
        @Option(help: "resident_id, uscc, passport, hk_macao_permit, taiwan_permit, foreign_permanent_resident, other.") var idType: String = "resident_id"
        @Option(help: "ID number (resident ID or USCC are checksum-checked by the service).") var idNumber: String?
        @Option(help: "Applicant's phone.") var phone: String?
        @Option(help: "Applicant's address.") var applicantAddress: String?
        @Option(help: "Organisations: the legal representative (法定代表人).") var legalRepresentative: String?
        @Option(help: "Organisations: who handles it.") var contactName: String?
        @Option(help: "Organisations: the handler's phone.") var contactPhone: String?
        @Option(help: "A material as REQUIREMENT_CODE=FILE_ID or REQUIREMENT_CODE=@PATH (uploaded first); repeat.") var material: [String] = []
        @Option(help: "An application form field as name=value; repeat.") var form: [String] = []
        @Option(help: "window, online, mobile, self_service, mail, integrator.") var channel: String = "window"
        @Option(help: "Window number (窗口号).") var window: String = ""
        @Option(help: "Idempotency key (default: a new UUID, printed).") var idempotencyKey: String?
        @Option(help: "Apply for the renewal (延续, Art. 50) of this licence (证照标识) instead of a new licence: one --item, the applicant its holder, at least 30 days (or the item's period) before it expires.")
        var renewalOf: String?
        @Option(help: "Apply for a change (变更, Art. 49) of this licence (证照标识): give at least one of the --change-… values; the item says which changes are reviewed and which only recorded.")
        var changeOf: String?
        @Option(help: "With --change-of: the holder's new name (持证主体名称).") var changeHolderName: String?
        @Option(help: "With --change-of: the new legal representative (法定代表人).") var changeLegalRepresentative: String?
        @Option(help: "With --change-of: the new address on the licence.") var changePlace: String?
        @Option(help: "With --change-of: the new scope (许可范围).") var changeScope: String?
        @Option(help: "Read the whole request from this file (protobuf JSON); excludes the applicant, item and material flags.") var file: String?
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func validate() throws {
            let changes = [changeHolderName, changeLegalRepresentative, changePlace, changeScope].compactMap { $0 }
            if changeOf == nil, !changes.isEmpty { throw ValidationError("--change-holder-name/--change-legal-representative/--change-place/--change-scope belong to --change-of") }
            if changeOf != nil, renewalOf != nil { throw ValidationError("--renewal-of and --change-of: an application is a renewal or a change, not both") }
            if changeOf != nil, changes.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                throw ValidationError("--change-of: give at least one new value (--change-holder-name, --change-legal-representative, --change-place, --change-scope)")
            }
            if file != nil {
                let flags: [Any?] = [applicantKind, name, idNumber, phone, applicantAddress, legalRepresentative, contactName, contactPhone]
                guard item.isEmpty, material.isEmpty, form.isEmpty, flags.allSatisfy({ $0 == nil }) else {
                    throw ValidationError("--file gives the whole request: leave out --item, --material, --form and the applicant flags")
                }
                return
            }
            guard !item.isEmpty else { throw ValidationError("--item: give at least one item's implementation code (or --file)") }
            guard let name, !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--name: the applicant's name is required") }
            guard let idNumber, !idNumber.isEmpty else { throw ValidationError("--id-number: the applicant's ID number is required") }
            _ = try Text.parse(idType, option: "--id-type", as: Common_IdType.self)
            if let applicantKind { _ = try Text.parse(applicantKind, option: "--applicant-kind", as: Common_ApplicantKind.self) }
            _ = try Text.parse(channel, option: "--channel", as: Intake_ApplicationChannel.self)
            _ = try CaseText.pairs(form, option: "--form")
            _ = try materialPairs()
        }

        func materialPairs() throws -> [(code: String, fileID: String)] {
            try material.map { value in
                let parts = value.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw ValidationError("--material: '\(value)' is not REQUIREMENT_CODE=FILE_ID or REQUIREMENT_CODE=@PATH")
                }
                return (parts[0], parts[1])
            }
        }

        func run() async throws {
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .windowClerk)
            var request: Intake_SubmitApplicationRequest
            if let file { request = try Self.read(file) } else { request = try await buildRequest() }
            if let idempotencyKey { request.idempotencyKey = idempotencyKey }
            if let renewalOf { request.renewalOf = renewalOf.trimmingCharacters(in: .whitespaces) }
            if let changeOf {
                request.change.licence.licenceIdentifier = changeOf.trimmingCharacters(in: .whitespaces)
                request.change.holderName = changeHolderName ?? ""
                request.change.legalRepresentative = changeLegalRepresentative ?? ""
                request.change.place = changePlace ?? ""
                request.change.scope = changeScope ?? ""
            }
            if request.idempotencyKey.isEmpty { request.idempotencyKey = UUID().uuidString.lowercased() }
            let finalRequest = request
            let response = try await connection.intake { try await $0.submitApplication(finalRequest, metadata: metadata) }
            var lines = [ApplicationText.detail(response.application)]
            lines.append("idempotency key \(finalRequest.idempotencyKey)")
            if response.checkFindings.isEmpty {
                lines.append("automatic check: materials look complete")
            } else {
                lines.append("automatic check found:")
                lines += response.checkFindings.map { "  \(ApplicationText.problem($0))" }
            }
            lines.append("allowed outcomes: \(response.allowedOutcomes.map { Text.name($0) }.joined(separator: ", "))")
            try output.emit(response, text: lines.joined(separator: "\n"))
        }

        static func read(_ path: String) throws -> Intake_SubmitApplicationRequest {
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch { throw ValidationError("--file: cannot read \(path): \(error.localizedDescription)") }
            do { return try Intake_SubmitApplicationRequest(jsonString: text) } catch {
                throw ValidationError("--file \(path): not a oneseal.intake.v1.SubmitApplicationRequest in protobuf JSON: \(error)")
            }
        }

        /// The request from the flags; each material's name, form and copies from the items' catalogue entries.
        func buildRequest() async throws -> Intake_SubmitApplicationRequest {
            let idType = try Text.parse(idType, option: "--id-type", as: Common_IdType.self)
            var request = Intake_SubmitApplicationRequest()
            request.applicant.kind = try applicantKind.map { try Text.parse($0, option: "--applicant-kind") } ?? (idType == .uscc ? .legalPerson : .naturalPerson)
            request.applicant.name = name ?? ""
            request.applicant.idType = idType
            request.applicant.idNumber = IdentityCode.normalized(idNumber ?? "")
            request.applicant.phone = phone ?? ""
            request.applicant.address = applicantAddress ?? ""
            request.applicant.legalRepresentative = legalRepresentative ?? ""
            request.applicant.contactName = contactName ?? ""
            request.applicant.contactPhone = contactPhone ?? ""
            request.items = item.map { code in Intake_RequestedItem.with { $0.implementationCode = code } }
            request.channel = try Text.parse(channel, option: "--channel")
            request.windowID = window
            request.formFields = try CaseText.pairs(form, option: "--form")
            let pairs = try materialPairs()
            guard !pairs.isEmpty else { return request }
            let items = try await connection.intake { intake in
                var items: [Intake_Item] = []
                for code in item {
                    items.append(try await intake.getItem(Intake_GetItemRequest.with { $0.implementationCode = code }).item)
                }
                return items
            }
            // REQUIREMENT_CODE=@PATH: the file goes to the material store first, as this caller.
            var fileIDs: [String] = []
            for pair in pairs {
                guard pair.fileID.hasPrefix("@") else { fileIDs.append(pair.fileID); continue }
                let path = String(pair.fileID.dropFirst())
                let content = try MaterialFiles.read(path, option: "--material \(pair.code)")
                let metadata = try credentials.metadata(node: connection.node, defaultRole: .windowClerk)
                let name = URL(fileURLWithPath: path).lastPathComponent
                let uploaded = try await connection.intake {
                    try await $0.uploadMaterial(content.bytes, fileName: name, contentType: content.type.rawValue, metadata: metadata)
                }
                fileIDs.append(uploaded.material.fileID)
            }
            request.materials = try zip(pairs, fileIDs).map { pair, fileID in
                let owners = items.filter { item in item.materials.contains { $0.code == pair.code } }
                guard let requirement = owners.first?.materials.first(where: { $0.code == pair.code }) else {
                    let known = Set(items.flatMap { $0.materials.map(\.code) }).sorted()
                    throw ValidationError("--material \(pair.code): no item of this application lists material \(pair.code) (they list \(known.joined(separator: ", ")))")
                }
                var provided = Intake_ProvidedMaterial()
                provided.requirementCode = pair.code
                if owners.count < items.count { provided.implementationCodes = owners.map(\.implementationCode) }
                provided.name = requirement.name
                provided.form = requirement.forms.first ?? .original
                provided.copies = max(requirement.copies, 1)
                provided.fileID = fileID
                return provided
            }
            return request
        }
    }

    struct Accept: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Accept (受理): issues the receipt and opens one approval case per item.")
        @Option(help: "Application id.") var application: String
        @Option(help: "Refuse if the application changed since this revision (0 = don't check).") var expectedRevision: Int64 = 0
        @Option(help: "A note for the record.") var note: String = ""
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .windowClerk)
            let request = Intake_AcceptRequest.with { $0.applicationID = application; $0.expectedRevision = expectedRevision; $0.note = note }
            let response = try await connection.intake { try await $0.accept(request, metadata: metadata) }
            try output.emit(response, text: "accepted\n" + ApplicationText.detail(response.application))
        }
    }

    struct Correct: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue the one correction notice (一次性告知补正) listing every problem.")
        @Option(help: "Application id.") var application: String
        @Option(help: "A problem as REQUIREMENT_CODE=what to supply or fix; repeat for every one.") var problem: [String] = []
        @Option(help: "Kind of the problems: missing, wrong_form, incomplete, inconsistent, expired, unverifiable, other.") var kind: String = "missing"
        @Flag(help: "Told on the spot at the window (当场告知).") var onTheSpot = false
        @Option(help: "Refuse if the application changed since this revision (0 = don't check).") var expectedRevision: Int64 = 0
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard !problem.isEmpty else { throw ValidationError("--problem: list every problem (at least one)") }
            _ = try CaseText.pairs(problem, option: "--problem")
            _ = try Text.parse(kind, option: "--kind", as: Intake_MaterialProblemKind.self)
        }

        func run() async throws {
            let kind = try Text.parse(kind, option: "--kind", as: Intake_MaterialProblemKind.self)
            var request = Intake_IssueCorrectionNoticeRequest()
            request.applicationID = application
            request.expectedRevision = expectedRevision
            request.onTheSpot = onTheSpot
            request.problems = try problem.map { value in
                let parts = value.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw ValidationError("--problem: '\(value)' is not REQUIREMENT_CODE=text") }
                return Intake_MaterialProblem.with { $0.requirementCode = parts[0]; $0.howToFix = parts[1]; $0.kind = kind }
            }
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .windowClerk)
            let response = try await connection.intake { try await $0.issueCorrectionNotice(request, metadata: metadata) }
            try output.emit(response, text: "correction notice \(response.notice.noticeNumber) issued\n" + ApplicationText.detail(response.application))
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Not accepted (不予受理), with ground, reason and legal basis.")
        @Option(help: "Application id.") var application: String
        @Option(help: "not_a_licensing_matter, outside_powers, correction_not_made, other.") var ground: String
        @Option(help: "The specific reason.") var reason: String
        @Option(help: "The provision the refusal rests on.") var legalBasis: String
        @Option(help: "For outside_powers: the competent agency.") var competentAgency: String = ""
        @Option(help: "Refuse if the application changed since this revision (0 = don't check).") var expectedRevision: Int64 = 0
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func validate() throws { _ = try Text.parse(ground, option: "--ground", as: Intake_NotAcceptedGround.self) }

        func run() async throws {
            var request = Intake_RejectApplicationRequest()
            request.applicationID = application
            request.expectedRevision = expectedRevision
            request.ground = try Text.parse(ground, option: "--ground")
            request.reason = reason
            request.legalBasis = legalBasis
            request.competentAgency = competentAgency
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .windowClerk)
            let response = try await connection.intake { try await $0.rejectApplication(request, metadata: metadata) }
            try output.emit(response, text: "not accepted: notice \(response.notice.noticeNumber)\n" + ApplicationText.detail(response.application))
        }
    }

    struct Forward: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A county's accepted application of a city item, forwarded with the first-review opinion (审核转报).",
            discussion: "The county accepts first (`oneseal application accept`); the city's approval opens the case on the forwarded event.")
        @Option(help: "Application id.") var application: String
        @Option(help: "The county's first-review opinion (初审意见): specific, required.") var opinion: String
        @Option(help: "Target node (GB/T 2260 code); default: the item's implementing node.") var toNode: String = ""
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let request = Intake_ForwardToCityRequest.with {
                $0.applicationID = application
                $0.firstReviewOpinion = opinion
                $0.toNode = toNode
            }
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .windowClerk)
            let response = try await connection.intake { try await $0.forwardToCity(request, metadata: metadata) }
            try output.emit(response, text: "forwarded\n" + ApplicationText.detail(response.application))
        }
    }

    struct Deliver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hand out the results (出件): at the window to the applicant or an agent, by mail, or electronically.",
            discussion: "Intake refuses until every item has its result and every material promised at acceptance has arrived.")
        @Option(help: "Application id.") var application: String
        @Option(help: "window, mail or electronic; or chosen: as the applicant chose online (送达方式; mail then needs --tracking-number).") var method: String = "window"
        @Option(help: "At the window: who collected it (the applicant or an authorised agent).") var recipientName: String?
        @Option(help: "At the window: the collector's ID type (resident_id, passport, …).") var recipientIdType: String = "resident_id"
        @Option(help: "At the window: the collector's ID number (checksum-checked by the service).") var recipientIdNumber: String?
        @Option(help: "By mail: the tracking number.") var trackingNumber: String = ""
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if method != "chosen" { _ = try Text.parse(method, option: "--method", as: Intake_DeliveryMethod.self) }
            _ = try Text.parse(recipientIdType, option: "--recipient-id-type", as: Common_IdType.self)
            if (recipientName == nil) != (recipientIdNumber == nil) {
                throw ValidationError("--recipient-name and --recipient-id-number go together")
            }
        }

        func run() async throws {
            var delivery = Intake_Delivery()
            // "chosen" leaves the method unspecified: intake takes the applicant's choice.
            if method != "chosen" { delivery.method = try Text.parse(method, option: "--method") }
            delivery.trackingNumber = trackingNumber
            if let recipientName, let recipientIdNumber {
                delivery.recipient = Common_Applicant.with {
                    $0.kind = .naturalPerson
                    $0.name = recipientName
                    $0.idNumber = IdentityCode.normalized(recipientIdNumber)
                }
                delivery.recipient.idType = try Text.parse(recipientIdType, option: "--recipient-id-type")
            }
            let request = Intake_RecordDeliveryRequest.with { $0.applicationID = application; $0.delivery = delivery }
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .windowClerk)
            let response = try await connection.intake { try await $0.recordDelivery(request, metadata: metadata) }
            try output.emit(response, text: "delivered\n" + ApplicationText.detail(response.application))
        }
    }

    struct Withdraw: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The applicant withdraws the application (撤回申请); its open cases end as withdrawn.")
        @Option(help: "Application id.") var application: String
        @Option(help: "The applicant's reason, for the record.") var reason: String
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let request = Intake_WithdrawApplicationRequest.with { $0.applicationID = application; $0.reason = reason }
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .windowClerk)
            let response = try await connection.intake { try await $0.withdrawApplication(request, metadata: metadata) }
            try output.emit(response, text: "withdrawn\n" + ApplicationText.detail(response.application))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an application by id or number: items, cases, clock, documents.")
        @Option(help: "Application id (UUID) or application number.") var application: String
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .windowClerk)
            let request = Intake_GetApplicationRequest.with {
                if UUID(uuidString: application) != nil { $0.applicationID = application } else { $0.applicationNumber = application }
            }
            let response = try await connection.intake { try await $0.getApplication(request, metadata: metadata) }
            try output.emit(response.application, text: ApplicationText.detail(response.application))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The window's work list: by status, window, or due for an intake decision.")
        @Option(help: "Statuses (comma-separated): submitted, correction_requested, accepted, not_accepted, forwarded, ready_for_delivery, delivered, withdrawn.") var status: String?
        @Option(help: "Window number.") var window: String = ""
        @Option(help: "Only those whose intake decision is due within this many working days.") var dueWithin: Int = 0
        @Option(help: "At most this many.") var limit: Int = 100
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func statuses() throws -> [Intake_ApplicationStatus] {
            try (status ?? "").split(separator: ",").map { try Text.parse(String($0).trimmingCharacters(in: .whitespaces), option: "--status") }
        }

        func validate() throws {
            _ = try statuses()
            guard limit > 0 else { throw ValidationError("--limit must be positive") }
            guard dueWithin >= 0 else { throw ValidationError("--due-within must not be negative") }
        }

        func run() async throws {
            var request = Intake_ListApplicationsRequest()
            request.statuses = try statuses()
            request.windowID = window
            request.intakeDueWithinDays = Int32(dueWithin)
            request.page.pageSize = Int32(min(limit, 500))
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .windowClerk)
            let applications = try await connection.intake { intake in
                return try await allPages(limit: limit) { token in
                    request.page.pageToken = token
                    let response = try await intake.listApplications(request, metadata: metadata)
                    return (response.applications, response.page.nextPageToken)
                }
            }
            let lines = applications.map(ApplicationText.row)
            try output.emit(try JSONOutput.values(applications), text: (lines + ["\(applications.count) applications"]).joined(separator: "\n"))
        }
    }

    struct Track: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Public progress look-up by application number and query code (no token needed).")
        @Option(help: "Application number (on the slip).") var number: String
        @Option(help: "Query code printed on the slip (10 characters; older slips have 6 digits).") var queryCode: String
        @OptionGroup var connection: Connection
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let request = Intake_TrackProgressRequest.with { $0.applicationNumber = number; $0.queryCode = queryCode }
            let response = try await connection.intake { try await $0.trackProgress(request) }
            var lines = ["\(response.applicationNumber)  \(response.maskedApplicantName)  \(Text.name(response.status))"]
            lines += response.items.map { "  \($0.implementationCode) \($0.itemName): \(Text.name($0.progress))" }
            lines += response.steps.map { "  \($0.at.date.ISO8601Format())  \($0.description_p)\($0.node.isEmpty ? "" : " (\($0.node))")" }
            if !response.collectionPoint.isEmpty { lines.append("collect at \(response.collectionPoint)") }
            try output.emit(response, text: lines.joined(separator: "\n"))
        }
    }
}

/// An application as text.
enum ApplicationText {
    static func row(_ a: Intake_Application) -> String {
        "\(a.applicationID)  \(a.applicationNumber)  \(Text.name(a.status))  \(a.applicant.name)  \(a.items.map(\.implementationCode).joined(separator: ","))"
    }

    static func problem(_ p: Intake_MaterialProblem) -> String {
        "\(p.implementationCode.isEmpty ? "" : p.implementationCode + " ")\(p.requirementCode) \(p.materialName) [\(Text.name(p.kind))] \(p.howToFix)"
    }

    static func detail(_ a: Intake_Application) -> String {
        var lines = [
            "application \(a.applicationNumber) (\(a.applicationID))  revision \(a.revision)",
            "status \(Text.name(a.status))  outcome \(Text.name(a.outcome))  channel \(Text.name(a.channel))\(a.windowID.isEmpty ? "" : " window \(a.windowID)")",
            "applicant \(a.applicant.name) \(a.applicant.idNumber)",
        ]
        if !a.queryCode.isEmpty { lines.append("query code \(a.queryCode)") }
        if a.hasChange {
            let c = a.change
            let reviewed = c.reviewed.isEmpty ? "recorded only" : "reviewed: \(c.reviewed.joined(separator: ", "))"
            lines.append("change (变更) of \(c.licence.licenceIdentifier) (\(reviewed))")
        }
        if a.hasRenewal {
            lines.append("renewal (延续) of \(a.renewal.licence.licenceIdentifier), valid until \(Text.date(a.renewal.validUntil)), applied \(Text.date(a.renewal.appliedOn)) (last day \(Text.date(a.renewal.lastDayToApply)))")
        }
        if a.intakeDeadline.dueOn.year != 0, a.status == .submitted || a.status == .correctionRequested {
            lines.append("intake decision due \(Text.date(a.intakeDeadline.dueOn))")
        }
        if !a.receipt.receiptNumber.isEmpty { lines.append("receipt \(a.receipt.receiptNumber), accepted \(Text.date(a.receipt.acceptedOn)), promised \(Text.date(a.receipt.promisedOn))") }
        for notice in a.correctionNotices {
            lines.append("correction notice \(notice.noticeNumber) of \(Text.date(notice.issuedOn)):")
            lines += notice.problems.map { "  \(problem($0))" }
        }
        if !a.notAccepted.noticeNumber.isEmpty { lines.append("not accepted: \(a.notAccepted.noticeNumber) \(a.notAccepted.reason)") }
        // 送达方式 and 出件: what the applicant chose (the address as this caller may see it) and what happened.
        if a.hasDeliveryChoice {
            let address = a.deliveryChoice.address
            lines.append("delivery chosen: \(Text.name(a.deliveryChoice.method))" + (a.deliveryChoice.hasAddress ? " to \(address.recipientName) \(address.phone) \(address.postalAddress) \(address.postalCode)" : ""))
        }
        if a.hasDelivery {
            lines.append("delivered \(Text.name(a.delivery.method))" + (a.delivery.trackingNumber.isEmpty ? "" : " tracking \(a.delivery.trackingNumber)")
                + (a.delivery.recipient.name.isEmpty ? "" : " to \(a.delivery.recipient.name)"))
        }
        for item in a.items {
            var line = "  item \(item.implementationCode) \(item.itemName): \(Text.name(item.progress))"
            if !item.caseID.isEmpty { line += "  case \(item.caseNumber) (\(item.caseID))" }
            if item.deadline.dueOn.year != 0 { line += "  due \(Text.date(item.deadline.dueOn))" }
            if !item.licence.licenceIdentifier.isEmpty { line += "  licence \(item.licence.licenceIdentifier)" }
            if !item.denialSummary.isEmpty { line += "  denied: \(item.denialSummary)" }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
