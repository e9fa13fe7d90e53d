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

/// After acceptance: forwarding to the implementing node, handing out results, consultations.
extension IntakeAPI {
    /// Opinions must say something: "同意" alone is not a first review.
    static let minimumOpinionLength = 8

    public func forwardToCity(request: Intake_ForwardToCityRequest, context: ServerContext) async throws -> Intake_ForwardToCityResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseID(request.applicationID)
        let opinion = request.firstReviewOpinion.trimmingCharacters(in: .whitespacesAndNewlines)
        var violations: [FieldViolation] = []
        if opinion.count < Self.minimumOpinionLength {
            violations.append(FieldViolation(
                field: "first_review_opinion",
                description: "the first-review opinion (初审意见) must be specific: what was checked and found, at least \(Self.minimumOpinionLength) characters",
                reason: opinion.isEmpty ? "required" : "opinion.too_vague"))
        }
        if !request.toNode.isEmpty, !DivisionCode.isValid(request.toNode) {
            violations.append(FieldViolation(field: "to_node", description: "'\(request.toNode)' is not a 6-digit division code", reason: "format"))
        }
        guard violations.isEmpty else { throw IntakeRuleError.invalidArgument(violations) }
        let on = today
        let now = clock()
        let shown = try await changing(id, shownTo: caller, purpose: "forward") { application, _ in
            let state = application.state
            guard state.status == .accepted, let acceptedOn = state.acceptedOn else {
                throw RPCError(code: .failedPrecondition, message: "only an accepted application can be forwarded; \(application.number) is \(state.status.rawValue)")
            }
            if let earlier = state.forwarding {
                throw RPCError(code: .failedPrecondition, message: "\(application.number) was already forwarded to \(earlier.toNode.divisionCode)")
            }
            let remote = state.items.enumerated().filter { !$0.element.item.implementingNode.divisionCode.isEmpty && $0.element.item.implementingNode.divisionCode != node }
            guard !remote.isEmpty else {
                throw RPCError(code: .failedPrecondition, message: "every item of \(application.number) is implemented by this node (\(node)); nothing to forward")
            }
            let targets = Set(remote.map(\.element.item.implementingNode.divisionCode))
            let target = request.toNode.isEmpty ? targets.first! : request.toNode
            guard targets == [target] else {
                throw RPCError(code: .failedPrecondition, message: "the items to forward are implemented by \(targets.sorted().joined(separator: ", ")), not \(target)")
            }
            guard DivisionCode.isSameOrAncestor(target, of: node), target != node else {
                throw RPCError(code: .failedPrecondition, message: "审核转报 goes up to the node above: \(target) is not above \(node)")
            }
            let firstReview = StatutoryClock(actDate: acceptedOn, workingDays: settings.firstReviewWorkingDays)
            let firstReviewDeadline = Common_Deadline(startedOn: acceptedOn, status: try firstReview.status(asOf: on, in: calendar), finishedOn: on)
            try application.state.forward(
                Forwarding(
                    toNode: remote[0].element.item.implementingNode, forwardedAt: now, firstReviewOpinion: opinion,
                    forwardedBy: ActorRef(proto: Common_ActorRef(caller)), firstReviewDeadline: ReportedDeadline(proto: firstReviewDeadline)),
                items: Set(remote.map(\.element.item.implementationCode)))
            let record = record(application)
            let forwarding = record.forwarding

            let parties = try openParties(application)
            var accepted = Intake_ApplicationAccepted()
            accepted.applicationID = record.applicationID
            accepted.applicationNumber = application.number
            accepted.receiptNumber = record.receipt.receiptNumber
            accepted.acceptingNode = record.acceptingNode
            accepted.acceptanceKind = state.acceptanceKind?.proto ?? .unspecified
            accepted.acceptedOn = Common_CivilDate(acceptedOn)
            accepted.applicant = parties.applicant
            accepted.items = remote.map { Self.acceptedItem($0.element) }
            accepted.materials = state.materials.map(\.proto)
            if record.hasDeficiency { accepted.deficiency = record.deficiency }
            if record.hasCommitment { accepted.commitment = record.commitment }
            accepted.windowID = record.windowID
            accepted.acceptedBy = record.decidedBy
            if let bundle = application.bundleID { accepted.bundleID = bundle.uuidString.lowercased() }
            accepted.channel = .forwarded

            var forwarded = Intake_ApplicationForwarded()
            forwarded.accepted = accepted
            forwarded.forwarding = forwarding
            return (
                ["已审核转报至\(target)（初审意见：\(opinion)）"],
                [try event(forwarded, to: approval(at: target), aggregate: application.id), try event(forwarded, to: evaluation, aggregate: application.id)]
            )
        }
        var response = Intake_ForwardToCityResponse()
        response.application = shown
        return response
    }

    public func recordDelivery(request: Intake_RecordDeliveryRequest, context: ServerContext) async throws -> Intake_RecordDeliveryResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseID(request.applicationID)
        var delivery = request.delivery
        if delivery.hasRecipient { delivery.recipient.idNumber = IdentityCode.normalized(delivery.recipient.idNumber) }
        // No method named: the applicant's choice (ChooseDelivery) decides it, read from the record.
        if request.hasDelivery, delivery.method == .unspecified,
            let chosen = try await database.withConnection({ try await ApplicationStore.find(id: id, on: $0) })?.state.deliveryPreference
        {
            delivery.method = chosen.method.proto
        }
        var violations: [FieldViolation] = []
        if !request.hasDelivery { violations.append(.required("delivery")) }
        switch delivery.method {
        case .unspecified, .UNRECOGNIZED:
            violations.append(FieldViolation(field: "delivery.method", description: "required: window, mail or electronic (the applicant has chosen none)", reason: "required"))
        case .mail:
            if delivery.trackingNumber.isEmpty { violations.append(FieldViolation(field: "delivery.tracking_number", description: "required for mail", reason: "required")) }
        case .window:
            if delivery.recipient.name.trimmingCharacters(in: .whitespaces).isEmpty {
                violations.append(FieldViolation(field: "delivery.recipient.name", description: "who collected the result", reason: "required"))
            }
            if delivery.recipient.idNumber.isEmpty {
                violations.append(FieldViolation(field: "delivery.recipient.id_number", description: "the collector's identity document number, checked at the window", reason: "required"))
            } else if delivery.recipient.idType == .residentID, (try? ResidentID(delivery.recipient.idNumber, today: today)) == nil {
                violations.append(FieldViolation(field: "delivery.recipient.id_number", description: "not a valid resident ID number (GB 11643 check)", reason: "id_number.checksum"))
            }
        case .electronic:
            break
        }
        guard violations.isEmpty else { throw IntakeRuleError.invalidArgument(violations) }
        let now = clock()
        let shown = try await changing(id, shownTo: caller, purpose: "delivery") { application, _ in
            guard application.status == .readyForDelivery else {
                throw RPCError(code: .failedPrecondition, message: "\(application.number) is \(application.status.rawValue); results are handed out once every item is decided (and its licence issued)")
            }
            if let terms = application.state.deficiency, terms.suppliedOn == nil {
                throw RPCError(code: .failedPrecondition, message: "容缺受理: the missing materials (due \(terms.supplyBy.iso8601)) have not been supplied; the result is not handed out before they are")
            }
            // Who collected it is kept with the numbers masked (the full number was checked at
            // the window) and the name whole, the record's purpose: the supervisory shape.
            let recipient = delivery.hasRecipient ? Applicant(proto: delivery.recipient.disclosed(.supervisory)) : nil
            let licences = delivery.licences.isEmpty
                ? application.state.itemTracks.compactMap(\.licence) : delivery.licences.map(LicenceRef.init(proto:))
            guard let method = DeliveryMethod(proto: delivery.method) else {
                throw RPCError.invalidArgument(field: "delivery.method", "required: window, mail or electronic", reason: "required")
            }
            try application.state.deliver(Delivery(
                method: method, deliveredAt: now, recipient: recipient, trackingNumber: delivery.trackingNumber, licences: licences,
                documentIDs: delivery.documentIds, clerk: ActorRef(proto: Common_ActorRef(caller))))
            let record = record(application)
            var delivered = Intake_ResultDelivered()
            delivered.applicationID = record.applicationID
            delivered.applicationNumber = application.number
            delivered.delivery = record.delivery
            delivered.visits = record.visits
            delivered.windowID = record.windowID
            delivered.caseIds = record.items.map(\.caseID).filter { !$0.isEmpty }
            let how: String = switch delivery.method {
            case .window: "窗口领取"
            case .mail: "邮寄（\(delivery.trackingNumber)）"
            default: "电子送达"
            }
            return (["已出件：\(how)"], [try event(delivered, to: evaluation, aggregate: application.id)])
        }
        var response = Intake_RecordDeliveryResponse()
        response.application = shown
        return response
    }

    /// 送达方式 (#18 item 6): the applicant's own choice, window or mail. The address is sealed
    /// with the applicant's identity (the same seal, `sealParties`); the state keeps only the
    /// method and when; the progress step and the log say "邮寄", never where.
    public func chooseDelivery(request: Intake_ChooseDeliveryRequest, context: ServerContext) async throws -> Intake_ChooseDeliveryResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseID(request.applicationID)
        let method: DeliveryMethod? = DeliveryMethod(proto: request.method)
        let choice: DeliveryChoice
        switch DeliveryChoice.make(method: method, address: request.hasAddress ? DeliveryAddress(proto: request.address) : nil) {
        case .success(let made): choice = made
        case .failure(let error): throw error
        }
        let now = clock()
        let (application, changed): (StoredApplication, Bool) = try await database.withTransaction { transaction in
            guard let loaded = try await ApplicationStore.find(id: id, forUpdate: true, on: transaction) else {
                throw Self.notFound("no application \(id.uuidString.lowercased())")
            }
            try authorize(.chooseDelivery, on: loaded, by: caller)
            var parties = try openParties(loaded)
            let current = loaded.state.deliveryPreference.map { preference in
                DeliveryChoice.stored(
                    method: preference.method,
                    address: parties.hasDeliveryChoice && parties.deliveryChoice.hasAddress ? DeliveryAddress(proto: parties.deliveryChoice.address) : nil)
            }
            var probe = loaded.state
            guard try probe.chooseDelivery(choice, current: current, at: now) else { return (loaded, false) }
            let stored = try await store(loaded, changedBy: { application, _ in
                _ = try application.state.chooseDelivery(choice, current: current, at: now)
                parties.deliveryChoice = .with {
                    $0.method = choice.method.proto
                    if let address = choice.address { $0.address = address.proto }
                    $0.chosenAt = Google_Protobuf_Timestamp(date: now)
                }
                application.applicantSealed = try sealParties(parties, id: application.id)
                return ([choice.method == .mail ? "申请人选择送达方式：邮寄" : "申请人选择送达方式：窗口领取"], [])
            }, in: transaction)
            return (stored, true)
        }
        logger.info("delivery chosen", metadata: ["application": "\(application.number)", "method": "\(choice.method.rawValue)", "changed": "\(changed)"])
        var response = Intake_ChooseDeliveryResponse()
        response.changed = changed
        response.application = try await database.withConnection { try await view(application, for: caller, purpose: "delivery_choice", on: $0) }
        return response
    }

    public func consult(request: Intake_ConsultRequest, context: ServerContext) async throws -> Intake_ConsultResponse {
        let caller = try ServerContext.requireCaller()
        var violations: [FieldViolation] = []
        if request.question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { violations.append(.required("question")) }
        if request.channel == .unspecified { violations.append(FieldViolation(field: "channel", description: "required: window, phone or online", reason: "required")) }
        if !request.askerPhone.isEmpty, !PhoneNumber.isValid(request.askerPhone) {
            violations.append(FieldViolation(field: "asker_phone", description: "“\(request.askerPhone)” is neither a mobile number nor a landline with area code", reason: "phone.format"))
        }
        if request.channel == .window, request.windowID.isEmpty { violations.append(FieldViolation(field: "window_id", description: "required for the window channel", reason: "required")) }
        guard violations.isEmpty else { throw IntakeRuleError.invalidArgument(violations) }
        let id = UUID()
        let now = clock()
        let item = try await database.withTransaction { transaction -> StoredItem? in
            var item: StoredItem?
            if !request.implementationCode.isEmpty {
                guard let found = try await CatalogueStore.item(request.implementationCode, on: transaction) else {
                    throw Self.notFound("no item \(request.implementationCode) in the catalogue")
                }
                item = found
            }
            var asker: [UInt8]?
            if !request.askerName.isEmpty || !request.askerPhone.isEmpty {
                asker = try keyring.seal(json: ["name": request.askerName, "phone": request.askerPhone], context: "intake.consultation:\(id.uuidString.lowercased())")
            }
            let channel: String = switch request.channel {
            case .window: "window"
            case .phone: "phone"
            default: "online"
            }
            try await transaction.execute("""
                INSERT INTO consultations (id, implementation_code, question, answer, channel, window_id, asker_sealed, clerk, at)
                VALUES (\(id), \(request.implementationCode), \(request.question), \(request.answer), \(channel), \(request.windowID), \(asker), \(caller.subject), \(now))
                """)
            var recorded = Intake_ConsultationRecorded()
            recorded.consultationID = id.uuidString.lowercased()
            recorded.implementationCode = request.implementationCode
            recorded.windowID = request.windowID
            recorded.at = Google_Protobuf_Timestamp(date: now)
            try await Outbox.enqueue([try event(recorded, to: evaluation, aggregate: id)], in: transaction)
            return item
        }
        var response = Intake_ConsultResponse()
        response.consultationID = id.uuidString.lowercased()
        if let item { response.item = item.proto }
        return response
    }
}
