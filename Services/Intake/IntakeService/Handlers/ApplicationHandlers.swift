import Crypto
import Foundation
import GRPCCore
import IntakeRules
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
        try await answering {
            let caller = try ServerContext.requireCaller()
            let key = request.idempotencyKey.isEmpty ? (CallMetadata.idempotencyKey ?? "") : request.idempotencyKey
            var keyed = request
            keyed.idempotencyKey = ""
            let canonical: [UInt8] = try keyed.serializedBytes(options: Self.deterministic)
            let digest = Array(SHA256.hash(data: canonical))

            try validate(request, idempotencyKey: key)
            // A retry: the same key answers with the application it made, whatever happened since.
            if let existing = try await database.withConnection({ try await ApplicationStore.find(idempotencyKey: key, on: $0) }) {
                return try await answer(toRetryOf: existing, digest: digest, caller: caller)
            }

            // The pinned versions: the current version of each item now, for the whole life of the case.
            var pinned: [PinnedItem] = []
            try await database.withConnection { connection in
                for (index, requested) in request.items.enumerated() {
                    guard let stored = try await CatalogueStore.item(requested.implementationCode, on: connection) else {
                        throw Self.notFound("items[\(index)].implementation_code: no item \(requested.implementationCode) in the catalogue")
                    }
                    pinned.append(try stored.pinned)
                }
            }
            var materials = request.materials.map(ProvidedMaterial.init(proto:))
            for index in materials.indices {
                if let licence = materials[index].electronicLicence {
                    let result = await licences.verify(licence)
                    materials[index].licenceVerified = result.verified
                    materials[index].licenceVerificationDetail = result.detail
                }
            }
            let receivedOn = today
            let state = try ApplicationState(items: pinned, materials: materials, receivedOn: receivedOn, calendar: calendar)
            let id = UUID()
            let now = clock()

            do {
                let stored = try await database.withTransaction { transaction in
                    let serial = try await ApplicationStore.nextNumber(scope: "application:\(node):\(receivedOn.iso8601)", in: transaction)
                    let number = try CaseNumber.application(node: node, receivedOn: receivedOn, serial: serial)
                    var record = Intake_Application()
                    record.applicationID = id.uuidString.lowercased()
                    record.applicationNumber = number.description
                    record.queryCode = String(format: "%06d", Int.random(in: 0...999_999))
                    record.acceptingNode = Common_NodeRef.with { $0.divisionCode = node; $0.name = settings.agencyName }
                    record.channel = request.channel
                    record.windowID = request.windowID
                    record.submittedAt = Google_Protobuf_Timestamp(date: now)
                    record.submittedOn = Common_CivilDate(receivedOn)
                    record.visits = request.channel == .window ? 1 : 0
                    record.items = pinned.map { pinned in
                        Intake_ApplicationItem.with {
                            $0.implementationCode = pinned.item.implementationCode
                            $0.itemVersion = Int32(pinned.version.version)
                            $0.itemName = pinned.item.name
                            $0.progress = .pendingIntake
                            $0.implementingNode = pinned.item.implementingNode.proto
                        }
                    }
                    var application = StoredApplication(
                        id: id, number: number.description, queryCode: record.queryCode, status: .submitted, state: state, record: record,
                        applicantSealed: try sealParties(applicant: request.applicant, agent: request.hasAgent ? request.agent : nil, id: id),
                        revision: 1, bundleID: pinned.count > 1 ? id : nil, submittedAt: now, requestDigest: digest)
                    refreshRecord(&application)
                    try await ApplicationStore.insert(
                        application, channel: Applicant.channelName(request.channel), windowID: request.windowID,
                        applicantIndex: keyring.blindIndex(request.applicant.idNumber, purpose: "id_number"),
                        applicantKind: ProtoEnum.map(request.applicant.kind).map { (kind: ApplicantKind) in kind.rawValue } ?? "",
                        idempotencyKey: key, in: transaction)
                    try await ApplicationStore.addSteps([(now, "已收件，等待受理审查")], application: id, node: node, in: transaction)
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
                    return application
                }
                logger.info("application received", metadata: ["application": "\(stored.number)", "items": "\(pinned.count)", "by": "\(caller.logSubject)"])
                return try await submitResponse(stored, caller: caller)
            } catch let error as PostgresError where error.sqlState == "23505" && error.constraint == "applications_idempotency_key_key" {
                // A concurrent submit with the same key won the race: answer with its application.
                guard let existing = try await database.withConnection({ try await ApplicationStore.find(idempotencyKey: key, on: $0) }) else { throw error }
                return try await answer(toRetryOf: existing, digest: digest, caller: caller)
            }
        }
    }

    static let deterministic: BinaryEncodingOptions = {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        return options
    }()

    private func answer(toRetryOf existing: StoredApplication, digest: [UInt8], caller: Caller) async throws -> Intake_SubmitApplicationResponse {
        guard existing.requestDigest == digest else {
            throw RPCError.invalidArgument(
                field: "idempotency_key",
                "already used for application \(existing.number) with a different request; use a new key for a new application",
                reason: "idempotency_key.reused")
        }
        return try await submitResponse(existing, caller: caller)
    }

    private func submitResponse(_ application: StoredApplication, caller: Caller) async throws -> Intake_SubmitApplicationResponse {
        var response = Intake_SubmitApplicationResponse()
        response.application = try await database.withConnection { try await view(application, for: caller, purpose: "submit", on: $0) }
        if application.state.status == .submitted {
            response.checkFindings = application.state.check.problems.map(\.proto)
        }
        response.allowedOutcomes = application.state.allowedOutcomes.compactMap { ProtoEnum.map($0) }
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
        try await answering {
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
            var supplied = request.materials.map(ProvidedMaterial.init(proto:))
            for index in supplied.indices {
                if let licence = supplied[index].electronicLicence {
                    let result = await licences.verify(licence)
                    supplied[index].licenceVerified = result.verified
                    supplied[index].licenceVerificationDetail = result.detail
                }
            }
            let on = today
            let updated = try await changing(id) { application, _ in
                // 容缺受理: the missing materials arrive after acceptance; otherwise a correction
                // answers the notice and sends the application back for a decision.
                if application.state.status == .accepted, application.state.acceptanceKind == .deficiency {
                    try application.state.apply(.cureDeficiency(materials: supplied, on: on), calendar: calendar)
                    return (["容缺材料已补齐"], [])
                }
                if caller.role == .windowClerk { application.record.visits += 1 }
                if application.state.status == .submitted {
                    try application.state.apply(.supplement(materials: supplied, on: on), calendar: calendar)
                    return (["申请人补充提交材料"], [])
                }
                try application.state.apply(.supplyCorrection(materials: supplied, on: on), calendar: calendar)
                return (["申请人已补正材料，重新进行受理审查"], [])
            }
            var response = Intake_SubmitCorrectionResponse()
            response.application = try await database.withConnection { try await view(updated, for: caller, purpose: "correction", on: $0) }
            response.stillOpen = updated.state.check.problems.map(\.proto)
            return response
        }
    }

    public func withdrawApplication(request: Intake_WithdrawApplicationRequest, context: ServerContext) async throws -> Intake_WithdrawApplicationResponse {
        try await answering {
            let caller = try ServerContext.requireCaller()
            let id = try Self.parseID(request.applicationID)
            guard !request.reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw RPCError.invalidArgument(field: "reason", "required", reason: "required")
            }
            let on = today
            let updated = try await changing(id) { application, _ in
                if application.state.status == .accepted {
                    throw RPCError(code: .failedPrecondition, message: "application \(application.number) is accepted; withdraw each item's approval case instead (approval.v1 Withdraw)")
                }
                try application.state.apply(.withdraw(reason: request.reason, on: on), calendar: calendar)
                var withdrawn = Intake_ApplicationWithdrawn()
                withdrawn.applicationID = application.record.applicationID
                withdrawn.applicationNumber = application.number
                withdrawn.reason = request.reason
                withdrawn.withdrawnAt = Google_Protobuf_Timestamp(date: clock())
                return (["申请人撤回申请"], [try event(withdrawn, to: evaluation, aggregate: application.id)])
            }
            var response = Intake_WithdrawApplicationResponse()
            response.application = try await database.withConnection { try await view(updated, for: caller, purpose: "withdraw", on: $0) }
            return response
        }
    }

    public func getApplication(request: Intake_GetApplicationRequest, context: ServerContext) async throws -> Intake_GetApplicationResponse {
        try await answering {
            let caller = try ServerContext.requireCaller()
            return try await database.withConnection { connection in
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
                var response = Intake_GetApplicationResponse()
                response.application = try await view(application, for: caller, purpose: "get", on: connection)
                return response
            }
        }
    }

    public func listApplications(request: Intake_ListApplicationsRequest, context: ServerContext) async throws -> Intake_ListApplicationsResponse {
        try await answering {
            let caller = try ServerContext.requireCaller()
            let size = try Paging.size(request.page)
            var violations: [FieldViolation] = []
            var statuses: [String] = []
            for (index, status) in request.statuses.enumerated() {
                guard let value: ApplicationStatus = ProtoEnum.map(status) else {
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
            var after = 0
            if !request.page.pageToken.isEmpty {
                guard let value = Int(request.page.pageToken), value >= 0 else {
                    throw RPCError.invalidArgument(field: "page.page_token", "not a token from a previous page", reason: "format")
                }
                after = value
            }
            guard violations.isEmpty else { throw IntakeRuleError.invalidArgument(violations) }
            // An absent date is '' and NULLIF makes it NULL: a bare ''::date is cast while the
            // statement is planned, before the OR could skip it, and fails the whole listing.
            let filter: SQLQuery = """
                (cardinality(\(SQLArray(statuses))::text[]) = 0 OR status = ANY(\(SQLArray(statuses))::text[]))
                AND (\(request.windowID) = '' OR window_id = \(request.windowID))
                AND (\(channel) = '' OR channel = \(channel))
                AND (\(from) = '' OR submitted_on >= NULLIF(\(from), '')::date)
                AND (\(to) = '' OR submitted_on <= NULLIF(\(to), '')::date)
                AND (\(dueBy) = '' OR (status = 'submitted' AND intake_deadline <= NULLIF(\(dueBy), '')::date))
                """
            return try await database.withConnection { connection in
                let rows = try await connection.query(
                    "SELECT \(unescaped: ApplicationStore.columns) FROM applications WHERE \(filter) ORDER BY submitted_at, id OFFSET \(after) LIMIT \(size + 1)")
                let total = try await connection.query("SELECT count(*)::int8 AS n FROM applications WHERE \(filter)").one().decode("n", as: Int.self)
                var response = Intake_ListApplicationsResponse()
                for row in rows.prefix(size) {
                    response.applications.append(try await view(try ApplicationStore.decode(row), for: caller, purpose: "list", on: connection))
                }
                response.page.totalSize = Int64(total)
                if rows.count > size { response.page.nextPageToken = String(after + size) }
                return response
            }
        }
    }

    public func trackProgress(request: Intake_TrackProgressRequest, context: ServerContext) async throws -> Intake_TrackProgressResponse {
        try await answering {
            var violations: [FieldViolation] = []
            if request.applicationNumber.isEmpty { violations.append(.required("application_number")) }
            if request.queryCode.isEmpty { violations.append(.required("query_code")) }
            guard violations.isEmpty else { throw IntakeRuleError.invalidArgument(violations) }
            return try await database.withConnection { connection in
                // Unknown number and wrong code answer alike, so numbers cannot be probed.
                guard let application = try await ApplicationStore.find(number: request.applicationNumber, on: connection),
                      Self.constantTimeEqual(application.queryCode, request.queryCode) else {
                    throw Self.notFound("no application with this number and query code")
                }
                let parties = try openParties(application)
                var response = Intake_TrackProgressResponse()
                response.applicationNumber = application.number
                response.maskedApplicantName = parties.applicant.maskedName
                response.status = ProtoEnum.map(application.status) ?? .unspecified
                response.items = application.record.items.map { item in
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
                    return out
                }
                response.steps = try await ApplicationStore.steps(of: application.id, on: connection)
                if application.status == .readyForDelivery {
                    response.collectionPoint = application.record.windowID.isEmpty
                        ? settings.agencyName : "\(settings.agencyName) \(application.record.windowID)号窗口"
                }
                return response
            }
        }
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
}
