import CertificateContracts
import CertificateRules
import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealOutbox
import OneSealPrivacy
import OneSealProto
import OneSealServiceKit
import OneSealStore
import SwiftProtobuf

/// What a grant asks to be issued: from `IssueLicence` or from approval's `CaseDecided`.
struct IssueInput: Sendable {
    var caseID: String
    var caseNumber: String
    var applicationID: String
    var implementationCode: String
    var licenceTypeCode: String
    var licenceName: String
    var holder: Common_Applicant
    var scope: String
    var conditions: [String]
    var place: String
    var validFrom: CivilDate?
    var validUntil: CivilDate?
    var extraFields: [String: String]
    var decidedOn: CivilDate?
    var acceptingNode: String

    init(_ request: Certificate_IssueLicenceRequest) {
        caseID = request.caseID
        caseNumber = request.caseNumber
        applicationID = request.applicationID
        implementationCode = request.implementationCode
        licenceTypeCode = request.licenceTypeCode.uppercased()
        licenceName = request.licenceName
        holder = request.holder
        holder.idNumber = IdentityCode.normalized(request.holder.idNumber)
        scope = request.scope
        conditions = request.conditions
        place = request.place
        validFrom = request.hasValidFrom ? request.validFrom.civilDate : nil
        validUntil = request.hasValidUntil ? request.validUntil.civilDate : nil
        extraFields = request.extraFields
        decidedOn = request.hasDecidedOn ? request.decidedOn.civilDate : nil
        acceptingNode = request.acceptingNode
    }

    /// The grant of a decided case. The validity end is the grant's, else the item's validity in
    /// months from the start, else long-term.
    init(decided message: Approval_CaseDecided, grant: Approval_Grant) {
        let header = message.header
        caseID = header.caseID
        caseNumber = header.caseNumber
        applicationID = header.applicationID
        implementationCode = header.implementationCode.isEmpty ? message.item.implementationCode : header.implementationCode
        licenceTypeCode = message.item.licenceTypeCode.uppercased()
        licenceName = message.item.licenceName
        holder = message.applicant
        holder.idNumber = IdentityCode.normalized(message.applicant.idNumber)
        scope = grant.scope
        conditions = grant.conditions
        place = grant.place
        validFrom = grant.hasValidFrom ? grant.validFrom.civilDate : nil
        validUntil = grant.hasValidUntil ? grant.validUntil.civilDate : nil
        extraFields = grant.licenceFields
        decidedOn = message.decision.hasDecidedOn ? message.decision.decidedOn.civilDate : nil
        acceptingNode = header.acceptingNode.divisionCode
        if validUntil == nil, message.item.licenceValidityMonths > 0 {
            let start = validFrom ?? decidedOn
            validUntil = start.map { $0.adding(months: Int(message.item.licenceValidityMonths)).previous }
        }
    }

    /// What makes two issue requests for a case the same request.
    var digest: [UInt8] {
        var parts = [caseID, licenceTypeCode, licenceName, holder.name, holder.idNumber, String(holder.idType.rawValue), scope]
        parts += conditions
        parts += [place, validFrom?.iso8601 ?? "", validUntil?.iso8601 ?? ""]
        parts += extraFields.keys.sorted().map { "\($0)=\(extraFields[$0] ?? "")" }
        return Merkle.sha256(Array(parts.joined(separator: "\u{1F}").utf8))
    }
}

extension CertificateAPI {
    // MARK: Issuing

    public func issueLicence(request: Certificate_IssueLicenceRequest, context: ServerContext) async throws -> Certificate_IssueLicenceResponse {
        let caller = try ServerContext.requireCaller()
        let result = try await issue(IssueInput(request), actor: caller.subject)
        var response = Certificate_IssueLicenceResponse()
        response.licence = try licenceProto(result.licence, full: true)
        response.created = result.created
        if let head = try await database.withConnection({ try await TransparencyLog.latestHead(on: $0, logID: node) }) {
            response.treeHead = head.proto
        }
        return response
    }

    /// Every problem with an issue request, by field.
    func problems(_ input: IssueInput) -> [Common_FieldViolation] {
        var violations: [Common_FieldViolation] = []
        func require(_ value: String, _ field: String) {
            if value.trimmingCharacters(in: .whitespaces).isEmpty { violations.append(Self.violation(field, "required", reason: "required")) }
        }
        require(input.caseID, "case_id")
        require(input.implementationCode, "implementation_code")
        require(input.licenceName, "licence_name")
        require(input.holder.name, "holder.name")
        require(input.holder.idNumber, "holder.id_number")
        require(input.scope, "scope")
        if input.licenceTypeCode.isEmpty {
            violations.append(Self.violation("licence_type_code", "required", reason: "required"))
        } else if (try? LicenceIdentifier(typeCode: input.licenceTypeCode, issuer: settings.issuerCode, serial: "1", version: 1)) == nil {
            violations.append(Self.violation("licence_type_code", "“\(input.licenceTypeCode)” is not the defining agency's 18-character code followed by 3 digits", reason: "format"))
        }
        if !input.acceptingNode.isEmpty, !DivisionCode.isValid(input.acceptingNode) {
            violations.append(Self.violation("accepting_node", "'\(input.acceptingNode)' is not a 6-digit division code", reason: "format"))
        }
        if !input.holder.idNumber.isEmpty {
            let (type, _) = input.holder.holderCodeType
            switch type {
            case .residentID:
                do { _ = try ResidentID(input.holder.idNumber, today: today) } catch {
                    violations.append(Self.violation("holder.id_number", "\(error)", reason: "check_character"))
                }
            case .uscc:
                do { _ = try UnifiedSocialCreditCode(input.holder.idNumber, allowList: settings.usccAllowList) } catch {
                    violations.append(Self.violation("holder.id_number", "\(error)", reason: "check_character"))
                }
            case .other: break
            }
        }
        if let from = input.validFrom, let until = input.validUntil, until < from {
            violations.append(Self.violation("valid_until", "ends (\(until)) before it starts (\(from))", reason: "range"))
        }
        for (key, value) in input.extraFields where key.isEmpty || value.isEmpty {
            violations.append(Self.violation("extra_fields", "field “\(key)” needs a name and a value", reason: "required"))
        }
        for (index, condition) in input.conditions.enumerated() where condition.trimmingCharacters(in: .whitespaces).isEmpty {
            violations.append(Self.violation("conditions[\(index)]", "empty condition", reason: "required"))
        }
        return violations
    }

    /// Issues the licence of a grant, once: a second request for the case returns the first licence
    /// (and is refused when it asks for different content).
    func issue(_ input: IssueInput, actor: String) async throws -> (licence: StoredLicence, created: Bool) {
        let violations = problems(input)
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        return try await database.withTransaction { transaction in
            try await issue(input, actor: actor, in: transaction)
        }
    }

    /// The same inside the caller's transaction (the event consumer's, which also holds the inbox row).
    func issue(_ input: IssueInput, actor: String, in transaction: PostgresConnection) async throws -> (licence: StoredLicence, created: Bool) {
        // Two replicas issuing for the same case wait for each other here; the unique index is the backstop.
        try await transaction.execute("SELECT pg_advisory_xact_lock(hashtext(\("certificate.case:" + input.caseID)))")
        let digest = input.digest
        if let existing = try await LicenceStore.find(caseID: input.caseID, on: transaction) {
            guard existing.requestDigest == digest else {
                throw RPCError(code: .failedPrecondition, message: "licence \(existing.identifier) was already issued for case \(input.caseID) with different content; use ReissueLicence to change it")
            }
            return (existing, false)
        }
        let issuedOn = today
        let rule = settings.numberRule(for: input.licenceTypeCode)
        let drawn = try await LicenceStore.next(
            [LicenceSerial.counterScope(node: node, issuedOn: issuedOn), rule.counterScope(licenceTypeCode: input.licenceTypeCode, node: node, issuedOn: issuedOn)],
            in: transaction)
        let serial = LicenceSerial.serial(node: node, issuedOn: issuedOn, sequence: drawn[0])
        let identifier = try LicenceIdentifier(typeCode: input.licenceTypeCode, issuer: settings.issuerCode, serial: serial, version: 1)
        let sequence = drawn[1]
        let number = try rule.number(node: node, issuedOn: issuedOn, sequence: sequence, fields: input.extraFields)
        let (codeType, typeCode) = input.holder.holderCodeType
        let content = LicenceContent(
            licenceName: input.licenceName, licenceTypeCode: input.licenceTypeCode, licenceNumber: number,
            licenceIdentifier: identifier.description, issuerName: settings.issuerName, issuerCode: settings.issuerCode,
            issueDate: issuedOn, holderName: input.holder.name, holderCode: input.holder.idNumber,
            holderCodeType: codeType, holderCodeTypeCode: typeCode, validFrom: input.validFrom ?? issuedOn, validUntil: input.validUntil,
            scope: input.scope, conditions: input.conditions, place: input.place, extraFields: input.extraFields,
            serial: serial, version: "001", issuingNode: node, caseID: input.caseID, caseNumber: input.caseNumber,
            implementationCode: input.implementationCode)
        let licence = try await store(content, version: 1, applicationID: input.applicationID, acceptingNode: input.acceptingNode,
                                      decidedOn: input.decidedOn, digest: digest, in: transaction)
        logger.info("licence issued", metadata: ["licence": "\(licence.identifier)", "case": "\(input.caseID)", "key_id": "\(licence.keyID)", "actor": "\(LogPseudonym.of(actor))"])
        return (licence, true)
    }

    /// Issues the renewed licence of a renewal grant (延续, Art. 50), once: the next version of the
    /// licence named by `renewal` (followed to its current version), with the holder, scope,
    /// conditions, place and number of the licence in force and the grant's new validity — by
    /// default from the day after the old one ends. The old version is marked SUPERSEDED from the
    /// first day of the new validity, so it stays valid to its own last day. A repeat of the same
    /// case's grant returns the version it made (`created = false`).
    func renew(_ input: IssueInput, renewal: Common_Renewal, actor: String, in transaction: PostgresConnection) async throws -> (licence: StoredLicence, created: Bool) {
        let old: StoredLicence, version: Int
        var content: LicenceContent
        switch try await nextVersion(of: renewal.licence.licenceIdentifier, for: input, act: "renewal", inForce: "nothing in force to renew", in: transaction) {
        case .alreadyIssued(let existing): return (existing, false)
        case .next(let current, let next, let number): (old, content, version) = (current, next, number)
        }
        let issuedOn = content.issueDate
        content.validFrom = input.validFrom ?? old.standing.validUntil?.next ?? issuedOn
        content.validUntil = input.validUntil
        if let until = content.validUntil, until < content.validFrom {
            throw RPCError(code: .failedPrecondition, message: "renewal of case \(input.caseID): the new validity ends (\(until)) before it starts (\(content.validFrom))")
        }
        let new = try await store(content, version: version, applicationID: input.applicationID, acceptingNode: input.acceptingNode,
                                  decidedOn: input.decidedOn, digest: input.digest, in: transaction)
        var superseded = try await changeStatus(
            old, to: .superseded, reason: "准予延续，由 \(new.identifier) 接续（《行政许可法》第五十条）", groundCode: "RENEWED",
            effectiveOn: max(issuedOn, content.validFrom), actor: actor, in: transaction)
        superseded.supersededBy = new.identifier
        try await LicenceStore.updateStanding(superseded, in: transaction)
        logger.info("licence renewed", metadata: ["licence": "\(new.identifier)", "renews": "\(old.identifier)", "case": "\(input.caseID)", "actor": "\(LogPseudonym.of(actor))"])
        return (new, true)
    }

    /// Re-issues the licence of a change grant (变更, Art. 49), once: the next version of the licence
    /// named by `change` (followed to its current version) with the new holder name, place, scope
    /// (the decided one when the scope was reviewed) and legal representative (extra field
    /// `法定代表人`); number and validity unchanged. The old version is SUPERSEDED from today — not
    /// revoked: the grant goes on under the new version, which verifying the old identifier names.
    func applyChange(_ input: IssueInput, change: Common_LicenceChange, actor: String, in transaction: PostgresConnection) async throws -> (licence: StoredLicence, created: Bool) {
        let old: StoredLicence, version: Int
        var content: LicenceContent
        switch try await nextVersion(of: change.licence.licenceIdentifier, for: input, act: "change", inForce: "only a licence in force can be changed", in: transaction) {
        case .alreadyIssued(let existing): return (existing, false)
        case .next(let current, let next, let number): (old, content, version) = (current, next, number)
        }
        let issuedOn = content.issueDate
        let trimmed = { (text: String) in text.trimmingCharacters(in: .whitespaces) }
        if !trimmed(change.holderName).isEmpty { content.holderName = trimmed(change.holderName) }
        if !trimmed(change.place).isEmpty { content.place = trimmed(change.place) }
        if !trimmed(change.scope).isEmpty {
            // A reviewed scope is what the decision granted; a recorded one is what was asked.
            content.scope = change.reviewed.contains("scope") && !input.scope.isEmpty ? input.scope : trimmed(change.scope)
        }
        if !trimmed(change.legalRepresentative).isEmpty { content.extraFields["法定代表人"] = trimmed(change.legalRepresentative) }
        let new = try await store(content, version: version, applicationID: input.applicationID, acceptingNode: input.acceptingNode,
                                  decidedOn: input.decidedOn, digest: input.digest, in: transaction)
        var superseded = try await changeStatus(
            old, to: .superseded, reason: "准予变更，换发为 \(new.identifier)（《行政许可法》第四十九条）", groundCode: "CHANGED",
            effectiveOn: issuedOn, actor: actor, in: transaction)
        superseded.supersededBy = new.identifier
        try await LicenceStore.updateStanding(superseded, in: transaction)
        logger.info("licence changed", metadata: ["licence": "\(new.identifier)", "replaces": "\(old.identifier)", "case": "\(input.caseID)", "actor": "\(LogPseudonym.of(actor))"])
        return (new, true)
    }

    /// What a renewal or change grant re-issues from.
    enum NextVersion {
        /// The case's grant already made its version (a repeat).
        case alreadyIssued(StoredLicence)
        /// The licence in force (`old`, the latest version of the one named) and the next
        /// version's content: identifier, version, issue date, issuer and case filled in.
        case next(old: StoredLicence, content: LicenceContent, version: Int)
    }

    /// The common first half of renewal and change (Arts. 49, 50), under the case's lock: the
    /// named licence followed to its current version, which must be in force, below version 999
    /// and held by the case's applicant; `act` names the procedure in every refusal.
    func nextVersion(
        of named: String, for input: IssueInput, act: String, inForce: String, in transaction: PostgresConnection
    ) async throws -> NextVersion {
        try await transaction.execute("SELECT pg_advisory_xact_lock(hashtext(\("certificate.case:" + input.caseID)))")
        if let existing = try await LicenceStore.issued(byCase: input.caseID, on: transaction) { return .alreadyIssued(existing) }
        let identifier = named.trimmingCharacters(in: .whitespaces).uppercased()
        guard let found = try await LicenceStore.find(identifier: identifier, forUpdate: true, on: transaction),
              let old = try await LicenceStore.latest(serial: found.serial, forUpdate: true, on: transaction) else {
            throw RPCError(code: .failedPrecondition, message: "\(act) of case \(input.caseID): no licence \(identifier) at node \(node)")
        }
        if let ended = old.standing.act {
            throw RPCError(code: .failedPrecondition, message: "\(act) of case \(input.caseID): licence \(old.identifier) is \(ended.status.chineseName) (\(ended.rawValue)); \(inForce)")
        }
        guard old.version < 999 else { throw RPCError(code: .failedPrecondition, message: "licence \(old.identifier) has reached version 999") }
        var content = try openContent(old)
        guard content.holderCode == input.holder.idNumber else {
            throw RPCError(code: .failedPrecondition, message: "\(act) of case \(input.caseID): the holder of licence \(old.identifier) is not the case's applicant")
        }
        let version = old.version + 1
        let next = try LicenceIdentifier(typeCode: content.licenceTypeCode, issuer: settings.issuerCode, serial: old.serial, version: version)
        content.licenceIdentifier = next.description
        content.version = String(format: "%03d", version)
        content.issueDate = today
        content.issuerName = settings.issuerName
        content.caseID = input.caseID
        content.caseNumber = input.caseNumber
        return .next(old: old, content: content, version: version)
    }

    /// Seals, stores, logs and announces a new licence version.
    func store(
        _ content: LicenceContent, version: Int, applicationID: String, acceptingNode: String, decidedOn: CivilDate?, digest: [UInt8],
        in transaction: PostgresConnection
    ) async throws -> StoredLicence {
        let now = clock()
        let key = try sealKey()
        let canonical = content.canonicalBytes
        let signature = key.sign(canonical, purpose: .licence)
        let id = UUID()
        var publicContent = content.proto
        publicContent.holderCode = content.maskedHolderCode
        // The public copy rests in the clear: a person's name is masked in it too ("张*"), so a
        // copy of the database alone names no one; the full content is only in `content_sealed`.
        if content.holderCodeType == .residentID { publicContent.holderName = Disclosure.masked.personName(content.holderName) }
        let licence = StoredLicence(
            id: id, caseID: content.caseID, identifier: content.licenceIdentifier, licenceNumber: content.licenceNumber,
            serial: content.serial, version: version, licenceTypeCode: content.licenceTypeCode,
            contentSealed: try keyring.seal(canonical, context: "certificate.licence:\(id.uuidString.lowercased())"),
            publicContent: publicContent, algorithm: key.algorithm, keyID: key.keyID, signature: signature, signer: settings.signer,
            signedAt: now, standing: LicenceStanding(issuedOn: content.issueDate, validFrom: content.validFrom, validUntil: content.validUntil),
            statusReason: "", groundCode: "", supersededBy: nil, applicationID: applicationID, acceptingNode: acceptingNode,
            decidedOn: decidedOn, requestDigest: digest, logIndex: nil,
            logIntegrateBy: now.addingTimeInterval(Double(settings.maximumMergeDelay.components.seconds)
                + Double(settings.maximumMergeDelay.components.attoseconds) / 1e18), issuedAt: now)
        try await LicenceStore.insert(licence, holderIndex: keyring.blindIndex(content.holderCode, purpose: "certificate.holder_code"), in: transaction)
        try await TransparencyLog.enqueue(
            TransparencyLog.entry(kind: .issued, identifier: content.licenceIdentifier, content: content, signature: signature, status: .valid, at: now),
            licence: id, in: transaction)
        var issued = Certificate_LicenceIssued()
        issued.licence = try licenceProto(licence, content: content, masked: content.holderCodeType == .residentID)
        issued.acceptingNode = acceptingNode.isEmpty ? node : acceptingNode
        issued.applicationID = applicationID
        if let decidedOn {
            issued.workingDaysAfterDecision = Int32(try IssueDeadline.workingDaysTaken(decidedOn: decidedOn, issuedOn: content.issueDate, calendar: calendar))
        }
        try await Outbox.enqueue(try destinations(acceptingNode: acceptingNode).map { try event(issued, to: $0, aggregate: id) }, in: transaction)
        return licence
    }

    // MARK: Status changes

    public func updateLicenceStatus(request: Certificate_UpdateLicenceStatusRequest, context: ServerContext) async throws -> Certificate_UpdateLicenceStatusResponse {
        let caller = try ServerContext.requireCaller()
        var violations: [Common_FieldViolation] = []
        let id = UUID(uuidString: request.licenceID)
        if request.licenceID.isEmpty { violations.append(Self.violation("licence_id", "required", reason: "required")) }
        else if id == nil { violations.append(Self.violation("licence_id", "'\(request.licenceID)' is not a licence id (UUID)", reason: "format")) }
        let act: LicenceAct? = switch request.status {
        case .revoked: .revoked
        case .cancelled: .cancelled
        default: nil
        }
        if act == nil {
            violations.append(Self.violation("status", "only REVOKED or CANCELLED can be set; VALID and EXPIRED follow from the dates, SUPERSEDED from ReissueLicence", reason: "enum"))
        }
        if request.reason.trimmingCharacters(in: .whitespaces).isEmpty { violations.append(Self.violation("reason", "required: the reason is shown to whoever verifies the licence", reason: "required")) }
        if request.hasEffectiveOn, request.effectiveOn.civilDate == nil { violations.append(Self.violation("effective_on", "not a calendar date", reason: "format")) }
        guard violations.isEmpty, let id, let act else { throw RPCError.invalidArgument(violations) }
        let changed = try await database.withTransaction { transaction in
            guard let licence = try await LicenceStore.find(id: id, forUpdate: true, on: transaction) else {
                throw RPCError(code: .notFound, message: "no licence \(request.licenceID)")
            }
            return try await changeStatus(licence, to: act, reason: request.reason, groundCode: request.groundCode,
                                          effectiveOn: request.hasEffectiveOn ? request.effectiveOn.civilDate : nil, actor: caller.subject, in: transaction)
        }
        var response = Certificate_UpdateLicenceStatusResponse()
        response.licence = try licenceProto(changed, full: seesFullContent(caller))
        return response
    }

    /// Applies an act to a licence (following a reissued licence to its current version), logs it
    /// and announces it.
    func changeStatus(
        _ target: StoredLicence, to act: LicenceAct, reason: String, groundCode: String, effectiveOn: CivilDate?, actor: String,
        in transaction: PostgresConnection
    ) async throws -> StoredLicence {
        var licence = target
        if act != .superseded, licence.standing.act == .superseded,
           let latest = try await LicenceStore.latest(serial: licence.serial, forUpdate: true, on: transaction) {
            licence = latest
        }
        let previous = licence.standing.status(on: today)
        try licence.standing.apply(act, effectiveOn: effectiveOn ?? today)
        licence.statusReason = reason
        licence.groundCode = groundCode
        try await LicenceStore.updateStanding(licence, in: transaction)
        let content = try openContent(licence)
        try await TransparencyLog.enqueue(
            TransparencyLog.entry(kind: .statusChanged, identifier: licence.identifier, content: content, signature: licence.signature, status: act.status, at: clock()),
            licence: licence.id, in: transaction)
        try await announceStatus(licence, content: content, previous: previous, status: act.status, in: transaction)
        logger.info("licence status changed", metadata: ["licence": "\(licence.identifier)", "status": "\(act.rawValue)", "actor": "\(LogPseudonym.of(actor))"])
        return licence
    }

    func announceStatus(_ licence: StoredLicence, content: LicenceContent, previous: LicenceStatus, status: LicenceStatus, in transaction: PostgresConnection) async throws {
        var message = Certificate_LicenceStatusChanged()
        message.licenceID = licence.id.uuidString.lowercased()
        message.licence = Common_LicenceRef.with {
            $0.licenceIdentifier = licence.identifier
            $0.licenceNumber = licence.licenceNumber
            $0.licenceTypeCode = licence.licenceTypeCode
            $0.licenceName = content.licenceName
        }
        message.previousStatus = previous.proto
        message.status = status.proto
        message.reason = licence.statusReason
        message.groundCode = licence.groundCode
        if let effective = licence.standing.effectiveOn, status != .expired { message.effectiveOn = Common_CivilDate(effective) }
        if status == .expired, let end = licence.standing.validUntil { message.effectiveOn = Common_CivilDate(end.next) }
        message.caseID = licence.caseID
        message.holderName = content.holderName
        message.implementationCode = content.implementationCode
        try await Outbox.enqueue(try destinations(acceptingNode: licence.acceptingNode).map { try event(message, to: $0, aggregate: licence.id) }, in: transaction)
    }

    // MARK: Reissue

    public func reissueLicence(request: Certificate_ReissueLicenceRequest, context: ServerContext) async throws -> Certificate_ReissueLicenceResponse {
        let caller = try ServerContext.requireCaller()
        var violations: [Common_FieldViolation] = []
        let id = UUID(uuidString: request.licenceID)
        if id == nil { violations.append(Self.violation("licence_id", request.licenceID.isEmpty ? "required" : "'\(request.licenceID)' is not a licence id (UUID)", reason: request.licenceID.isEmpty ? "required" : "format")) }
        if request.reason.trimmingCharacters(in: .whitespaces).isEmpty { violations.append(Self.violation("reason", "required", reason: "required")) }
        if request.hasValidUntil, request.validUntil.civilDate == nil { violations.append(Self.violation("valid_until", "not a calendar date", reason: "format")) }
        for (index, condition) in request.conditions.enumerated() where condition.trimmingCharacters(in: .whitespaces).isEmpty {
            violations.append(Self.violation("conditions[\(index)]", "empty condition", reason: "required"))
        }
        guard violations.isEmpty, let id else { throw RPCError.invalidArgument(violations) }
        let (new, old) = try await database.withTransaction { transaction in
            guard let old = try await LicenceStore.find(id: id, forUpdate: true, on: transaction) else {
                throw RPCError(code: .notFound, message: "no licence \(request.licenceID)")
            }
            if let act = old.standing.act {
                throw RPCError(code: .failedPrecondition, message: "licence \(old.identifier) is \(act.status.chineseName) (\(act.rawValue)); only a licence in force can be reissued")
            }
            guard old.version < 999 else { throw RPCError(code: .failedPrecondition, message: "licence \(old.identifier) has reached version 999") }
            var content = try openContent(old)
            let issuedOn = today
            let identifier = try LicenceIdentifier(typeCode: content.licenceTypeCode, issuer: settings.issuerCode, serial: old.serial, version: old.version + 1)
            content.licenceIdentifier = identifier.description
            content.version = String(format: "%03d", old.version + 1)
            content.issueDate = issuedOn
            content.issuerName = settings.issuerName
            if !request.scope.isEmpty { content.scope = request.scope }
            if request.replaceConditions { content.conditions = request.conditions }
            if !request.place.isEmpty { content.place = request.place }
            if !request.holderName.isEmpty { content.holderName = request.holderName }
            if request.hasValidUntil { content.validUntil = request.validUntil.civilDate }
            if let until = content.validUntil, until < content.validFrom {
                throw RPCError.invalidArgument(field: "valid_until", "ends (\(until)) before the licence's validity starts (\(content.validFrom))", reason: "range")
            }
            let new = try await store(content, version: old.version + 1, applicationID: old.applicationID, acceptingNode: old.acceptingNode,
                                      decidedOn: old.decidedOn, digest: old.requestDigest, in: transaction)
            var superseded = try await changeStatus(old, to: .superseded, reason: request.reason, groundCode: "REISSUED", effectiveOn: issuedOn, actor: caller.subject, in: transaction)
            superseded.supersededBy = new.identifier
            try await LicenceStore.updateStanding(superseded, in: transaction)
            return (new, superseded)
        }
        var response = Certificate_ReissueLicenceResponse()
        response.licence = try licenceProto(new, full: true)
        response.superseded = try licenceProto(old, full: true)
        return response
    }

    // MARK: Views

    /// Opens the sealed canonical content of a stored licence.
    func openContent(_ licence: StoredLicence) throws -> LicenceContent {
        let bytes = try keyring.open(licence.contentSealed, context: "certificate.licence:\(licence.id.uuidString.lowercased())")
        guard let content = LicenceContent(proto: try Certificate_LicenceContent(serializedBytes: bytes)) else {
            throw RPCError(code: .internalError, message: "licence \(licence.identifier): stored content does not decode")
        }
        return content
    }

    func licenceProto(_ licence: StoredLicence, full: Bool) throws -> Certificate_Licence {
        try licenceProto(licence, content: full ? try openContent(licence) : nil, masked: !full)
    }

    /// The wire licence: full content when given and not masked, otherwise the public (masked) copy.
    func licenceProto(_ licence: StoredLicence, content: LicenceContent?, masked: Bool) throws -> Certificate_Licence {
        var out = Certificate_Licence()
        out.licenceID = licence.id.uuidString.lowercased()
        if let content, !masked {
            out.content = content.proto
        } else {
            out.content = content.map { var proto = $0.proto; proto.holderCode = $0.maskedHolderCode; return proto } ?? licence.publicContent
            out.masked = out.content.holderCode != (content?.holderCode ?? "")
            if content == nil { out.masked = true }
        }
        out.signature.algorithm = licence.algorithm.proto
        out.signature.keyID = licence.keyID
        out.signature.signature = Data(licence.signature)
        out.signature.signer = licence.signer
        out.signature.signedAt = Google_Protobuf_Timestamp(date: licence.signedAt)
        out.status = licence.standing.status(on: today).proto
        out.statusReason = licence.statusReason
        if let effective = licence.standing.effectiveOn { out.statusEffectiveOn = Common_CivilDate(effective) }
        out.logIndex = licence.logIndex ?? -1
        out.issuedAt = Google_Protobuf_Timestamp(date: licence.issuedAt)
        out.applicationID = licence.applicationID
        out.supersededBy = licence.supersededBy ?? ""
        out.acceptingNode = licence.acceptingNode
        out.logIntegrateBy = Google_Protobuf_Timestamp(date: licence.logIntegrateBy)
        if let decided = licence.decidedOn {
            out.decidedOn = Common_CivilDate(decided)
            if let status = try? IssueDeadline.clock(decidedOn: decided).status(asOf: licence.standing.issuedOn, in: calendar) {
                out.issueDeadline = Common_Deadline(startedOn: decided, status: status, finishedOn: licence.standing.issuedOn)
            }
        }
        return out
    }
}
