import Foundation
import GRPCCore
import Logging
import OneSealProto
import OneSealStore
import Testing
@testable import IntakeService

/// The public guide kept in memory (#21): served only while its LISTEN hears every change.
@Suite("Intake guide cache", .serialized)
struct GuideCacheTests {
    static let food = IntakeServiceTests.food
    static let monday = IntakeServiceTests.monday

    /// Waits (up to 30 s) until `condition` holds.
    static func eventually(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        while !condition() {
            guard ContinuousClock.now < deadline else { Issue.record("not reached: \(what)"); return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test("kept only while listening; a publication, a change by hand, a TRUNCATE or a lost LISTEN drops it; a fill older than a change is not kept")
    func keptWhileListening() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let guides = GuideCache(database: node.database, logger: Logger(label: "test.guides"))
            var guide = Intake_GetItemResponse()
            guide.item.implementationCode = Self.food
            // Not listening (not running yet): nothing may be kept.
            #expect(guides.fillToken() == nil)
            guides.keep(guide, for: Self.food, token: 0)
            #expect(guides.value(Self.food) == nil)

            let running = Task { try await guides.run() }
            defer { running.cancel() }
            try await Self.eventually("listening") { guides.fillToken() != nil }
            let token = try #require(guides.fillToken())
            guides.keep(guide, for: Self.food, token: token)
            guides.keep(guide, for: "other-item", token: token)
            #expect(guides.value(Self.food) == guide && guides.count == 2)

            // A publication over RPC (the trigger's NOTIFY in the publishing transaction) drops
            // that item's guide only.
            var item = try await node.intake.getItem(.with { $0.implementationCode = Self.food }).item
            item.promisedDays = 3
            _ = try await node.intake.upsertItem(.with { $0.item = item; $0.changeNote = "承诺时限压缩为3个工作日" }, metadata: try node.operatorToken)
            try await Self.eventually("the publication heard") { guides.value(Self.food) == nil }
            #expect(guides.value("other-item") == guide)

            // A fill whose read began before a change is not kept.
            let stale = try #require(guides.fillToken())
            try await node.database.execute("UPDATE catalogue_items SET change_note = change_note WHERE implementation_code = \(Self.food) AND version = 1")
            try await Self.eventually("the change by hand heard") { guides.fillToken() != stale }
            guides.keep(guide, for: Self.food, token: stale)
            #expect(guides.value(Self.food) == nil)

            // A lost LISTEN connection (its backend terminated) drops everything: no NOTIFY was
            // sent, the listener's interruption is what says so; it listens again by itself.
            try await node.database.execute("""
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE datname = current_database() AND query = 'LISTEN "intake_catalogue_changed"'
                """)
            try await Self.eventually("the lost LISTEN heard") { guides.value("other-item") == nil }
            try await Self.eventually("listening again") { guides.fillToken() != nil }

            // A TRUNCATE (a repair by hand) NOTIFYs an empty code: every guide goes.
            let fresh = try #require(guides.fillToken())
            guides.keep(guide, for: "other-item", token: fresh)
            #expect(guides.count == 1)
            try await node.database.execute("TRUNCATE catalogue_items")
            try await Self.eventually("the TRUNCATE heard") { guides.count == 0 }

            // Stopped, it serves nothing.
            running.cancel()
            _ = try? await running.value
            #expect(guides.fillToken() == nil)
        }
    }

    @Test("GetItem serves the current guide from memory, a given version from the database; the publisher reads its new version back at once")
    func getItemOverRPC() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            // Kept: a change the trigger does not see (its trigger disabled for one statement)
            // does not show in the current guide, but does in a given version's. The service's
            // cache listens from the service's start and reads through until then: try again
            // until a guide read while listening was kept.
            var first = Intake_GetItemResponse()
            var servedFromMemory = false
            for attempt in 0..<50 where !servedFromMemory {
                first = try await node.intake.getItem(.with { $0.implementationCode = Self.food })
                try await node.database.withTransaction { transaction in
                    try await transaction.execute("ALTER TABLE catalogue_items DISABLE TRIGGER catalogue_items_changed")
                    try await transaction.execute("UPDATE catalogue_items SET change_note = \("unheard \(attempt)") WHERE implementation_code = \(Self.food)")
                    try await transaction.execute("ALTER TABLE catalogue_items ENABLE TRIGGER catalogue_items_changed")
                }
                let again = try await node.intake.getItem(.with { $0.implementationCode = Self.food })
                servedFromMemory = again.item.changeNote == first.item.changeNote
                if !servedFromMemory { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(servedFromMemory, "the current guide came from memory")
            #expect(first.item.version == 1)
            let given = try await node.intake.getItem(.with { $0.implementationCode = Self.food; $0.version = 1 })
            #expect(given.item.changeNote.hasPrefix("unheard"))

            var item = first.item
            item.promisedDays = 3
            let published = try await node.intake.upsertItem(.with { $0.item = item; $0.changeNote = "承诺时限压缩为3个工作日" }, metadata: try node.operatorToken)
            #expect(published.item.version == 2)
            let after = try await node.intake.getItem(.with { $0.implementationCode = Self.food })
            #expect(after.item.version == 2 && after.versions == [1, 2])

            // The code is checked at the edge, by name.
            await #expect { _ = try await node.intake.getItem(.with { $0.implementationCode = String(repeating: "9", count: 65) }) } throws: { error in
                (error as? RPCError)?.code == .invalidArgument && (error as? RPCError)?.message.contains("implementation_code") == true
            }
        }
    }
}
