import Crypto
import Foundation
import GRPCCore
import IntakeContracts
import IntakeRules
import Metrics
import OneSealAuth
import OneSealCore
import OneSealOutbox
import OneSealProto
import OneSealServiceKit
import OneSealStore
import SwiftProtobuf

/// Receiving applications, corrections and withdrawals; reading them back.
extension IntakeAPI {
    public func submitApplication(request: Intake_SubmitApplicationRequest, context: ServerContext) async throws -> Intake_SubmitApplicationResponse {
        let caller = try ServerContext.requireCaller()
        // Codes as people type them ("91371302ma3c1234x7 ") are one company, not two.
        let request = Self.normalizingCodes(request)
        let key = request.idempotencyKey.isEmpty ? (CallMetadata.idempotencyKey ?? "") : request.idempotencyKey
        var keyed = request
        keyed.idempotencyKey = ""
        let canonical: [UInt8] = try keyed.serializedBytes(options: Self.deterministic)
        let digest = Array(SHA256.hash(data: canonical))

        try validate(request, idempotencyKey: key)
        try authorizeSubmission(request, by: caller)
        let receivedOn = today
        let id = UUID()
        let now = clock()
        // Without a renewal or change to check with the certificate service, the material files
        // are looked up with the other reads; and when no electronic licence needs verifying with
        // its issuer either, nothing outside this database is asked, so the reads, the insert and
        // the answer's read log are one transaction (#21: a submit was ≈ 12 commits, one per
        // material file looked up, then two).
        let filesFirst = request.renewalOf.isEmpty && !request.hasChange
        do {
            let reads = try await database.withTransaction { connection -> SubmitReads in
                // A retry: the same key answers with the application it made, whatever happened since.
                if let existing = try await ApplicationStore.find(idempotencyKey: key, on: connection) { return .retry(existing) }
                // The pinned versions: the current version of each item now, for the whole life of the case.
                var pinned: [PinnedItem] = []
                for (index, requested) in request.items.enumerated() {
                    guard let stored = try await CatalogueStore.item(requested.implementationCode, on: connection) else {
                        throw Self.notFound("items[\(index)].implementation_code: no item \(requested.implementationCode) in the catalogue")
                    }
                    pinned.append(try stored.pinned)
                }
                guard filesFirst else { return .pinned(pinned, files: nil) }
                let resolved = try await resolvingFiles(request.materials, by: caller, on: connection)
                let materials = resolved.materials.map(ProvidedMaterial.init(proto:))
                guard !materials.contains(where: { $0.electronicLicence != nil }) else { return .pinned(pinned, files: resolved) }
                let state = try submittedState(request, items: pinned, materials: materials, receivedOn: receivedOn, renewal: nil, change: nil)
                return .submitted(try await insertSubmitted(
                    request, id: id, state: state, items: pinned, files: resolved.files, key: key, digest: digest, caller: caller, at: now, in: connection))
            }
            let pinned: [PinnedItem]
            let early: ResolvedFiles?
            switch reads {
            case .retry(let existing): return try await answer(toRetryOf: existing, digest: digest, caller: caller)
            case .submitted(let response): return received(response, items: request.items.count, by: caller)
            case .pinned(let items, let files): (pinned, early) = (items, files)
            }
            // A renewal (Art. 50): the holder's own licence, in force, applied for in time — checked before
            // anything is stored, so a late one is refused with its reason and leaves no application.
            if !request.renewalOf.isEmpty, request.hasChange {
                throw RPCError.invalidArgument(field: "change", "an application is a renewal (renewal_of) or a change, not both", reason: "change.with_renewal")
            }
            let renewal = request.renewalOf.isEmpty ? nil : try await renewalSubject(request, items: pinned, appliedOn: receivedOn)
            let change = request.hasChange ? try await changeRequest(request, items: pinned) : nil
            // Each file_id a stored file this caller may use (materials[i].file_id names the bad one).
            let resolved = if let early { early } else {
                try await database.withTransaction { try await resolvingFiles(request.materials, by: caller, on: $0) }
            }
            let materials = await verifyingLicences(resolved.materials)
            let state = try submittedState(request, items: pinned, materials: materials, receivedOn: receivedOn, renewal: renewal, change: change)
            let response = try await database.withTransaction { transaction in
                try await insertSubmitted(
                    request, id: id, state: state, items: pinned, files: resolved.files, key: key, digest: digest, caller: caller, at: now, in: transaction)
            }
            return received(response, items: pinned.count, by: caller)
        } catch let error as PostgresError where error.sqlState == "23505" && error.constraint == "applications_idempotency_key_key" {
            // A concurrent submit with the same key won the race: answer with its application.
            guard let existing = try await database.withConnection({ try await ApplicationStore.find(idempotencyKey: key, on: $0) }) else { throw error }
            return try await answer(toRetryOf: existing, digest: digest, caller: caller)
        }
    }

    /// What a submit's reads found: a retry of an earlier submit, the application already
    /// stored (nothing outside the database to ask), or the pinned items (and the material files,
    /// when looked up) for the checks that ask other services before the write.
    private enum SubmitReads {
        case retry(StoredApplication)
        case submitted(Intake_SubmitApplicationResponse)
        case pinned([PinnedItem], files: ResolvedFiles?)
    }

    private func submittedState(
        _ request: Intake_SubmitApplicationRequest, items: [PinnedItem], materials: [ProvidedMaterial], receivedOn: CivilDate,
        renewal: RenewalSubject?, change: LicenceChangeRequest?
    ) throws -> ApplicationState {
        try ApplicationState(
            items: items, materials: materials, receivedOn: receivedOn, calendar: calendar,
            acceptingNode: NodeRef(divisionCode: node, name: settings.agencyName), visits: request.channel == .window ? 1 : 0,
            renewal: renewal, change: change)
    }

    /// Logs a new application once its transaction has committed.
    private func received(_ response: Intake_SubmitApplicationResponse, items: Int, by caller: Caller) -> Intake_SubmitApplicationResponse {
        logger.info("application received", metadata: ["application": "\(response.application.applicationNumber)", "items": "\(items)", "by": "\(caller.logSubject)"])
        return response
    }

    /// Stores a new application (its number, materials, first step and `ApplicationSubmitted`
    /// event) and answers with its view, read-logged in the same transaction.
    private func insertSubmitted(
        _ request: Intake_SubmitApplicationRequest, id: UUID, state: ApplicationState, items pinned: [PinnedItem], files: [[UInt8]],
        key: String, digest: [UInt8], caller: Caller, at now: Date, in transaction: PostgresConnection
    ) async throws -> Intake_SubmitApplicationResponse {
        let receivedOn = state.receivedOn
        let serial = try await ApplicationStore.nextNumber(scope: "application:\(node):\(receivedOn.iso8601)", in: transaction)
        let number = try CaseNumber.application(node: node, receivedOn: receivedOn, serial: serial)
        let application = StoredApplication(
            id: id, number: number.description, queryCode: Self.newQueryCode(), status: state.overallStatus, state: state,
            channel: Applicant.channelName(request.channel), windowID: request.windowID,
            applicantSealed: try sealParties(applicant: request.applicant, agent: request.hasAgent ? request.agent : nil, id: id),
            revision: 1, bundleID: pinned.count > 1 ? id : nil, submittedAt: now, updatedAt: now, requestDigest: digest,
            applicantIndex: keyring.blindIndex(request.applicant.idNumber, purpose: "id_number"),
            agentIndex: request.hasAgent ? keyring.blindIndex(request.agent.idNumber, purpose: "id_number") : nil,
            submitterIndex: submitterIndex(caller))
        let record = record(application)
        try await ApplicationStore.insert(
            application, applicantKind: ApplicantKind(proto: request.applicant.kind)?.rawValue ?? "",
            idempotencyKey: key, steps: [(now, "已收件，等待受理审查")], node: node, in: transaction)
        try await MaterialStore.attach(files, to: id, in: transaction)
        var submitted = Intake_ApplicationSubmitted()
        submitted.applicationID = record.applicationID
        submitted.applicationNumber = record.applicationNumber
        submitted.acceptingNode = node
        submitted.implementationCodes = pinned.map(\.item.implementationCode)
        submitted.channel = request.channel
        submitted.windowID = request.windowID
        submitted.submittedAt = record.submittedAt
        submitted.applicantKind = request.applicant.kind
        try await Outbox.enqueue([try event(submitted, to: evaluation, aggregate: id)], in: transaction)
        // The answer's read log commits with the application.
        return try await submitResponse(application, caller: caller, on: transaction)
    }

    /// The renewal a request asks for, checked against this node's record of the licence
    /// (`RenewalEligibility`): every problem is an INVALID_ARGUMENT on `renewal_of`.
    func renewalSubject(_ request: Intake_SubmitApplicationRequest, items: [PinnedItem], appliedOn: CivilDate) async throws -> RenewalSubject {
        guard items.count == 1, let item = items.first?.item else {
            throw RPCError.invalidArgument(field: "items", "a renewal application names exactly one item, the one that issued the licence", reason: "renewal.one_item")
        }
        let decidingNode = item.implementingNode.divisionCode.isEmpty ? node : item.implementingNode.divisionCode
        guard decidingNode == node else {
            // The licence lives with the deciding node's certificate service; this hall cannot read it in full.
            throw RPCError(code: .failedPrecondition, message: "item \(item.implementationCode) is decided by node \(decidingNode); apply for the renewal at its hall (Art. 50: to the agency that granted the licence)")
        }
        let identifier = request.renewalOf.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        let licence = try await licences.renewable(identifier)
        switch RenewalEligibility.check(
            licence, applicantCode: request.applicant.idNumber, itemLicenceTypeCode: item.licenceTypeCode,
            daysBeforeExpiry: item.renewalDaysBeforeExpiry, decidingNode: decidingNode, appliedOn: appliedOn)
        {
        case .success(let subject): return subject
        case .failure(let problems): throw RPCError.invalidArgument(problems.all.map(\.proto))
        }
    }

    /// The change a request asks for (Art. 49), checked against this node's record of the licence
    /// (`LicenceChangeEligibility`); which changed matters need a review comes from the item.
    func changeRequest(_ request: Intake_SubmitApplicationRequest, items: [PinnedItem]) async throws -> LicenceChangeRequest {
        guard items.count == 1, let item = items.first?.item else {
            throw RPCError.invalidArgument(field: "items", "a change application names exactly one item, the one that issued the licence", reason: "change.one_item")
        }
        let decidingNode = item.implementingNode.divisionCode.isEmpty ? node : item.implementingNode.divisionCode
        guard decidingNode == node else {
            throw RPCError(code: .failedPrecondition, message: "item \(item.implementationCode) is decided by node \(decidingNode); apply for the change at its hall (Art. 49: to the agency that granted the licence)")
        }
        guard var asked = request.change.request else {
            throw RPCError.invalidArgument(field: "change.licence.licence_identifier", "required: the licence to change (证照标识)", reason: "required")
        }
        let identifier = asked.licenceIdentifier.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        asked.licenceIdentifier = identifier
        let licence: RenewableLicence
        do {
            licence = try await licences.renewable(identifier)
        } catch let error as RPCError where error.code == .invalidArgument {
            throw RPCError.invalidArgument(field: "change.licence.licence_identifier", error.message, reason: "change.unknown_licence")
        }
        switch LicenceChangeEligibility.check(
            asked, licence: licence, applicantCode: request.applicant.idNumber, itemLicenceTypeCode: item.licenceTypeCode,
            reviewMatters: item.changeReviewMatters ?? [], decidingNode: decidingNode)
        {
        case .success(let change): return change
        case .failure(let problems): throw RPCError.invalidArgument(problems.all.map(\.proto))
        }
    }

    /// The request with the applicant's and agent's ID numbers as stored: trimmed, upper case.
    static func normalizingCodes(_ request: Intake_SubmitApplicationRequest) -> Intake_SubmitApplicationRequest {
        var out = request
        out.applicant.idNumber = IdentityCode.normalized(request.applicant.idNumber)
        if request.hasAgent { out.agent.idNumber = IdentityCode.normalized(request.agent.idNumber) }
        return out
    }

    /// The materials as provided, each electronic licence verified with its issuing node (免提交).
    func verifyingLicences(_ provided: [Intake_ProvidedMaterial]) async -> [ProvidedMaterial] {
        var materials = provided.map(ProvidedMaterial.init(proto:))
        for index in materials.indices {
            if let licence = materials[index].electronicLicence {
                let result = await licences.verify(licence)
                materials[index].licenceVerified = result.verified
                materials[index].licenceVerificationDetail = result.detail
            }
        }
        return materials
    }

    static let deterministic: BinaryEncodingOptions = {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        return options
    }()

    private func answer(toRetryOf existing: StoredApplication, digest: [UInt8], caller: Caller) async throws -> Intake_SubmitApplicationResponse {
        try authorize(.read, on: existing, by: caller)
        guard existing.requestDigest == digest else {
            throw RPCError.invalidArgument(
                field: "idempotency_key",
                "already used for application \(existing.number) with a different request; use a new key for a new application",
                reason: "idempotency_key.reused")
        }
        return try await database.withTransaction { try await submitResponse(existing, caller: caller, on: $0) }
    }

    private func submitResponse(_ application: StoredApplication, caller: Caller, on connection: PostgresConnection) async throws -> Intake_SubmitApplicationResponse {
        var response = Intake_SubmitApplicationResponse()
        response.application = try await view(application, for: caller, purpose: "submit", on: connection)
        if application.state.status == .submitted {
            response.checkFindings = application.state.check.problems.map(\.proto)
        }
        response.allowedOutcomes = application.state.allowedOutcomes.map(\.proto)
        return response
    }

    /// Everything wrong with the request at once, each naming its field.
    private func validate(_ request: Intake_SubmitApplicationRequest, idempotencyKey: String) throws {
        var violations = validator.violations(of: Applicant(proto: request.applicant), today: today, prefix: "applicant")
        if request.hasAgent {
            violations += validator.violations(of: Applicant(proto: request.agent), today: today, prefix: "agent")
        }
        if idempotencyKey.isEmpty {
            violations.append(FieldViolation(field: "idempotency_key", description: "required (or the idempotency-key metadata): a retried submit must not make a second application", reason: "required"))
        } else if idempotencyKey.count > 200 {
            violations.append(FieldViolation(field: "idempotency_key", description: "at most 200 characters", reason: "too_long"))
        }
        if request.items.isEmpty {
            violations.append(FieldViolation(field: "items", description: "at least one item", reason: "required"))
        }
        var seen = Set<String>()
        for (index, item) in request.items.enumerated() {
            if item.implementationCode.isEmpty {
                violations.append(.required("items[\(index)].implementation_code"))
            } else if !seen.insert(item.implementationCode).inserted {
                violations.append(FieldViolation(field: "items[\(index)].implementation_code", description: "“\(item.implementationCode)” is requested twice", reason: "duplicate"))
            }
        }
        switch request.channel {
        case .unspecified, .UNRECOGNIZED:
            violations.append(FieldViolation(field: "channel", description: "required: window, online, mobile, self_service, mail or integrator", reason: "required"))
        case .forwarded:
            violations.append(FieldViolation(field: "channel", description: "forwarded applications arrive from the lower node's intake, not through SubmitApplication", reason: "channel.forwarded"))
        case .window:
            if request.windowID.isEmpty { violations.append(FieldViolation(field: "window_id", description: "required for the window channel", reason: "required")) }
        default: break
        }
        for (index, material) in request.materials.enumerated() {
            let path = "materials[\(index)]"
            if material.requirementCode.isEmpty { violations.append(.required("\(path).requirement_code")) }
            for (codeIndex, code) in material.implementationCodes.enumerated() where !seen.contains(code) {
                violations.append(FieldViolation(field: "\(path).implementation_codes[\(codeIndex)]", description: "“\(code)” is not among the requested items", reason: "unknown_item"))
            }
            if material.copies < 0 { violations.append(FieldViolation(field: "\(path).copies", description: "must not be negative", reason: "out_of_range")) }
            switch material.source {
            case nil:
                violations.append(FieldViolation(field: "\(path).source", description: "give file_id (upload or scan) or electronic_licence", reason: "required"))
            case .fileID(let id)? where id.isEmpty:
                violations.append(.required("\(path).file_id"))
            case .electronicLicence(let ref)? where ref.licenceIdentifier.isEmpty && ref.licenceNumber.isEmpty:
                violations.append(FieldViolation(field: "\(path).electronic_licence.licence_identifier", description: "required to verify the licence", reason: "required"))
            default: break
            }
            if !material.sha256.isEmpty, material.sha256.count != 64 || !material.sha256.allSatisfy(\.isHexDigit) {
                violations.append(FieldViolation(field: "\(path).sha256", description: "64 hexadecimal characters", reason: "format"))
            }
        }
        if request.formFields.count > 500 {
            violations.append(FieldViolation(field: "form_fields", description: "at most 500 fields", reason: "too_many"))
        }
        guard violations.isEmpty else { throw IntakeRuleError.invalidArgument(violations) }
    }

    public func submitCorrection(request: Intake_SubmitCorrectionRequest, context: ServerContext) async throws -> Intake_SubmitCorrectionResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseID(request.applicationID)
        guard !request.materials.isEmpty else {
            throw RPCError.invalidArgument(field: "materials", "list the materials supplied now", reason: "required")
        }
        var violations: [FieldViolation] = []
        for (index, material) in request.materials.enumerated() where material.requirementCode.isEmpty {
            violations.append(.required("materials[\(index)].requirement_code"))
        }
        guard violations.isEmpty else { throw IntakeRuleError.invalidArgument(violations) }
        let verifiedLicences = await verifyingLicences(request.materials)
        let on = today
        let key = request.idempotencyKey.isEmpty ? (CallMetadata.idempotencyKey ?? "") : request.idempotencyKey
        if key.count > 200 {
            throw RPCError.invalidArgument(field: "idempotency_key", "at most 200 characters", reason: "too_long")
        }
        var keyed = request
        keyed.idempotencyKey = ""
        let digest = Array(SHA256.hash(data: try keyed.serializedBytes(options: Self.deterministic) as [UInt8]))
        // One transaction: the application row is locked first, so a concurrent retry with the
        // same key waits for this one and then finds its key (no second revision, no second visit).
        let updated = try await database.withTransaction { transaction -> StoredApplication in
            guard let application = try await ApplicationStore.find(id: id, forUpdate: true, on: transaction) else {
                throw Self.notFound("no application \(id.uuidString.lowercased())")
            }
            try authorize(.correct, on: application, by: caller)
            if !key.isEmpty, let earlier = try await ApplicationStore.correction(idempotencyKey: key, on: transaction) {
                guard earlier.application == id, earlier.digest == digest else {
                    throw RPCError.invalidArgument(
                        field: "idempotency_key", "already used for another correction; use a new key for a new correction",
                        reason: "idempotency_key.reused")
                }
                return application
            }
            // Checked after the per-object rule, so a stranger learns nothing about stored files.
            let resolved = try await resolvingFiles(request.materials, by: caller, on: transaction)
            let verified = zip(verifiedLicences, resolved.materials).map { material, checked in
                var material = material
                if case .fileID(let id)? = checked.source { material.fileID = id }
                return material
            }
            // Online (an applicant token) a correction supplies what the notice lists, nothing else.
            if caller.role == .applicant, application.state.status == .correctionRequested, let notice = application.state.correctionNotice {
                let unlisted = notice.unlisted(verified)
                guard unlisted.isEmpty else { throw IntakeRuleError.invalidArgument(unlisted) }
            }
            try await MaterialStore.attach(resolved.files, to: id, in: transaction)
            let changed = try await store(application, changedBy: { application, _ in
                // 容缺受理: the missing materials arrive after acceptance; otherwise a correction
                // answers the notice and sends the application back for a decision.
                if application.state.status == .accepted, application.state.acceptanceKind == .deficiency {
                    try application.state.apply(.cureDeficiency(materials: verified, on: on), calendar: calendar)
                    return (["容缺材料已补齐"], [])
                }
                if caller.role == .windowClerk { application.state.countWindowVisit() }
                if application.state.status == .submitted {
                    try application.state.apply(.supplement(materials: verified, on: on), calendar: calendar)
                    return (["申请人补充提交材料"], [])
                }
                try application.state.apply(.supplyCorrection(materials: verified, on: on), calendar: calendar)
                return (["申请人已补正材料，重新进行受理审查"], [])
            }, in: transaction)
            if !key.isEmpty {
                try await ApplicationStore.recordCorrection(idempotencyKey: key, application: id, digest: digest, in: transaction)
            }
            return changed
        }
        var response = Intake_SubmitCorrectionResponse()
        response.application = try await database.withConnection { try await view(updated, for: caller, purpose: "correction", on: $0) }
        response.stillOpen = updated.state.check.problems.map(\.proto)
        return response
    }

    public func withdrawApplication(request: Intake_WithdrawApplicationRequest, context: ServerContext) async throws -> Intake_WithdrawApplicationResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseID(request.applicationID)
        guard !request.reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw RPCError.invalidArgument(field: "reason", "required", reason: "required")
        }
        let on = today
        let shown = try await changing(id, shownTo: caller, purpose: "withdraw") { application, _ in
            try authorize(.withdraw, on: application, by: caller)
            if application.state.status == .accepted {
                throw RPCError(code: .failedPrecondition, message: "application \(application.number) is accepted; withdraw each item's approval case instead (approval.v1 Withdraw)")
            }
            try application.state.apply(.withdraw(reason: request.reason, on: on), calendar: calendar)
            var withdrawn = Intake_ApplicationWithdrawn()
            withdrawn.applicationID = application.id.uuidString.lowercased()
            withdrawn.applicationNumber = application.number
            withdrawn.reason = request.reason
            withdrawn.withdrawnAt = Google_Protobuf_Timestamp(date: clock())
            return (["申请人撤回申请"], [try event(withdrawn, to: evaluation, aggregate: application.id)])
        }
        var response = Intake_WithdrawApplicationResponse()
        response.application = shown
        return response
    }

    public func getApplication(request: Intake_GetApplicationRequest, context: ServerContext) async throws -> Intake_GetApplicationResponse {
        let caller = try ServerContext.requireCaller()
        // The read and its read log in one transaction: one commit, not two (#21).
        return try await database.withTransaction { connection in
            let found: StoredApplication?
            switch request.key {
            case .applicationID(let text)?:
                found = try await ApplicationStore.find(id: try Self.parseID(text), on: connection)
            case .applicationNumber(let number)?:
                guard !number.isEmpty else { throw RPCError.invalidArgument(field: "application_number", "required", reason: "required") }
                found = try await ApplicationStore.find(number: number, on: connection)
            case nil:
                throw RPCError.invalidArgument(field: "key", "give application_id or application_number", reason: "required")
            }
            guard let application = found else { throw Self.notFound("no such application") }
            try authorize(.read, on: application, by: caller)
            var response = Intake_GetApplicationResponse()
            response.application = try await view(application, for: caller, purpose: "get", on: connection)
            return response
        }
    }

    public func listApplications(request: Intake_ListApplicationsRequest, context: ServerContext) async throws -> Intake_ListApplicationsResponse {
        let caller = try ServerContext.requireCaller()
        let size = try Paging.size(request.page)
        var violations: [FieldViolation] = []
        var statuses: [String] = []
        for (index, status) in request.statuses.enumerated() {
            guard let value = ApplicationStatus(proto: status) else {
                violations.append(FieldViolation(field: "statuses[\(index)]", description: "not a status", reason: "unknown"))
                continue
            }
            statuses.append(value.rawValue)
        }
        func date(_ field: String, _ value: Common_CivilDate, present: Bool) -> String {
            guard present else { return "" }
            guard let date = value.civilDate else {
                violations.append(FieldViolation(field: field, description: "not a calendar date", reason: "format"))
                return ""
            }
            return date.iso8601
        }
        let from = date("submitted.from", request.submitted.from, present: request.submitted.hasFrom)
        let to = date("submitted.to", request.submitted.to, present: request.submitted.hasTo)
        if request.intakeDueWithinDays < 0 {
            violations.append(FieldViolation(field: "intake_due_within_days", description: "must not be negative", reason: "out_of_range"))
        }
        var dueBy = ""
        if request.intakeDueWithinDays > 0 {
            dueBy = (try? calendar.addingWorkingDays(Int(request.intakeDueWithinDays), to: today).iso8601) ?? ""
        }
        let channel = request.channel == .unspecified ? "" : Applicant.channelName(request.channel)
        let after = try InstantPageKey.after(request.page)
        guard violations.isEmpty else { throw IntakeRuleError.invalidArgument(violations) }
        // Only the filters asked for reach the SQL (a bound "$1 = '' OR …" hides every condition
        // from the planner, which then sorted every application to find a page: 25 s at
        // 1,000,000); the page is a keyset page in (submitted_at, id) order on migration 0008's
        // indexes, and the total stops counting past `ListTotal.cap`.
        var filter: SQLQuery = "TRUE"
        if statuses.count == 1 { filter = "status = \(statuses[0])" }
        if statuses.count > 1 { filter = "status = ANY(\(SQLArray(statuses))::text[])" }
        if !request.windowID.isEmpty { filter = "\(filter) AND window_id = \(request.windowID)" }
        if !channel.isEmpty { filter = "\(filter) AND channel = \(channel)" }
        if !from.isEmpty, from == to {
            // One day as an equality, so `applications_day_by_submitted` serves it in list order.
            filter = "\(filter) AND submitted_on = \(from)::date"
        } else {
            if !from.isEmpty { filter = "\(filter) AND submitted_on >= \(from)::date" }
            if !to.isEmpty { filter = "\(filter) AND submitted_on <= \(to)::date" }
        }
        if !dueBy.isEmpty { filter = "\(filter) AND status = 'submitted' AND intake_deadline <= \(dueBy)::date" }
        // An applicant ("my applications", the online hall) lists only the applications naming them
        // as applicant or agent, by the same keyed indexes `isDataSubject` compares; staff list the
        // node's (the method table limits them to their node).
        if caller.role == .applicant {
            let mine = subjectIndex(caller.subject)
            filter = "\(filter) AND (applicant_id_index = \(mine) OR agent_id_index = \(mine))"
        }
        var page = filter
        if let after { page = "\(filter) AND (submitted_at, id) > (\(after.at)::timestamptz, \(after.id)::uuid)" }
        // The page, its total and its read log in one transaction: one commit, not three (#21).
        return try await database.withTransaction { connection in
            let rows = try await connection.query(
                "SELECT \(unescaped: ApplicationStore.columns) FROM applications WHERE \(page) ORDER BY submitted_at, id LIMIT \(size + 1)")
            let total = try await connection.query(ListTotal.query(from: "applications", where: filter)).one().decode("n", as: Int.self)
            var response = Intake_ListApplicationsResponse()
            // A page ends at `size` rows or at `maximumPageBytes`, whichever comes first, so a
            // page of large applications never exceeds the frame limit.
            var bytes = 0
            var readInFull: [UUID] = []
            var lastShown: StoredApplication?
            for row in rows.prefix(size) {
                let stored = try await ApplicationStore.decode(row, on: connection)
                let (application, inFull) = try disclosed(stored, for: caller)
                bytes += (try application.serializedBytes() as [UInt8]).count
                if bytes > Self.maximumPageBytes, !response.applications.isEmpty { break }
                response.applications.append(application)
                lastShown = stored
                if inFull { readInFull.append(stored.id) }
            }
            // The page's reads in full, logged together before the page is answered.
            try await logReads(of: readInFull, by: caller, purpose: "list", on: connection)
            response.page.totalSize = Int64(total)
            if rows.count > response.applications.count, let lastShown {
                response.page.nextPageToken = InstantPageKey(at: lastShown.submittedAt, id: lastShown.id).token
            }
            return response
        }
    }

    public func trackProgress(request: Intake_TrackProgressRequest, context: ServerContext) async throws -> Intake_TrackProgressResponse {
        var violations: [FieldViolation] = []
        if request.applicationNumber.isEmpty { violations.append(.required("application_number")) }
        if request.queryCode.isEmpty { violations.append(.required("query_code")) }
        guard violations.isEmpty else { throw IntakeRuleError.invalidArgument(violations) }
        // Per source first (an in-memory count, no database work for a flood), then per
        // application (in the database, so every replica and restart shares it).
        let source = Self.sourceHost(context.remotePeer)
        guard progressLookups.attempt(source) else {
            Self.progressLookupRefused(reason: "source")
            logger.warning("progress look-ups refused: too many from one source")
            throw RPCError(code: .resourceExhausted, message: "too many look-ups from your address; wait a minute and try again")
        }
        let number = request.applicationNumber.trimmingCharacters(in: .whitespaces)
        let code = request.queryCode.trimmingCharacters(in: .whitespaces).uppercased()
        return try await database.withConnection { connection in
            // Unknown number and wrong code answer alike, so numbers cannot be probed.
            guard let application = try await ApplicationStore.find(number: number, on: connection) else {
                throw Self.notFound("no application with this number and query code")
            }
            if try await ApplicationStore.progressLookupLocked(number: number, limit: Self.progressLookupFailureLimit, on: connection) {
                Self.progressLookupRefused(reason: "application")
                throw RPCError(code: .resourceExhausted, message: "too many wrong query codes for this number; try again in an hour, or ask at the window")
            }
            guard Self.constantTimeEqual(application.queryCode, code) else {
                let failures = try await ApplicationStore.recordProgressLookupFailure(number: number, on: connection)
                if failures == Self.progressLookupFailureLimit {
                    Self.progressLookupRefused(reason: "application")
                    logger.warning("progress look-up locked for an hour: wrong query codes", metadata: ["application": "\(application.number)", "failures": "\(failures)"])
                }
                throw Self.notFound("no application with this number and query code")
            }
            let parties = try openParties(application)
            var response = Intake_TrackProgressResponse()
            response.applicationNumber = application.number
            response.maskedApplicantName = parties.applicant.maskedName
            response.status = application.status.proto
            let record = record(application)
            response.items = record.items.map { item in
                var out = Intake_ApplicationItem()
                out.implementationCode = item.implementationCode
                out.itemVersion = item.itemVersion
                out.itemName = item.itemName
                out.progress = item.progress
                out.caseNumber = item.caseNumber
                out.implementingNode = item.implementingNode
                out.deadline = item.deadline
                out.licence = item.licence
                out.denialSummary = item.denialSummary
                // The written notices are addressed to the applicant, who holds the code.
                out.notices = item.notices
                return out
            }
            response.steps = try await ApplicationStore.steps(of: application.id, on: connection)
            if application.status == .readyForDelivery {
                response.collectionPoint = application.windowID.isEmpty
                    ? settings.agencyName : "\(settings.agencyName) \(application.windowID)号窗口"
            }
            return response
        }
    }

    /// Wrong query codes one application number takes in an hour before it answers nothing.
    static let progressLookupFailureLimit = 10

    static func progressLookupRefused(reason: String) {
        Counter(label: "oneseal_progress_lookup_refused_total", dimensions: [("reason", reason)]).increment()
    }

    /// The host of a `remotePeer` ("ipv4:127.0.0.1:5123" → "ipv4:127.0.0.1"): the port changes per
    /// connection, the source does not.
    static func sourceHost(_ peer: String) -> String {
        guard let colon = peer.lastIndex(of: ":") else { return peer }
        return String(peer[..<colon])
    }

    /// A new query code: 10 characters of an alphabet without look-alikes (no 0/O, 1/I/L), from the
    /// system's secure generator: 31^10 ≈ 8·10^14 codes, where the old six digits gave 10^6.
    static func newQueryCode() -> String {
        let alphabet = Array("23456789ABCDEFGHJKMNPQRSTUVWXYZ")
        var generator = SystemRandomNumberGenerator()
        return String((0..<10).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

extension Applicant {
    /// The channel's name as stored (`applications.channel`).
    static func channelName(_ channel: Intake_ApplicationChannel) -> String {
        switch channel {
        case .window: "window"
        case .online: "online"
        case .mobile: "mobile"
        case .selfService: "self_service"
        case .mail: "mail"
        case .integrator: "integrator"
        case .forwarded: "forwarded"
        default: ""
        }
    }

    /// The channel a stored name (`channelName`) stands for.
    static func channel(named name: String) -> Intake_ApplicationChannel {
        switch name {
        case "window": .window
        case "online": .online
        case "mobile": .mobile
        case "self_service": .selfService
        case "mail": .mail
        case "integrator": .integrator
        case "forwarded": .forwarded
        default: .unspecified
        }
    }
}
