import Foundation
import GRPCCore
import OneSealCore
import OneSealProto
import OneSealStore
import SupervisionRules
import Testing
@testable import SupervisionService

/// The policy, departments and boundary entries kept in memory (#21, decision 74): served only
/// while the LISTEN hears every change, dropped by the change that makes them stale.
@Suite("Supervision settings cache", .serialized)
struct SupervisionSettingsTests {
    @Test("kept while listening; a change by RPC, by hand in SQL, or to the boundary list drops what it changed; unknown departments are kept as unknown until registered")
    func keptUntilChanged() async throws {
        try await withSupervisionNode(today: SupervisionServiceTests.friday) { node in
            let api = node.api
            let settings = api.settings
            // Not listening: read through, nothing kept.
            _ = try await node.database.withConnection { try await api.policy(on: $0) }
            #expect(settings.count == 0)
            let running = Task { try await settings.run() }
            defer { running.cancel() }
            #expect(try await eventually { settings.fillToken() != nil }, "listening")

            // The policy: kept; an operator's UPDATE in SQL is heard and read afresh.
            let before = try await node.database.withConnection { try await api.policy(on: $0) }
            #expect(settings.value(SupervisionSetting.policyKey) != nil)
            try await node.setting("supervision.claim_working_days", "\(before.claimWorkingDays == 7 ? 8 : 7)")
            #expect(try await eventually { settings.value(SupervisionSetting.policyKey) == nil }, "the setting heard")
            let after = try await node.database.withConnection { try await api.policy(on: $0) }
            #expect(after.claimWorkingDays != before.claimWorkingDays)

            // A department not registered is kept as unknown; registering it (RPC, another
            // process's cache) NOTIFYs its code.
            let key = SupervisionSetting.departmentKey("SCJG")
            #expect(try await node.database.withConnection { try await api.department("SCJG", on: $0) } == nil)
            guard case .department(nil)? = settings.value(key) else { Issue.record("unknown department not kept"); return }
            try await node.addDepartment("SCJG", "市场监督管理局")
            #expect(try await eventually { settings.value(key) == nil }, "the registration heard")
            #expect(try await node.database.withConnection { try await api.department("SCJG", on: $0) }?.department.active == true)
            // Deactivated by hand: heard, read afresh.
            try await node.database.execute("UPDATE departments SET active = false WHERE code = 'SCJG'")
            #expect(try await eventually { settings.value(key) == nil }, "the deactivation heard")
            #expect(try await node.database.withConnection { try await api.department("SCJG", on: $0) }?.department.active == false)
            try await node.database.execute("UPDATE departments SET active = true WHERE code = 'SCJG'")
            #expect(try await eventually { settings.value(key) == nil }, "the reactivation heard")

            // Boundary entries: kept per item; any boundary change drops everything.
            let item = "000117005000371302001"
            #expect(try await node.database.withConnection { try await api.boundaryEntries(implementationCode: item, on: $0) }.isEmpty)
            #expect(settings.value(SupervisionSetting.boundaryKey(item)) != nil)
            try await node.setBoundary(item, ["SCJG"])
            #expect(try await eventually { settings.value(SupervisionSetting.boundaryKey(item)) == nil }, "the boundary change heard")
            #expect(try await node.database.withConnection { try await api.boundaryEntries(implementationCode: item, on: $0) }.map(\.entry.departments.count) == [1])

            // A fill whose read began before a change is not kept.
            let stale = try #require(settings.fillToken())
            try await node.setting("supervision.push_working_days", "3")
            #expect(try await eventually { settings.fillToken() != stale }, "the change heard")
            settings.keep(.policy(before), for: SupervisionSetting.policyKey, token: stale)
            #expect(settings.value(SupervisionSetting.policyKey) == nil)

            // This process's own change is dropped before it answers, without waiting for a NOTIFY.
            _ = try await node.database.withConnection { try await api.department("SCJG", on: $0) }
            #expect(settings.value(key) != nil)
            settings.drop(key)
            #expect(settings.value(key) == nil)
        }
    }
}
