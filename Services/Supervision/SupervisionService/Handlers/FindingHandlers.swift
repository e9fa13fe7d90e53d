import Crypto
import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealOutbox
import OneSealProto
import OneSealServiceKit
import OneSealStore
import SupervisionContracts
import SupervisionRules
import SwiftProtobuf

/// Findings (监管结果反馈) and the quarterly figures (季度通报).
extension SupervisionAPI {
    public func submitFinding(request: Supervision_SubmitFindingRequest, context: ServerContext) async throws -> Supervision_SubmitFindingResponse {
        let caller = try ServerContext.requireCaller()
        guard request.hasFinding else { throw RPCError.invalidArgument(field: "finding", "required", reason: "required") }
        let input = request.finding
        let kind = FindingKind(proto: input.kind)
        let licenceGiven = !input.licence.licenceIdentifier.isEmpty || !input.licence.licenceNumber.isEmpty
        let draft = FindingDraft(
            kind: kind, inspectionResult: InspectionResult(proto: input.inspectionResult), penaltyDecisionNumber: input.penalty.decisionNumber,
            penaltyType: input.penalty.penaltyType, penaltyAmountFen: input.penalty.amountFen, facts: input.facts,
            occurredOn: input.hasOccurredOn ? input.occurredOn.civilDate : nil, pushID: input.pushID, caseID: input.caseID, hasLicence: licenceGiven)
        var violations = draft.validate(today: today)
        if !input.pushID.isEmpty, UUID(uuidString: input.pushID) == nil {
            violations.append(FieldViolation(field: "finding.push_id", description: "'\(input.pushID)' is not a push id (UUID)", reason: "format"))
        }
        if input.hasOccurredOn, input.occurredOn.civilDate == nil {
            violations.removeAll { $0.field == "finding.occurred_on" }
            violations.append(FieldViolation(field: "finding.occurred_on", description: "not a calendar date", reason: "format"))
        }
        if input.facts.count > 4000 { violations.append(FieldViolation(field: "finding.facts", description: "at most 4000 characters", reason: "too_long")) }
        guard violations.isEmpty, let kind else { throw SupervisionRuleError.invalidArgument(violations) }
        let key = request.idempotencyKey.isEmpty ? (CallMetadata.idempotencyKey ?? "") : request.idempotencyKey
        guard key.count <= 200 else { throw RPCError.invalidArgument(field: "idempotency_key", "at most 200 characters", reason: "too_long") }
        let inputBytes: [UInt8] = try input.serializedBytes()
        let digest = Array(SHA256.hash(data: inputBytes))
        let effect = FindingEffect(kind)
        let now = clock()

        let finding = try await database.withTransaction { transaction -> Supervision_Finding in
            guard let own = try await callerDepartment(caller, on: transaction) else {
                throw RPCError(code: .permissionDenied, message: "findings are submitted by departments")
            }
            if !key.isEmpty, let found = try await FindingStore.find(departmentCode: own.code, idempotencyKey: key, on: transaction) {
                let (existing, existingDigest) = found
                guard existingDigest == digest else {
                    throw RPCError(code: .failedPrecondition, message: "idempotency key '\(key)' was used for a different finding")
                }
                return existing
            }
            let push = try await subjectPush(of: input, department: own.code, on: transaction)
            guard push.state.status == .claimed else {
                throw RPCError(code: .failedPrecondition, message: "push \(push.id.uuidString.lowercased()) is \(push.state.status.rawValue); claim it before reporting on it")
            }
            if kind == .commitmentVerified || kind == .commitmentFalse {
                let commitment = try await transaction.query("""
                    SELECT 1 FROM pushes WHERE case_id = \(push.record.caseID) AND department_code = \(own.code) AND kind = 'commitment' LIMIT 1
                    """).first != nil
                try FindingDraft.check(kind: kind, against: commitment ? .commitment : push.kind)
            }
            let id = UUID()
            var finding = input
            finding.findingID = id.uuidString.lowercased()
            finding.pushID = push.id.uuidString.lowercased()
            finding.caseID = push.record.caseID
            finding.caseNumber = push.record.caseNumber
            finding.implementationCode = push.record.implementationCode
            finding.decidingNode = push.record.sourceNode
            if !licenceGiven { finding.licence = push.record.licence }
            finding.department = push.record.department
            finding.submittedBy = Common_ActorRef(caller)
            finding.submittedAt = Google_Protobuf_Timestamp(date: now)
            finding.effect = effect.proto
            finding.facts = input.facts.trimmingCharacters(in: .whitespacesAndNewlines)
            try await FindingStore.insert(finding, id: id, departmentCode: own.code, kind: kind, effect: effect, pushID: push.id, at: now,
                                          idempotencyKey: key, digest: digest, in: transaction)
            let destination = Self.approval(at: push.record.sourceNode.isEmpty ? node : push.record.sourceNode)
            try await Outbox.enqueue([try event(Supervision_FindingSubmitted.with { $0.finding = finding }, to: destination, aggregate: finding.caseID)], in: transaction)
            return finding
        }
        logger.notice("finding submitted", metadata: ["finding": "\(finding.findingID)", "kind": "\(kind.rawValue)", "effect": "\(effect.rawValue)", "case": "\(finding.caseID)"])
        return Supervision_SubmitFindingResponse.with { $0.finding = finding }
    }

    /// The department's push a finding is about: the named push (its own), or its latest push of the
    /// case or licence named. A licence or case never pushed to the department is NOT_FOUND.
    private func subjectPush(of finding: Supervision_Finding, department: String, on connection: PostgresConnection) async throws -> StoredPush {
        let identifier = finding.licence.licenceIdentifier
        let number = finding.licence.licenceNumber
        if !finding.pushID.isEmpty {
            let id = try Self.parseID(finding.pushID, field: "finding.push_id")
            guard let push = try await pushStore.find(id: id, on: connection) else { throw RPCError(code: .notFound, message: "no push \(finding.pushID)") }
            try push.state.checkOwner(department)
            if !finding.caseID.isEmpty, finding.caseID != push.record.caseID {
                throw RPCError.invalidArgument(field: "finding.case_id", "push \(finding.pushID) is about case \(push.record.caseID)", reason: "mismatch")
            }
            if (!identifier.isEmpty && !push.record.licence.licenceIdentifier.isEmpty && identifier != push.record.licence.licenceIdentifier)
                || (!number.isEmpty && !push.record.licence.licenceNumber.isEmpty && number != push.record.licence.licenceNumber) {
                throw RPCError.invalidArgument(field: "finding.licence", "push \(finding.pushID) is about licence \(push.record.licence.licenceNumber)", reason: "mismatch")
            }
            return push
        }
        let rows = try await connection.query("""
            SELECT \(unescaped: PushStore.columns) FROM pushes
            WHERE department_code = \(department)
              AND (\(finding.caseID) = '' OR case_id = \(finding.caseID))
              AND (\(identifier) = '' OR licence_identifier = \(identifier))
              AND (\(number) = '' OR licence_number = \(number))
              AND status <> 'rerouted'
            ORDER BY (status = 'claimed') DESC, pushed_at DESC LIMIT 1
            """)
        guard let row = rows.first else {
            if !identifier.isEmpty || !number.isEmpty {
                throw RPCError(code: .notFound, message: "no licence \(number.isEmpty ? identifier : number) was pushed to department \(department)")
            }
            throw RPCError(code: .notFound, message: "no case \(finding.caseID) was pushed to department \(department)")
        }
        return try pushStore.decode(row)
    }

    public func listFindings(request: Supervision_ListFindingsRequest, context: ServerContext) async throws -> Supervision_ListFindingsResponse {
        let caller = try ServerContext.requireCaller()
        let size = try Paging.size(request.page)
        let after = try InstantPageKey.after(request.page)
        var kinds: [String] = []
        for kind in request.kinds {
            guard let value = FindingKind(proto: kind) else { throw RPCError.invalidArgument(field: "kinds", "unknown kind \(kind)", reason: "enum") }
            kinds.append(value.rawValue)
        }
        return try await database.withConnection { connection in
            var department = request.departmentCode
            if let own = try await callerDepartment(caller, on: connection) {
                guard department.isEmpty || department == own.code else {
                    throw RPCError(code: .permissionDenied, message: "a department reads its own findings only (you are \(own.code))")
                }
                department = own.code
            } else {
                try requireLocal(caller, reading: true)
            }
            let (findings, total, next) = try await FindingStore.list(
                caseID: request.caseID, departmentCode: department, kinds: kinds, after: after, limit: size, on: connection)
            return Supervision_ListFindingsResponse.with {
                $0.findings = findings
                $0.page.totalSize = Int64(total)
                $0.page.nextPageToken = next?.token ?? ""
            }
        }
    }

    public func quarterlyFigures(request: Supervision_QuarterlyFiguresRequest, context: ServerContext) async throws -> Supervision_QuarterlyFiguresResponse {
        let caller = try ServerContext.requireCaller()
        var violations: [FieldViolation] = []
        if !(2000...9999).contains(request.year) { violations.append(FieldViolation(field: "year", description: "a year such as 2026", reason: "out_of_range")) }
        if !(1...4).contains(request.quarter) { violations.append(FieldViolation(field: "quarter", description: "1–4", reason: "out_of_range")) }
        guard violations.isEmpty, let quarter = Quarter(year: Int(request.year), quarter: Int(request.quarter)) else {
            throw SupervisionRuleError.invalidArgument(violations)
        }
        return try await database.withConnection { connection in
            var code = request.departmentCode
            if let own = try await callerDepartment(caller, on: connection) {
                guard code.isEmpty || code == own.code else {
                    throw RPCError(code: .permissionDenied, message: "a department reads its own figures only (you are \(own.code))")
                }
                code = own.code
            } else {
                try requireLocal(caller, reading: true)
            }
            let pushes = try await pushStore.pushed(from: quarter.firstDay, to: quarter.lastDay, departmentCode: code, on: connection)
            let findings = try await FindingStore.counts(from: quarter.firstDay, to: quarter.lastDay, departmentCode: code, on: connection)
            let (departments, total) = try QuarterlyFigures.compute(quarter: quarter, pushes: pushes.map(\.facts), findings: findings, now: clock(), calendar: calendar)
            let known = Dictionary(uniqueKeysWithValues: try await DepartmentStore.all(includeInactive: true, on: connection).map { ($0.department.code, $0) })
            var response = Supervision_QuarterlyFiguresResponse()
            response.year = request.year
            response.quarter = request.quarter
            for figures in departments {
                var ref = Common_DepartmentRef()
                ref.code = figures.departmentCode
                if let department = known[figures.departmentCode] { ref = department.ref }
                response.departments.append(figures.proto(ref: ref))
            }
            response.total = total.proto(ref: Common_DepartmentRef())
            return response
        }
    }
}

extension SupervisionRules.DepartmentFigures {
    func proto(ref: Common_DepartmentRef) -> Supervision_DepartmentFigures {
        Supervision_DepartmentFigures.with {
            $0.department = ref
            $0.pushed = Int64(pushed)
            $0.pushedOnTime = Int64(pushedOnTime)
            $0.claimed = Int64(claimed)
            $0.claimedOnTime = Int64(claimedOnTime)
            $0.claimOnTimeRate = claimOnTimeRate
            $0.claimLatencyMeanHours = latencyMeanHours
            $0.claimLatencyP90Hours = latencyP90Hours
            $0.claimLatencyMedianHours = latencyMedianHours
            $0.claimLatencyWorstHours = latencyWorstHours
            $0.rejected = Int64(rejected)
            $0.rerouted = Int64(rerouted)
            $0.unclaimedOverdue = Int64(unclaimedOverdue)
            $0.findings = Int64(findings)
            $0.accuracy = accuracy
        }
    }
}
