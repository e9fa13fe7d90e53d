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

/// The inbox: a department lists, claims (认领) and rejects (退回) its own pushes; the bureau reads
/// every push and re-routes rejected ones.
extension SupervisionAPI {
    public func listPushes(request: Supervision_ListPushesRequest, context: ServerContext) async throws -> Supervision_ListPushesResponse {
        let caller = try ServerContext.requireCaller()
        let size = try Paging.size(request.page)
        let after = try InstantPageKey.after(request.page)
        var violations: [Common_FieldViolation] = []
        var filter = PushStore.Filter()
        filter.statuses = request.statuses.compactMap { (status: Supervision_PushStatus) -> String? in
            guard let value = PushStatus(proto: status) else {
                violations.append(Common_FieldViolation.with { $0.field = "statuses"; $0.description_p = "unknown status \(status)"; $0.reason = "enum" })
                return nil
            }
            return value.rawValue
        }
        filter.kinds = request.kinds.compactMap { (kind: Supervision_PushKind) -> String? in
            guard let value = PushKind(proto: kind) else {
                violations.append(Common_FieldViolation.with { $0.field = "kinds"; $0.description_p = "unknown kind \(kind)"; $0.reason = "enum" })
                return nil
            }
            return value.rawValue
        }
        if request.hasPushed {
            if request.pushed.hasFrom {
                if let from = request.pushed.from.civilDate { filter.pushedFrom = from } else {
                    violations.append(Common_FieldViolation.with { $0.field = "pushed.from"; $0.description_p = "not a calendar date"; $0.reason = "format" })
                }
            }
            if request.pushed.hasTo {
                if let to = request.pushed.to.civilDate { filter.pushedTo = to } else {
                    violations.append(Common_FieldViolation.with { $0.field = "pushed.to"; $0.description_p = "not a calendar date"; $0.reason = "format" })
                }
            }
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        if request.claimOverdueOnly { filter.claimOverdueBefore = today }
        filter.caseID = request.caseID
        // The caller's department, the page and its total in one read transaction: one commit (#21).
        return try await database.withTransaction { connection in
            if let own = try await callerDepartment(caller, on: connection) {
                guard request.departmentCode.isEmpty || request.departmentCode == own.code else {
                    throw RPCError(code: .permissionDenied, message: "a department sees its own pushes only (you are \(own.code))")
                }
                filter.departmentCode = own.code
            } else {
                try requireLocal(caller, reading: true)
                filter.departmentCode = request.departmentCode
            }
            let (pushes, total, more) = try await pushStore.list(filter, after: after, limit: size, on: connection)
            return Supervision_ListPushesResponse.with {
                $0.pushes = pushes.map { view($0) }
                $0.page.totalSize = Int64(total)
                if more, let last = pushes.last { $0.page.nextPageToken = InstantPageKey(at: last.pushedAt, id: last.id).token }
            }
        }
    }

    public func getPush(request: Supervision_GetPushRequest, context: ServerContext) async throws -> Supervision_GetPushResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseID(request.pushID, field: "push_id")
        // The push, the caller's department and the findings in one read transaction: one commit (#21).
        return try await database.withTransaction { connection in
            guard let push = try await pushStore.find(id: id, on: connection) else { throw RPCError(code: .notFound, message: "no push \(request.pushID)") }
            if let own = try await callerDepartment(caller, on: connection) {
                try push.state.checkOwner(own.code)
            } else {
                try requireLocal(caller, reading: true)
            }
            let findings = try await FindingStore.list(caseID: "", departmentCode: "", kinds: [], pushID: id, after: nil, limit: 500, on: connection)
            return Supervision_GetPushResponse.with { $0.push = view(push); $0.findings = findings.findings }
        }
    }

    public func claimPush(request: Supervision_ClaimPushRequest, context: ServerContext) async throws -> Supervision_ClaimPushResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseID(request.pushID, field: "push_id")
        try Self.checkClaimNote(request.note)
        let push = try await database.withTransaction { transaction in
            try await claim(id, note: request.note, by: caller, own: try await callerDepartment(caller, on: transaction), in: transaction)
        }
        logger.info("push claimed", metadata: ["push": "\(id)", "department": "\(push.departmentCode)", "on_time": "\(push.state.claimedOnTime)"])
        return Supervision_ClaimPushResponse.with { $0.push = view(push) }
    }

    /// Most pushes one `ClaimPushes` takes: a page of the inbox.
    static let claimBatchLimit = 100

    /// 认领 of several pushes in one transaction (#21: a grant and its licence were two commits):
    /// all or none. The rows are locked in id order, so two overlapping claims cannot deadlock; the
    /// answer keeps the order asked, and an error names the push it is about (`push_ids[i]`).
    public func claimPushes(request: Supervision_ClaimPushesRequest, context: ServerContext) async throws -> Supervision_ClaimPushesResponse {
        let caller = try ServerContext.requireCaller()
        guard !request.pushIds.isEmpty else { throw RPCError.invalidArgument(field: "push_ids", "at least one push id", reason: "required") }
        guard request.pushIds.count <= Self.claimBatchLimit else {
            throw RPCError.invalidArgument(field: "push_ids", "at most \(Self.claimBatchLimit) pushes at once", reason: "too_many")
        }
        var ids: [UUID] = []
        for (index, text) in request.pushIds.enumerated() {
            let id = try Self.parseID(text, field: "push_ids[\(index)]")
            if let first = ids.firstIndex(of: id) {
                throw RPCError.invalidArgument(field: "push_ids[\(index)]", "the same push as push_ids[\(first)]", reason: "duplicate")
            }
            ids.append(id)
        }
        try Self.checkClaimNote(request.note)
        let pushes = try await database.withTransaction { transaction -> [StoredPush] in
            let own = try await callerDepartment(caller, on: transaction)
            var claimed: [UUID: StoredPush] = [:]
            for id in ids.sorted(by: { $0.uuidString < $1.uuidString }) {
                do {
                    claimed[id] = try await claim(id, note: request.note, by: caller, own: own, in: transaction)
                } catch {
                    throw Self.naming("push_ids[\(ids.firstIndex(of: id) ?? 0)]", in: error)
                }
            }
            return ids.compactMap { claimed[$0] }
        }
        for push in pushes {
            logger.info("push claimed", metadata: ["push": "\(push.id)", "department": "\(push.departmentCode)", "on_time": "\(push.state.claimedOnTime)"])
        }
        return Supervision_ClaimPushesResponse.with { $0.pushes = pushes.map { view($0) } }
    }

    static func checkClaimNote(_ note: String) throws {
        guard note.count <= 500 else { throw RPCError.invalidArgument(field: "note", "at most 500 characters", reason: "too_long") }
    }

    /// 认领 of one push in `transaction`: the caller's department (`own`) must be its department.
    private func claim(_ id: UUID, note: String, by caller: Caller, own: Department?, in transaction: PostgresConnection) async throws -> StoredPush {
        try await changing(id, in: transaction) { push in
            try push.state.checkOwner(own?.code)
            try push.state.claim(at: clock())
            push.record.claimedBy = Common_ActorRef(caller)
            push.record.claimNote = note
            push.refreshRecord(today: today, calendar: calendar)
            return [try pushEvent(push.record, .claimed)]
        }
    }

    /// `error` with `field` in front of its message: which of several objects it is about.
    static func naming(_ field: String, in error: any Error) -> any Error {
        let rpc = (error as? RPCError) ?? (error as? any ContractStatus)?.rpcError
        guard let rpc else { return error }
        return RPCError(code: rpc.code, message: "\(field): \(rpc.message)", metadata: rpc.metadata)
    }

    public func rejectPush(request: Supervision_RejectPushRequest, context: ServerContext) async throws -> Supervision_RejectPushResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseID(request.pushID, field: "push_id")
        let suggested = request.suggestedDepartment.code.trimmingCharacters(in: .whitespaces)
        let push = try await database.withTransaction { transaction in
            let own = try await callerDepartment(caller, on: transaction)
            var suggestedRef: Common_DepartmentRef?
            if !suggested.isEmpty {
                guard let department = try await department(suggested, on: transaction), department.department.active else {
                    throw RPCError.invalidArgument(field: "suggested_department.code", "no active department '\(suggested)'", reason: "unknown_department")
                }
                suggestedRef = department.ref
            }
            return try await changing(id, in: transaction) { push in
                try push.state.checkOwner(own?.code)
                try push.state.reject(reason: request.reason, suggested: suggested.isEmpty ? nil : suggested, at: clock())
                push.record.rejectedBy = Common_ActorRef(caller)
                if let suggestedRef { push.record.suggestedDepartment = suggestedRef }
                push.refreshRecord(today: today, calendar: calendar)
                return [try pushEvent(push.record, .rejected)]
            }
        }
        logger.notice("push rejected", metadata: ["push": "\(id)", "department": "\(push.departmentCode)", "suggested": "\(suggested)"])
        return Supervision_RejectPushResponse.with { $0.push = view(push) }
    }

    public func reroutePush(request: Supervision_ReroutePushRequest, context: ServerContext) async throws -> Supervision_ReroutePushResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseID(request.pushID, field: "push_id")
        var violations: [Common_FieldViolation] = []
        let codes = request.departments.map { $0.code.trimmingCharacters(in: .whitespaces) }
        if codes.isEmpty {
            violations.append(Common_FieldViolation.with { $0.field = "departments"; $0.description_p = "at least one department to re-route to"; $0.reason = "required" })
        }
        for (index, code) in codes.enumerated() where code.isEmpty || codes[..<index].contains(code) {
            violations.append(Common_FieldViolation.with { $0.field = "departments[\(index)].code"; $0.description_p = code.isEmpty ? "required" : "listed twice"; $0.reason = code.isEmpty ? "required" : "duplicate" })
        }
        if request.reason.trimmingCharacters(in: .whitespaces).count < 4 {
            violations.append(Common_FieldViolation.with { $0.field = "reason"; $0.description_p = "say why the push is re-routed (at least 4 characters)"; $0.reason = "required" })
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let (original, created) = try await database.withTransaction { transaction in
            var targets: [StoredDepartment] = []
            for (index, code) in codes.enumerated() {
                guard let department = try await department(code, on: transaction), department.department.active else {
                    throw RPCError.invalidArgument(field: "departments[\(index)].code", "no active department '\(code)'", reason: "unknown_department")
                }
                targets.append(department)
            }
            let policy = try await policy(on: transaction)
            var created: [StoredPush] = []
            var events: [OutboxEvent] = []
            let original = try await changing(id, in: transaction) { push in
                try push.state.reroute(to: codes)
                for target in targets {
                    var template = push.record
                    template.reroutedToPushIds = []
                    template.clearClaimedBy()
                    template.clearRejectedBy()
                    template.clearSuggestedDepartment()
                    template.claimNote = ""
                    template.rerouteReason(request.reason)
                    let new = try newPush(
                        template: template, kind: push.kind, dedupeKey: "reroute:\(push.id.uuidString.lowercased())", department: target,
                        responsibility: request.reason, sourceAt: push.sourceAt, sourceOn: push.state.schedule.sourceOn, policy: policy, reroutedFrom: push.id)
                    guard try await pushStore.insert(new, in: transaction) else {
                        throw RPCError(code: .failedPrecondition, message: "department \(target.department.code) already has this push")
                    }
                    created.append(new)
                    events.append(try pushEvent(new.record, .created))
                    if new.state.autoClaimed { events.append(try pushEvent(new.record, .claimed)) }
                }
                push.record.reroutedToPushIds = created.map { $0.id.uuidString.lowercased() }
                return events
            }
            if request.updateBoundary {
                try await fixBoundary(for: original, to: codes, reason: request.reason, by: caller, in: transaction)
            }
            return (original, created)
        }
        // Committed: this process's next push reads the changed entry at once (the NOTIFY follows).
        if request.updateBoundary { settings.drop("") }
        logger.notice("push re-routed", metadata: ["push": "\(id)", "from": "\(original.departmentCode)", "to": "\(codes.joined(separator: ","))", "by": "\(caller.logSubject)"])
        return Supervision_ReroutePushResponse.with {
            $0.original = view(original)
            $0.pushes = created.map { view($0) }
        }
    }

    /// Re-routing with `update_boundary`: the governing entry of the item loses the rejecting
    /// department and gains the new ones, so the next decision goes right.
    private func fixBoundary(for push: StoredPush, to codes: [String], reason: String, by caller: Caller, in transaction: PostgresConnection) async throws {
        let code = push.record.implementationCode
        let list = BoundaryList(try await BoundaryStore.entries(implementationCode: code, on: transaction).map(\.entry))
        let current = list.entry(for: code) ?? BoundaryEntry(implementationCode: code, itemName: push.record.itemName, departments: [])
        let fixed = current.rerouted(from: push.departmentCode, to: codes, responsibility: reason)
        guard !fixed.departments.isEmpty else { return }
        _ = try await BoundaryStore.put(fixed, by: caller.subject, role: caller.role.rawValue, at: clock(), in: transaction)
    }

    /// The push as the wire shows it, with its clocks as of today.
    func view(_ push: StoredPush) -> Supervision_Push {
        var push = push
        push.refreshRecord(today: today, calendar: calendar)
        return push.record
    }
}

extension Supervision_Push {
    /// A re-routed push carries the bureau's reason next to any revocation / cancellation reason.
    mutating func rerouteReason(_ reason: String) {
        let note = "改派：\(reason)"
        self.reason = self.reason.isEmpty ? note : "\(self.reason)；\(note)"
    }
}
