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
    /// Waits (up to 30 s) until `condition` holds.
    static func eventually(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        while !condition() {
            guard ContinuousClock.now < deadline else { Issue.record("not reached: \(what)"); return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

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
            try await Self.eventually("listening") { settings.fillToken() != nil }

            // The policy: kept; an operator's UPDATE in SQL is heard and read afresh.
            let before = try await node.database.withConnection { try await api.policy(on: $0) }
            #expect(settings.value(SupervisionSetting.policyKey) != nil)
            try await node.setting("supervision.claim_working_days", "\(before.claimWorkingDays == 7 ? 8 : 7)")
            try await Self.eventually("the setting heard") { settings.value(SupervisionSetting.policyKey) == nil }
            let after = try await node.database.withConnection { try await api.policy(on: $0) }
            #expect(after.claimWorkingDays != before.claimWorkingDays)

            // A department not registered is kept as unknown; registering it (RPC, another
            // process's cache) NOTIFYs its code.
            let key = SupervisionSetting.departmentKey("SCJG")
            #expect(try await node.database.withConnection { try await api.department("SCJG", on: $0) } == nil)
            guard case .department(nil)? = settings.value(key) else { Issue.record("unknown department not kept"); return }
            try await node.addDepartment("SCJG", "市场监督管理局")
            try await Self.eventually("the registration heard") { settings.value(key) == nil }
            #expect(try await node.database.withConnection { try await api.department("SCJG", on: $0) }?.department.active == true)
            // Deactivated by hand: heard, read afresh.
            try await node.database.execute("UPDATE departments SET active = false WHERE code = 'SCJG'")
            try await Self.eventually("the deactivation heard") { settings.value(key) == nil }
            #expect(try await node.database.withConnection { try await api.department("SCJG", on: $0) }?.department.active == false)
            try await node.database.execute("UPDATE departments SET active = true WHERE code = 'SCJG'")
            try await Self.eventually("the reactivation heard") { settings.value(key) == nil }

            // Boundary entries: kept per item; any boundary change drops everything.
            let item = "000117005000371302001"
            #expect(try await node.database.withConnection { try await api.boundaryEntries(implementationCode: item, on: $0) }.isEmpty)
            #expect(settings.value(SupervisionSetting.boundaryKey(item)) != nil)
            try await node.setBoundary(item, ["SCJG"])
            try await Self.eventually("the boundary change heard") { settings.value(SupervisionSetting.boundaryKey(item)) == nil }
            #expect(try await node.database.withConnection { try await api.boundaryEntries(implementationCode: item, on: $0) }.map(\.entry.departments.count) == [1])

            // A fill whose read began before a change is not kept.
            let stale = try #require(settings.fillToken())
            try await node.setting("supervision.push_working_days", "3")
            try await Self.eventually("the change heard") { settings.fillToken() != stale }
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
