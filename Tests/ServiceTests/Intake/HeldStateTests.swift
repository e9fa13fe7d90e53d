import Foundation
import GRPCCore
import IntakeRules
import OneSealCore
import OneSealProto
import OneSealStore
import Testing
@testable import IntakeService

/// A change's read FOR UPDATE leaves out the state this process holds for the locked row version
/// (`ApplicationStore.heldStates`, #21 step 16), and only for that version.
@Suite("Intake: states held for the next change", .serialized)
struct HeldStateTests {
    static let food = IntakeServiceTests.food
    static let monday = IntakeServiceTests.monday

    struct RolledBack: Error {}

    /// Two submitted applications: the first is changed, the second's state stands in for a held
    /// state the database does not have (a read that used it shows it was not sent).
    static func twoApplications(_ node: IntakeNode) async throws -> (StoredApplication, StoredApplication) {
        try await node.publishSampleCatalogue()
        var stored: [StoredApplication] = []
        for applicant in [Fixtures.company, Fixtures.person] {
            let submitted = try await node.intake.submitApplication(try Fixtures.submit([food], applicant: applicant), metadata: try node.clerk)
            let id = try #require(UUID(uuidString: submitted.application.applicationID))
            stored.append(try #require(try await node.database.withConnection { try await ApplicationStore.find(id: id, on: $0) }))
        }
        return (stored[0], stored[1])
    }

    static func copy(of application: StoredApplication, state: ApplicationState) -> StoredApplication {
        var copy = application
        copy.state = state
        return copy
    }

    static func lockedRead(_ id: UUID, _ node: IntakeNode) async throws -> StoredApplication {
        try await node.database.withTransaction { try #require(try await ApplicationStore.find(id: id, forUpdate: true, on: $0)) }
    }

    @Test("the row version this process wrote is read without its state; any other version with it")
    func heldVersionOnly() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            let (first, second) = try await Self.twoApplications(node)
            // The submit remembered what it wrote, at the row's revision.
            let held = try #require(ApplicationStore.heldStates.entry(first.id))
            #expect(held.revision == first.revision)
            #expect(held.value.state == first.state)

            // Holding another state for the same row version: the locked read uses it, so the
            // server did not send the state.
            ApplicationStore.heldStates.remember(first.id, revision: held.revision, writer: held.writer, value: Self.copy(of: first, state: second.state))
            #expect(try await Self.lockedRead(first.id, node).state == second.state)

            // The same revision written by another transaction (by hand, as another process would):
            // the state comes from the row.
            try await node.database.execute("UPDATE applications SET state = state WHERE id = \(first.id)")
            #expect(try await Self.lockedRead(first.id, node).state == first.state)

            // Held for another revision of the same writer: read in full.
            let written = try await node.database.query("SELECT xmin::text AS x FROM applications WHERE id = \(first.id)").one().decode("x", as: String.self)
            ApplicationStore.heldStates.remember(first.id, revision: first.revision + 1, writer: written, value: Self.copy(of: first, state: second.state))
            #expect(try await Self.lockedRead(first.id, node).state == first.state)

            // Nothing held: read in full.
            ApplicationStore.heldStates.forgetAll()
            #expect(try await Self.lockedRead(first.id, node).state == first.state)
        }
    }

    @Test("a write rolled back is never taken for the same revision another transaction committed")
    func rolledBackWrite() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            let (first, second) = try await Self.twoApplications(node)
            // This process writes revision + 1 with another state, and the transaction rolls back.
            var changed = first
            changed.state = second.state
            changed.revision += 1
            await #expect(throws: RolledBack.self) {
                try await node.database.withTransaction { transaction in
                    try await ApplicationStore.update(changed, steps: [], node: "371302", events: [], in: transaction)
                    throw RolledBack()
                }
            }
            #expect(ApplicationStore.heldStates.entry(first.id)?.revision == first.revision + 1)
            // Another process commits the same revision with the state unchanged.
            try await node.database.execute("UPDATE applications SET revision = \(first.revision + 1) WHERE id = \(first.id)")
            let read = try await Self.lockedRead(first.id, node)
            #expect(read.revision == first.revision + 1)
            #expect(read.state == first.state)
        }
    }

    @Test("a change after a change reads the state it wrote, and the application moves on as before")
    func changesInARow() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            let (first, _) = try await Self.twoApplications(node)
            let accepted = try await node.intake.accept(Intake_AcceptRequest.with { $0.applicationID = first.id.uuidString.lowercased() }, metadata: try node.clerk)
            #expect(accepted.application.status == .accepted)
            let held = try #require(ApplicationStore.heldStates.entry(first.id))
            let stored = try #require(try await node.database.withConnection { try await ApplicationStore.find(id: first.id, on: $0) })
            #expect(held.revision == stored.revision)
            #expect(held.value.state == stored.state)
            #expect(try await Self.lockedRead(first.id, node).state == stored.state)
        }
    }

    /// The held copy of `application` with a mark the stored row does not have (a delivery
    /// preference), so a write shows whether it started from the copy or from the row.
    static func markedCopy(of application: StoredApplication) throws -> StoredApplication {
        var copy = application
        guard case .success(let window) = DeliveryChoice.make(method: .window, address: nil) else { throw RolledBack() }
        _ = try copy.state.chooseDelivery(window, current: nil, at: Date())
        return copy
    }

    @Test("a change starts from the copy this process holds, without reading the row (step 17)")
    func changeFromHeldCopy() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            let (first, second) = try await Self.twoApplications(node)
            let held = try #require(ApplicationStore.heldStates.entry(first.id))
            #expect(held.value.state.deliveryPreference == nil)
            #expect(held.isCommitted)
            // A copy whose write is not known to have committed is not started from: the row is
            // read and locked (what it answers carries no held writer); once committed, it is.
            func startsFromCopy(_ id: UUID) async throws -> Bool {
                try await node.database.withTransaction { try #require(try await ApplicationStore.findForChange(id: id, on: $0)) }.heldWriter != nil
            }
            let secondHeld = try #require(ApplicationStore.heldStates.entry(second.id))
            #expect(try await startsFromCopy(second.id))
            ApplicationStore.heldStates.remember(second.id, revision: secondHeld.revision, writer: secondHeld.writer, value: secondHeld.value)
            #expect(try await !startsFromCopy(second.id))
            ApplicationStore.heldStates.committed(second.id, writer: secondHeld.writer)
            #expect(try await startsFromCopy(second.id))
            ApplicationStore.heldStates.remember(first.id, revision: held.revision, writer: held.writer, value: try Self.markedCopy(of: held.value))
            // Remembered by hand, as a write does before its COMMIT: not yet a copy to start from.
            #expect(ApplicationStore.heldStates.entry(first.id)?.isCommitted == false)
            ApplicationStore.heldStates.committed(first.id, writer: held.writer)
            let accepted = try await node.intake.accept(Intake_AcceptRequest.with { $0.applicationID = first.id.uuidString.lowercased() }, metadata: try node.clerk)
            #expect(accepted.application.status == .accepted)
            ApplicationStore.heldStates.forgetAll()
            let stored = try #require(try await node.database.withConnection { try await ApplicationStore.find(id: first.id, on: $0) })
            // The mark reached the row: the change was made on the copy, which was the row's version.
            #expect(stored.state.deliveryPreference?.method == .window)
            #expect(stored.revision == first.revision + 1)
            #expect(stored.status == .accepted)
        }
    }

    @Test("a held copy the row has moved on from is not written: the change runs again on the stored row")
    func heldCopySuperseded() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            let (first, second) = try await Self.twoApplications(node)
            let held = try #require(ApplicationStore.heldStates.entry(first.id))
            ApplicationStore.heldStates.remember(first.id, revision: held.revision, writer: held.writer, value: try Self.markedCopy(of: held.value))
            ApplicationStore.heldStates.committed(first.id, writer: held.writer)
            // Another process writes the row (same revision, another row version).
            try await node.database.execute("UPDATE applications SET state = state WHERE id = \(first.id)")
            let accepted = try await node.intake.accept(Intake_AcceptRequest.with { $0.applicationID = first.id.uuidString.lowercased() }, metadata: try node.clerk)
            #expect(accepted.application.status == .accepted)
            let stored = try #require(try await node.database.withConnection { try await ApplicationStore.find(id: first.id, on: $0) })
            // Run again on the stored row: the copy's mark is not there, and one revision was added.
            #expect(stored.state.deliveryPreference == nil)
            #expect(stored.revision == first.revision + 1)
            #expect(stored.status == .accepted)
            // Nothing of the refused write stayed: the same steps as an acceptance made at once.
            _ = try await node.intake.accept(Intake_AcceptRequest.with { $0.applicationID = second.id.uuidString.lowercased() }, metadata: try node.clerk)
            func steps(_ id: UUID) async throws -> Int {
                try await node.database.query("SELECT count(*) AS n FROM application_steps WHERE application_id = \(id)").one().decode("n", as: Int.self)
            }
            #expect(try await steps(first.id) == steps(second.id))
        }
    }

    @Test("a refusal made on a held copy is confirmed on the stored row: the row at the caller's revision is changed")
    func refusalConfirmedOnStoredRow() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            let (first, _) = try await Self.twoApplications(node)
            // Another process moved the row to the next revision; this process still holds the earlier one.
            try await node.database.execute("UPDATE applications SET revision = revision + 1 WHERE id = \(first.id)")
            #expect(ApplicationStore.heldStates.entry(first.id)?.revision == first.revision)
            // The clerk read the current revision: on the held copy the revisions differ (a refusal),
            // on the stored row they agree.
            let accepted = try await node.intake.accept(Intake_AcceptRequest.with {
                $0.applicationID = first.id.uuidString.lowercased()
                $0.expectedRevision = first.revision + 1
            }, metadata: try node.clerk)
            #expect(accepted.application.status == .accepted)
            #expect(accepted.application.revision == first.revision + 2)
            // And a refusal the stored row agrees with is answered as before.
            await #expect(throws: RPCError.self) {
                _ = try await node.intake.accept(Intake_AcceptRequest.with { $0.applicationID = first.id.uuidString.lowercased() }, metadata: try node.clerk)
            }
        }
    }
}
