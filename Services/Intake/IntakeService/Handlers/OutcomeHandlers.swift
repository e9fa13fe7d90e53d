import Foundation
import GRPCCore
import IntakeContracts
import IntakeRules
import OneSealAuth
import OneSealCore
import OneSealOutbox
import OneSealProto
import OneSealServiceKit
import OneSealStore
import SwiftProtobuf

/// The five intake outcomes (Art. 32) and the deemed acceptance; each writes its dated document
/// and its events with the new state.
extension IntakeAPI {
    var printer: DocumentPrinter { DocumentPrinter(node: node, agency: settings.agencyName) }

    public func accept(request: Intake_AcceptRequest, context: ServerContext) async throws -> Intake_AcceptResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseID(request.applicationID)
        let on = today
        let shown = try await changing(id, expectedRevision: request.expectedRevision, shownTo: caller, purpose: "accept") { application, transaction in
            try application.state.apply(.accept(on: on), calendar: calendar)
            return try await accepted(&application, by: caller, note: request.note, in: transaction)
        }
        var response = Intake_AcceptResponse()
        response.application = shown
        return response
    }

    public func acceptWithDeficiency(request: Intake_AcceptWithDeficiencyRequest, context: ServerContext) async throws -> Intake_AcceptWithDeficiencyResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseID(request.applicationID)
        guard request.supplyWithinDays >= 0 else {
            throw RPCError.invalidArgument(field: "supply_within_days", "must not be negative (0 = the node default, \(settings.deficiencySupplyWorkingDays))", reason: "out_of_range")
        }
        let decision = DeficiencyDecision(
            missing: request.missing.map { MaterialKey(implementationCode: $0.implementationCode, requirementCode: $0.requirementCode) },
            supplyWithinDays: request.supplyWithinDays == 0 ? settings.deficiencySupplyWorkingDays : Int(request.supplyWithinDays),
            undertaking: request.undertaking)
        let on = today
        let shown = try await changing(id, expectedRevision: request.expectedRevision, shownTo: caller, purpose: "accept_with_deficiency") { application, transaction in
            try application.state.apply(.acceptWithDeficiency(decision, on: on), calendar: calendar)
            return try await accepted(&application, by: caller, note: "", in: transaction)
        }
        var response = Intake_AcceptWithDeficiencyResponse()
        response.application = shown
        return response
    }

    public func acceptByCommitment(request: Intake_AcceptByCommitmentRequest, context: ServerContext) async throws -> Intake_AcceptByCommitmentResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseID(request.applicationID)
        let on = today
        let decision = CommitmentDecision(
            commitmentText: request.commitmentText, replacedRequirementCodes: request.replacedRequirementCodes, signedFileID: request.signedFileID,
            verifyBy: try calendar.addingWorkingDays(settings.commitmentVerificationWorkingDays, to: on))
        let shown = try await changing(id, expectedRevision: request.expectedRevision, shownTo: caller, purpose: "accept_by_commitment") { application, transaction in
            try application.state.apply(.acceptByCommitment(decision, on: on), calendar: calendar)
            return try await accepted(&application, by: caller, note: "", in: transaction)
        }
        var response = Intake_AcceptByCommitmentResponse()
        response.application = shown
        return response
    }

    public func issueCorrectionNotice(request: Intake_IssueCorrectionNoticeRequest, context: ServerContext) async throws -> Intake_IssueCorrectionNoticeResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseID(request.applicationID)
        var violations: [FieldViolation] = []
        for (index, problem) in request.problems.enumerated() {
            if problem.requirementCode.isEmpty { violations.append(.required("problems[\(index)].requirement_code")) }
            if problem.kind == .unspecified { violations.append(.required("problems[\(index)].kind")) }
            if problem.howToFix.trimmingCharacters(in: .whitespaces).isEmpty {
                violations.append(FieldViolation(field: "problems[\(index)].how_to_fix", description: "say exactly what to supply or fix", reason: "required"))
            }
        }
        guard violations.isEmpty else { throw IntakeRuleError.invalidArgument(violations) }
        let problems = request.problems.map(MaterialProblem.init(proto:))
        let on = today
        var notice = Intake_CorrectionNotice()
        let shown = try await changing(id, expectedRevision: request.expectedRevision, shownTo: caller, purpose: "correction_notice") { application, transaction in
            try application.state.apply(.issueCorrectionNotice(problems: problems, on: on, onTheSpot: request.onTheSpot), calendar: calendar)
            let lines = ["经审查，你（单位）提交的申请材料不齐全或者不符合法定形式，请一次性补正下列材料："]
                + problems.enumerated().map { "\($0.offset + 1). \($0.element.materialName.isEmpty ? $0.element.requirementCode : $0.element.materialName)：\($0.element.howToFix)" }
                + ["补正材料后，本机关将重新进行受理审查。"]
            let document = try await printer.issue(.correction, on: on, applicationNumber: application.number, body: lines, in: transaction)
            notice.noticeNumber = document.number
            notice.issuedOn = Common_CivilDate(on)
            notice.problems = request.problems
            notice.onTheSpot = request.onTheSpot
            notice.document = document
            try application.state.issuedCorrectionNotice(IssuedDocument(proto: document), by: ActorRef(proto: Common_ActorRef(caller)), at: clock())
            var issued = Intake_CorrectionNoticeIssued()
            issued.applicationID = application.id.uuidString.lowercased()
            issued.applicationNumber = application.number
            issued.notice = notice
            issued.windowID = application.windowID
            return (["一次性告知补正材料（\(problems.count)项）"], [try event(issued, to: evaluation, aggregate: application.id)])
        }
        var response = Intake_IssueCorrectionNoticeResponse()
        response.application = shown
        response.notice = notice
        return response
    }

    public func rejectApplication(request: Intake_RejectApplicationRequest, context: ServerContext) async throws -> Intake_RejectApplicationResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseID(request.applicationID)
        let decision = NotAcceptedDecision(
            ground: NotAcceptedGround(proto: request.ground), reason: request.reason, legalBasis: request.legalBasis, competentAgency: request.competentAgency)
        let on = today
        var notice = Intake_NotAcceptedNotice()
        let shown = try await changing(id, expectedRevision: request.expectedRevision, shownTo: caller, purpose: "reject") { application, transaction in
            try application.state.apply(.reject(decision, on: on), calendar: calendar)
            var lines = ["经审查，你（单位）的申请不予受理。", "理由：\(decision.reason)", "依据：\(decision.legalBasis)"]
            if !decision.competentAgency.isEmpty { lines.append("该事项不属于本机关职权范围，请向\(decision.competentAgency)申请。") }
            lines.append("如不服本决定，可以自收到本决定书之日起六十日内依法申请行政复议，或者六个月内依法提起行政诉讼。")
            let document = try await printer.issue(.notAccepted, on: on, applicationNumber: application.number, body: lines, in: transaction)
            notice.noticeNumber = document.number
            notice.issuedOn = Common_CivilDate(on)
            notice.ground = request.ground
            notice.reason = decision.reason
            notice.legalBasis = decision.legalBasis
            notice.competentAgency = decision.competentAgency
            notice.document = document
            try application.state.issuedNotAcceptedNotice(IssuedDocument(proto: document), by: ActorRef(proto: Common_ActorRef(caller)), at: clock())
            var rejected = Intake_ApplicationNotAccepted()
            rejected.applicationID = application.id.uuidString.lowercased()
            rejected.applicationNumber = application.number
            rejected.notice = notice
            rejected.windowID = application.windowID
            return (["不予受理：\(decision.reason)"], [try event(rejected, to: evaluation, aggregate: application.id)])
        }
        var response = Intake_RejectApplicationResponse()
        response.application = shown
        response.notice = notice
        return response
    }

    /// After any acceptance (clerk's or deemed): the receipt, the items this node approves go to
    /// approval, and everything is counted by evaluation. Items another node implements wait for
    /// ForwardToCity (审核转报) with the first-review opinion.
    func accepted(_ application: inout StoredApplication, by actor: Caller?, note: String, in transaction: PostgresConnection) async throws -> (steps: [String], events: [OutboxEvent]) {
        let state = application.state
        guard let acceptedOn = state.acceptedOn, let kind = state.acceptanceKind else {
            throw RPCError(code: .internalError, message: "accepted without an acceptance date")
        }
        var promised = acceptedOn
        for pinned in state.items {
            promised = max(promised, try ApprovalDeadline.promisedOn(acceptedOn: acceptedOn, item: pinned.item, calendar: calendar))
        }
        var lines = ["你（单位）提交的下列事项申请材料齐全、符合法定形式，本机关决定予以受理："]
        lines += state.items.map { "· \($0.item.name)（\($0.item.implementationCode)，承诺办结时限\($0.item.promisedDays)个工作日）" }
        switch kind {
        case .deficiency: lines.append("本申请为容缺受理：请于\(state.deficiency?.supplyBy.iso8601 ?? "")前补齐所缺材料，补齐前不予出件。")
        case .commitment: lines.append("本申请为告知承诺受理：承诺内容将于事后核查，承诺不实的将依法撤销许可。")
        case .deemed: lines.append("本机关未在五个工作日内告知补正，依《中华人民共和国行政许可法》第三十二条，自收到申请材料之日起即为受理。")
        case .complete: break
        }
        lines.append("预计办结日期：\(promised.iso8601)。可凭申请编号和查询码查询办理进度。")
        // The short rating link (W40): the number only; the query code is on the applicant's slip
        // (a document is read by staff who are not shown the code).
        if let base = settings.publicURL {
            lines.append("办结后可评价本次服务（好差评，无需登录，凭查询码）：\(base)/rate?n=\(application.number)")
        }
        // The clerk's note at acceptance (AcceptRequest.note, e.g. "原件已核验") is printed on the
        // notice the applicant takes home: it is addressed to them.
        let note = note.trimmingCharacters(in: .whitespacesAndNewlines)
        if !note.isEmpty { lines.append("备注：\(note)") }
        let document = try await printer.issue(.receipt, on: acceptedOn, applicationNumber: application.number, body: lines, in: transaction)
        try application.state.issuedReceipt(
            AcceptanceReceipt(promisedOn: promised, document: IssuedDocument(proto: document)),
            by: actor.map { ActorRef(proto: Common_ActorRef($0)) }, at: clock())
        let record = record(application)

        let parties = try openParties(application)
        var message = Intake_ApplicationAccepted()
        message.applicationID = record.applicationID
        message.applicationNumber = application.number
        message.receiptNumber = document.number
        message.acceptingNode = record.acceptingNode
        message.acceptanceKind = kind.proto
        message.acceptedOn = Common_CivilDate(acceptedOn)
        message.applicant = parties.applicant
        message.materials = state.materials.map(\.proto)
        if record.hasDeficiency { message.deficiency = record.deficiency }
        if record.hasCommitment { message.commitment = record.commitment }
        message.windowID = record.windowID
        if let actor { message.acceptedBy = Common_ActorRef(actor) }
        if let bundle = application.bundleID { message.bundleID = bundle.uuidString.lowercased() }
        message.channel = record.channel
        if let renewal = state.renewal { message.renewal = Common_Renewal(renewal) }
        if let change = state.change { message.change = Common_LicenceChange(change) }

        var local = message
        local.items = []
        for pinned in state.items {
            let item = Self.acceptedItem(pinned)
            message.items.append(item)
            if pinned.item.implementingNode.divisionCode.isEmpty || pinned.item.implementingNode.divisionCode == node {
                local.items.append(item)
            }
        }
        try application.state.sentToApproval(Set(local.items.map(\.implementationCode)))
        var events = [try event(message, to: evaluation, aggregate: application.id)]
        if !local.items.isEmpty { events.append(try event(local, to: approval(at: node), aggregate: application.id)) }
        let kindText: String = switch kind {
        case .complete: "已受理"
        case .deficiency: "已容缺受理"
        case .commitment: "已告知承诺受理"
        case .deemed: "逾期未作受理决定，依法视为受理"
        }
        return (["\(kindText)，受理通知书 \(document.number)"], events)
    }

    static func acceptedItem(_ pinned: PinnedItem) -> Intake_AcceptedItem {
        let item = pinned.item
        var out = Intake_AcceptedItem()
        out.implementationCode = item.implementationCode
        out.itemVersion = Int32(pinned.version.version)
        out.itemName = item.name
        out.tier = item.tier?.proto ?? .unspecified
        out.statutoryDays = Int32(item.statutoryDays)
        out.promisedDays = Int32(item.promisedDays)
        out.competentDepartment = Common_DepartmentRef.with {
            $0.code = item.competentDepartment.code; $0.name = item.competentDepartment.name; $0.node = item.competentDepartment.node
        }
        out.implementingNode = item.implementingNode.proto
        out.instantApprovalAllowed = item.instantApprovalAllowed
        out.instantRuleSet = item.instantRuleSet
        out.licenceTypeCode = item.licenceTypeCode
        out.licenceName = item.licenceName
        out.licenceValidityMonths = Int32(item.licenceValidityMonths)
        out.jointHandling = item.jointHandling
        return out
    }
}

