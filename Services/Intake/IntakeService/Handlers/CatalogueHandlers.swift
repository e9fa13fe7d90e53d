import Foundation
import GRPCCore
import IntakeContracts
import IntakeRules
import OneSealAuth
import OneSealProto
import OneSealServiceKit

/// The catalogue (事项清单): publishing versions, the public guide.
extension IntakeAPI {
    public func upsertItem(request: Intake_UpsertItemRequest, context: ServerContext) async throws -> Intake_UpsertItemResponse {
        let caller = try ServerContext.requireCaller()
        guard request.hasItem else { throw RPCError.invalidArgument(field: "item", "required", reason: "required") }
        let item = CatalogueItem(proto: request.item)
        let violations = item.validate(prefix: "item")
        guard violations.isEmpty else { throw IntakeRuleError.invalidArgument(violations) }
        let (stored, created) = try await database.withTransaction { transaction in
            try await CatalogueStore.publish(item, note: request.changeNote, by: caller, in: transaction)
        }
        // This process's guide is dropped before the answer, so whoever published reads the new
        // version back at once; other processes hear the trigger's NOTIFY.
        if created { guides.drop(item.implementationCode) }
        if created {
            logger.info("catalogue item published", metadata: [
                "item": "\(item.implementationCode)", "version": "\(stored.version.version)", "by": "\(caller.logSubject)",
            ])
        }
        var response = Intake_UpsertItemResponse()
        response.item = stored.proto
        response.createdNewVersion = created
        return response
    }

    public func getItem(request: Intake_GetItemRequest, context: ServerContext) async throws -> Intake_GetItemResponse {
        let code = request.implementationCode
        guard !code.isEmpty else {
            throw RPCError.invalidArgument(field: "implementation_code", "required", reason: "required")
        }
        guard CatalogueItem.isCode(code) else {
            throw RPCError.invalidArgument(field: "implementation_code", "must be 1–64 characters of A–Z, a–z, 0–9 and “-”", reason: "code.format")
        }
        guard request.version >= 0 else {
            throw RPCError.invalidArgument(field: "version", "must be 0 (current) or a version number", reason: "out_of_range")
        }
        let current = request.version == 0
        if current, let kept = guides.value(code) { return kept }
        let token = current ? guides.fillToken() : nil
        let response = try await database.withConnection { connection in
            guard let (stored, versions) = try await CatalogueStore.itemWithVersions(code, version: Int(request.version), on: connection) else {
                throw Self.notFound(current
                    ? "no item \(code) in the catalogue"
                    : "item \(code) has no version \(request.version)")
            }
            var response = Intake_GetItemResponse()
            response.item = stored.proto
            response.versions = versions.map { Int32($0) }
            return response
        }
        if let token { guides.keep(response, for: code, token: token) }
        return response
    }

    public func listItems(request: Intake_ListItemsRequest, context: ServerContext) async throws -> Intake_ListItemsResponse {
        let size = try Paging.size(request.page)
        let after = request.page.pageToken
        let type = request.type == .unspecified ? nil : ItemType(proto: request.type)
        let (items, total) = try await database.withConnection { connection in
            try await CatalogueStore.list(
                query: request.query.trimmingCharacters(in: .whitespaces), departmentCode: request.departmentCode, type: type,
                includeInactive: request.includeInactive, after: after, limit: size + 1, on: connection)
        }
        var response = Intake_ListItemsResponse()
        response.items = items.prefix(size).map(\.proto)
        response.page.totalSize = Int64(total)
        if items.count > size, let last = items.prefix(size).last {
            response.page.nextPageToken = last.item.implementationCode
        }
        return response
    }
}

extension StoredItem {
    var proto: Intake_Item {
        item.proto(
            version: version.version, changeNote: changeNote,
            changedBy: Common_ActorRef.with { $0.subject = changedBy; $0.role = changedByRole },
            createdAt: createdAt)
    }
}

/// Page sizes as `common.v1.PageRequest` defines them: 0 = 50, at most 500.
enum Paging {
    static func size(_ page: Common_PageRequest) throws -> Int {
        guard page.pageSize >= 0 else { throw RPCError.invalidArgument(field: "page.page_size", "must not be negative", reason: "out_of_range") }
        return page.pageSize == 0 ? 50 : min(Int(page.pageSize), 500)
    }
}
