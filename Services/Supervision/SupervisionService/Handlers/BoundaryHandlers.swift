import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealStore
import SupervisionContracts
import SupervisionRules

/// Departments and the boundary list (审管边界清单): bureau operators manage them; the bureau, evaluators,
/// leaders and departments read them.
extension SupervisionAPI {
    public func upsertDepartment(request: Supervision_UpsertDepartmentRequest, context: ServerContext) async throws -> Supervision_UpsertDepartmentResponse {
        let caller = try ServerContext.requireCaller()
        guard request.hasDepartment else { throw RPCError.invalidArgument(field: "department", "required", reason: "required") }
        let department = Department(proto: request.department)
        let violations = department.validate()
        guard violations.isEmpty else { throw SupervisionRuleError.invalidArgument(violations) }
        let now = clock()
        let (stored, created) = try await database.withTransaction { transaction in
            let created = try await DepartmentStore.upsert(department, by: caller.subject, role: caller.role.rawValue, at: now, in: transaction)
            return (try await DepartmentStore.find(department.code, on: transaction)!, created)
        }
        // Committed: this process's next read sees the change at once (the NOTIFY follows).
        settings.drop(SupervisionSetting.departmentKey(department.code))
        logger.info("department saved", metadata: ["department": "\(department.code)", "delivery": "\(department.delivery.rawValue)", "by": "\(caller.logSubject)"])
        return Supervision_UpsertDepartmentResponse.with { $0.department = stored.proto; $0.created = created }
    }

    public func listDepartments(request: Supervision_ListDepartmentsRequest, context: ServerContext) async throws -> Supervision_ListDepartmentsResponse {
        let caller = try ServerContext.requireCaller()
        let (offset, size) = try Paging.parse(request.page)
        return try await database.withConnection { connection in
            let own = try await callerDepartment(caller, on: connection)
            if own == nil { try requireLocal(caller, reading: true) }
            var all = try await DepartmentStore.all(includeInactive: request.includeInactive, on: connection)
            if let own { all = all.filter { $0.department.code == own.code } }
            return Supervision_ListDepartmentsResponse.with {
                $0.departments = all.dropFirst(offset).prefix(size).map(\.proto)
                $0.page = Paging.response(offset: offset, size: size, total: all.count)
            }
        }
    }

    public func removeDepartment(request: Supervision_RemoveDepartmentRequest, context: ServerContext) async throws -> Supervision_RemoveDepartmentResponse {
        let caller = try ServerContext.requireCaller()
        guard !request.code.isEmpty else { throw RPCError.invalidArgument(field: "code", "required", reason: "required") }
        let stored = try await database.withTransaction { transaction in
            guard try await DepartmentStore.find(request.code, forUpdate: true, on: transaction) != nil else {
                throw RPCError(code: .notFound, message: "no department '\(request.code)'")
            }
            let entries = try await BoundaryStore.entries(departmentCode: request.code, on: transaction)
            guard entries.isEmpty else {
                throw RPCError(code: .failedPrecondition, message: "department '\(request.code)' still supervises \(entries.map(\.entry.key).joined(separator: ", ")); change those boundary entries first")
            }
            try await DepartmentStore.deactivate(request.code, by: caller.subject, role: caller.role.rawValue, at: clock(), in: transaction)
            return try await DepartmentStore.find(request.code, on: transaction)!
        }
        settings.drop(SupervisionSetting.departmentKey(request.code))
        logger.info("department deactivated", metadata: ["department": "\(request.code)", "by": "\(caller.logSubject)"])
        return Supervision_RemoveDepartmentResponse.with { $0.department = stored.proto }
    }

    public func upsertBoundary(request: Supervision_UpsertBoundaryRequest, context: ServerContext) async throws -> Supervision_UpsertBoundaryResponse {
        let caller = try ServerContext.requireCaller()
        guard request.hasEntry else { throw RPCError.invalidArgument(field: "entry", "required", reason: "required") }
        let entry = BoundaryEntry(proto: request.entry)
        let now = clock()
        let stored = try await database.withTransaction { transaction in
            let departments = try await DepartmentStore.all(includeInactive: false, on: transaction)
            let known = Set(departments.map(\.department.code))
            let violations = entry.validate { known.contains($0) }
            guard violations.isEmpty else { throw SupervisionRuleError.invalidArgument(violations) }
            // Publishing the same content again changes nothing (an import can be re-run).
            let existing = try await BoundaryStore.entries(keys: [entry.key], on: transaction).first
            if existing?.entry != entry {
                _ = try await BoundaryStore.put(entry, by: caller.subject, role: caller.role.rawValue, at: now, in: transaction)
            }
            let stored = try await BoundaryStore.entries(keys: [entry.key], on: transaction)[0]
            return stored.proto(departments: Dictionary(uniqueKeysWithValues: departments.map { ($0.department.code, $0) }))
        }
        settings.drop("")
        logger.info("boundary entry saved", metadata: ["entry": "\(entry.key)", "version": "\(stored.version)", "by": "\(caller.logSubject)"])
        return Supervision_UpsertBoundaryResponse.with { $0.entry = stored }
    }

    public func listBoundary(request: Supervision_ListBoundaryRequest, context: ServerContext) async throws -> Supervision_ListBoundaryResponse {
        let caller = try ServerContext.requireCaller()
        let (offset, size) = try Paging.parse(request.page)
        return try await database.withConnection { connection in
            let own = try await callerDepartment(caller, on: connection)
            if own == nil { try requireLocal(caller, reading: true) }
            if let own, !request.departmentCode.isEmpty, request.departmentCode != own.code {
                throw RPCError(code: .permissionDenied, message: "a department reads its own boundary entries only")
            }
            let entries = try await BoundaryStore.entries(
                implementationCode: request.implementationCode, departmentCode: own?.code ?? request.departmentCode, on: connection)
            let departments = try await DepartmentStore.all(includeInactive: true, on: connection)
            let byCode = Dictionary(uniqueKeysWithValues: departments.map { ($0.department.code, $0) })
            var response = Supervision_ListBoundaryResponse()
            response.entries = entries.dropFirst(offset).prefix(size).map { $0.proto(departments: byCode) }
            response.page = Paging.response(offset: offset, size: size, total: entries.count)
            if own == nil {
                // Items whose decisions found no entry, and still have none.
                let list = BoundaryList(try await BoundaryStore.entries(on: connection).map(\.entry))
                response.itemsWithoutBoundary = try await SourceEventStore.itemsWithoutBoundary(on: connection).filter { list.entry(for: $0) == nil }
            }
            return response
        }
    }

    public func removeBoundary(request: Supervision_RemoveBoundaryRequest, context: ServerContext) async throws -> Supervision_RemoveBoundaryResponse {
        let caller = try ServerContext.requireCaller()
        let entry = BoundaryEntry(implementationCode: request.implementationCode, basicCode: request.basicCode, departments: [])
        let violations = entry.validate(prefix: "", known: { _ in true }).filter { $0.field != "departments" }
        guard violations.isEmpty else { throw SupervisionRuleError.invalidArgument(violations) }
        let removed = try await database.withTransaction { transaction in try await BoundaryStore.remove(key: entry.key, in: transaction) }
        settings.drop("")
        guard removed else { throw RPCError(code: .notFound, message: "no boundary entry for \(entry.key)") }
        logger.info("boundary entry removed", metadata: ["entry": "\(entry.key)", "by": "\(caller.logSubject)"])
        return Supervision_RemoveBoundaryResponse()
    }
}

extension BoundaryEntry {
    init(proto: Supervision_BoundaryEntry) {
        self.init(
            implementationCode: proto.implementationCode.trimmingCharacters(in: .whitespaces), basicCode: proto.basicCode.trimmingCharacters(in: .whitespaces),
            itemName: proto.itemName, departments: proto.departments.map { SupervisingDepartment(code: $0.department.code, responsibility: $0.responsibility) })
    }
}

/// Page tokens: offsets into the filtered list for the configuration lists (ListPushes pages by
/// key, `InstantPageKey.after`); `common.v1.PageRequest`: 0 = 50, at most 500.
enum Paging {
    static func parse(_ page: Common_PageRequest) throws -> (offset: Int, size: Int) {
        let size = try Self.size(page)
        var offset = 0
        if !page.pageToken.isEmpty {
            guard let value = Int(page.pageToken), value >= 0 else {
                throw RPCError.invalidArgument(field: "page.page_token", "not a token from a previous response", reason: "format")
            }
            offset = value
        }
        return (offset, size)
    }

    static func size(_ page: Common_PageRequest) throws -> Int {
        guard page.pageSize >= 0 else { throw RPCError.invalidArgument(field: "page.page_size", "must not be negative", reason: "out_of_range") }
        return page.pageSize == 0 ? 50 : min(Int(page.pageSize), 500)
    }

    static func response(offset: Int, size: Int, total: Int) -> Common_PageResponse {
        Common_PageResponse.with {
            $0.totalSize = Int64(total)
            $0.nextPageToken = offset + size < total ? String(offset + size) : ""
        }
    }
}
