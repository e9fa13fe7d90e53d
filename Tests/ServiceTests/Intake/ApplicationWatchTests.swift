import Foundation
import GRPCCore
import Logging
import OneSealAuth
import OneSealCore
import OneSealProto
import OneSealStore
import OneSealWire
import Testing
@testable import IntakeService

/// WatchApplication (#21): what a waiting front-end uses instead of polling GetApplication.
@Suite("Intake application watches", .serialized)
struct ApplicationWatchTests {
    static let food = IntakeServiceTests.food
    static let monday = IntakeServiceTests.monday

    /// The views one watch sends, until `enough` of them or the stream ends.
    static func views(
        _ intake: Intake_IntakeService.Client<OneSealClientTransport>, _ request: Intake_WatchApplicationRequest,
        as metadata: Metadata, enough: Int = .max
    ) async throws -> [Intake_Application] {
        try await intake.watchApplication(request, metadata: metadata) { response in
            var views: [Intake_Application] = []
            for try await message in response.messages {
                views.append(message.application)
                if views.count == enough { break }
            }
            return views
        }
    }

    @Test("a view at once, then one per change; the stream ends after a final status; who may watch is who may read; bad fields named")
    func watchOverRPC() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let clerk = try node.clerk
            let intake = node.intake
            let submitted = try await intake.submitApplication(try Fixtures.submit([Self.food]), metadata: clerk).application
            let id = submitted.applicationID

            // From the revision the clerk already shows, the watch waits for the next change.
            let watching = Task {
                try await Self.views(intake, .with { $0.applicationID = id; $0.knownRevision = submitted.revision; $0.maxWaitSeconds = 120 }, as: clerk, enough: 1)
            }
            let accepted = try await intake.accept(.with { $0.applicationID = id }, metadata: clerk).application
            let told = try await watching.value
            #expect(told.map(\.revision) == [accepted.revision] && told.first?.status == .accepted)
            // In full to the clerk (the read is logged, purpose "watch").
            #expect(told.first?.applicant.idNumber == submitted.applicant.idNumber && !(told.first?.queryCode.isEmpty ?? true))
            let logged = try await node.database.query("SELECT count(*)::int8 AS n FROM personal_data_reads WHERE purpose = 'watch'").one().decode("n", as: Int.self)
            #expect(logged == 1)

            // Without a known revision: the current view at once.
            let now = try await Self.views(intake, .with { $0.applicationID = id; $0.maxWaitSeconds = 120 }, as: clerk, enough: 1)
            #expect(now.map(\.status) == [.accepted])

            // A final status ends the stream by itself: a second application, withdrawn while watched.
            let other = try await intake.submitApplication(try Fixtures.submit([Self.food]), metadata: clerk).application
            let untilEnd = Task {
                try await Self.views(intake, .with { $0.applicationID = other.applicationID; $0.maxWaitSeconds = 120 }, as: clerk)
            }
            // Withdrawn once the watch has sent its first view (or not: either way the last view is final).
            _ = try await intake.withdrawApplication(.with { $0.applicationID = other.applicationID; $0.reason = "申请人撤回" }, metadata: clerk)
            let ended = try await untilEnd.value
            #expect(ended.last?.status == .withdrawn && ended.count <= 2)

            // A time limit ends it too (OK, no view when nothing changed).
            let quiet = try await Self.views(intake, .with { $0.applicationID = id; $0.knownRevision = accepted.revision; $0.maxWaitSeconds = 1 }, as: clerk)
            #expect(quiet.isEmpty)
            // One read-log row per view sent — the first read's (in its transaction) and the later
            // ones' (in the read's own statement) alike — and none for a read that sent nothing.
            let rows = try await node.database.query(
                "SELECT count(*)::int8 AS n, count(DISTINCT subject)::int8 AS readers FROM personal_data_reads WHERE purpose = 'watch'").one()
            #expect(try rows.decode("n", as: Int.self) == 2 + ended.count)
            #expect(try rows.decode("readers", as: Int.self) == 1)

            // Another applicant may not read it, so may not watch it.
            let stranger = try node.metadata(.applicant, subject: IntakeSafetyTests.otherPerson)
            await #expect { _ = try await Self.views(intake, .with { $0.applicationID = id }, as: stranger) } throws: {
                rpcFailure($0)?.code == .permissionDenied
            }
            // Bad fields are named, before any watch is opened.
            await #expect {
                _ = try await Self.views(intake, .with { $0.applicationID = id; $0.knownRevision = -1; $0.maxWaitSeconds = 3601 }, as: clerk)
            } throws: { rpcFailure($0)?.fields.sorted() == ["known_revision", "max_wait_seconds"] }
            await #expect { _ = try await Self.views(intake, .with { $0.applicationID = "not-an-id" }, as: clerk) } throws: {
                rpcFailure($0)?.fields == ["application_id"]
            }
            await #expect { _ = try await Self.views(intake, .with { $0.applicationID = UUID().uuidString }, as: clerk) } throws: {
                rpcFailure($0)?.code == .notFound
            }
        }
    }

    @Test("the trigger's NOTIFY wakes the watch of that application only; the limit refuses more; shutdown ends every watch")
    func notificationsWakeWatches() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let submitted = try await node.intake.submitApplication(try Fixtures.submit([Self.food]), metadata: try node.clerk).application
            let id = try #require(UUID(uuidString: submitted.applicationID))
            let watches = ApplicationWatches(database: node.database, limit: 2, logger: Logger(label: "test.watches"))
            // Opened before the run loop starts, so its first LISTEN wakes both (below).
            let watch = try watches.open(id)
            let bystander = try watches.open(UUID())
            let running = Task { try await watches.run() }
            defer { running.cancel() }
            #expect(watches.count == 2)
            await #expect { _ = try watches.open(id) } throws: { ($0 as? RPCError)?.code == .resourceExhausted }

            // The run loop wakes every watch once LISTEN is active (whatever changed before is read
            // again): after both wake-ups LISTEN is on, and a revision bump in SQL — any write
            // path — wakes this one.
            let clock = ContinuousClock()
            await watch.wake.wait(timeout: .seconds(60))
            await bystander.wake.wait(timeout: .seconds(60))
            let start = clock.now
            try await node.database.execute("UPDATE applications SET revision = revision + 1 WHERE id = \(id)")
            await watch.wake.wait(timeout: .seconds(60))
            #expect(clock.now - start < .seconds(30), "woken by the NOTIFY, not by the 60 s timeout")
            // A write that does not move the revision notifies nobody; the bystander was not woken.
            try await node.database.execute("UPDATE applications SET updated_at = updated_at WHERE id = \(id)")
            let quiet = clock.now
            await bystander.wake.wait(timeout: .seconds(2))
            #expect(clock.now - quiet >= .seconds(2))

            watches.close(bystander)
            #expect(watches.count == 1)
            watches.shutdown()
            #expect(watch.wake.isShutdown)
            await #expect { _ = try watches.open(id) } throws: { ($0 as? RPCError)?.code == .unavailable }
            watches.close(watch)
            #expect(watches.count == 0)
        }
    }

    @Test("a change written by this process hands the view over, its read logged in the writing transaction; a write elsewhere is read as before")
    func viewsHandedOverByTheWrite() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let clerk = try node.clerk
            let intake = node.intake
            let submitted = try await intake.submitApplication(try Fixtures.submit([Self.food]), metadata: clerk).application
            let id = try #require(UUID(uuidString: submitted.applicationID))
            /// Whether the newest watch read-log row was written by the transaction that last wrote the application.
            @Sendable func loggedByTheWrite() async throws -> Bool {
                try await node.database.query("""
                    SELECT r.xmin::text = a.xmin::text AS same FROM personal_data_reads r, applications a
                    WHERE r.purpose = 'watch' AND a.id = \(id) ORDER BY r.seq DESC LIMIT 1
                    """).one().decode("same", as: Bool.self)
            }
            let request = Intake_WatchApplicationRequest.with { $0.applicationID = submitted.applicationID; $0.maxWaitSeconds = 120 }
            let views = try await intake.watchApplication(request, metadata: clerk) { response in
                var messages = response.messages.makeAsyncIterator()
                // The first view is read (and logged) by the watch itself; the watch now reads.
                let first = try #require(try await messages.next()).application
                #expect(try await !loggedByTheWrite())
                // The clerk's acceptance, written by this process: the view is handed over.
                _ = try await intake.accept(.with { $0.applicationID = submitted.applicationID }, metadata: clerk)
                let second = try #require(try await messages.next()).application
                #expect(try await loggedByTheWrite(), "the read was logged by the acceptance's own transaction")
                // A write by hand (another process, a repair): its NOTIFY names a transaction
                // that handed nothing over, so the watch reads — and logs — as before.
                try await node.database.execute("UPDATE applications SET revision = revision + 1 WHERE id = \(id)")
                let third = try #require(try await messages.next()).application
                #expect(try await !loggedByTheWrite())
                return [first, second, third]
            }
            #expect(views.map(\.revision) == [submitted.revision, submitted.revision + 1, submitted.revision + 2])
            #expect(views[1].status == .accepted && views[1].applicant.idNumber == submitted.applicant.idNumber)
            let logged = try await node.database.query("SELECT count(*)::int8 AS n FROM personal_data_reads WHERE purpose = 'watch'").one().decode("n", as: Int.self)
            #expect(logged == 3, "one row per view sent, none twice")
        }
    }

    @Test("a handed state is sent only once a NOTIFY names the transaction that wrote it; a rolled-back write's never")
    func handedStateWaitsForItsCommit() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let submitted = try await node.intake.submitApplication(try Fixtures.submit([Self.food]), metadata: try node.clerk).application
            let id = try #require(UUID(uuidString: submitted.applicationID))
            let application = try #require(try await node.database.withConnection { try await ApplicationStore.find(id: id, on: $0) })
            let watches = ApplicationWatches(database: node.database, logger: Logger(label: "test.watches"))
            let watch = try watches.open(id)
            let unread = try watches.open(id)
            // Only a watch that has read its application may be handed a state.
            let entry = ApplicationStore.ReadLogEntry(subject: "clerk-1", role: "window_clerk", node: "371302", purpose: "watch")
            watches.reading(watch, as: entry)
            #expect(watches.readers(of: id).map(\.number) == [watch.number])
            #expect(watches.readers(of: id).first?.entry?.subject == "clerk-1")
            watches.handOff(application, transaction: "1001", to: [watch.number, unread.number])
            #expect(watches.takeHanded(watch) == nil, "not yet known to have committed")
            // Another transaction's NOTIFY (the handing write rolled back; someone else wrote).
            watches.changed("\(id.uuidString.lowercased()):1002")
            #expect(watches.takeHanded(watch) == nil)
            // The migration-0009 form only wakes.
            watches.changed(id.uuidString.lowercased())
            #expect(watches.takeHanded(watch) == nil)
            watches.handOff(application, transaction: "1003", to: [watch.number])
            watches.changed("\(id.uuidString.lowercased()):1003")
            #expect(watches.takeHanded(watch)?.revision == application.revision)
            #expect(watches.takeHanded(watch) == nil, "taken once")
            #expect(watches.takeHanded(unread) == nil)
            // Malformed payloads are ignored.
            watches.changed("not-a-notification")
            watches.changed(String(repeating: "x", count: 100))
            watches.close(watch)
            watches.close(unread)
            #expect(watches.readers(of: id).isEmpty && watches.count == 0)
        }
    }

    @Test("a watch opened at the revision this process just wrote reads nothing first; one opened after a write elsewhere reads and sends it")
    func firstReadSparedAfterOwnWrite() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let clerk = try node.clerk
            let intake = node.intake
            let submitted = try await intake.submitApplication(try Fixtures.submit([Self.food]), metadata: clerk).application
            let accepted = try await intake.accept(.with { $0.applicationID = submitted.applicationID }, metadata: clerk).application
            // Let the acceptance's NOTIFY arrive (the watch would otherwise wait for it briefly).
            try await Task.sleep(for: .milliseconds(200))
            // With the applications table locked, a read would wait for the lock: while it is
            // held, no backend waits on the table, so the watch read nothing. (When its time is up
            // the watch reads once more, as every watch does, after the lock is gone.)
            let (watching, waiting) = try await node.database.withTransaction { transaction in
                try await transaction.execute("LOCK TABLE applications IN ACCESS EXCLUSIVE MODE")
                let watching = Task {
                    try await Self.views(intake, .with {
                        $0.applicationID = submitted.applicationID; $0.knownRevision = accepted.revision; $0.maxWaitSeconds = 2
                    }, as: clerk)
                }
                try await Task.sleep(for: .milliseconds(700))
                let waiting = try await node.database.query(
                    "SELECT count(*)::int8 AS n FROM pg_locks WHERE NOT granted AND relation = 'applications'::regclass").one().decode("n", as: Int.self)
                return (watching, waiting)
            }
            #expect(waiting == 0, "the watch did not read the locked table")
            let views = try await watching.value
            #expect(views.isEmpty)
            // Another applicant is still refused, on the same known state.
            let stranger = try node.metadata(.applicant, subject: IntakeSafetyTests.otherPerson)
            await #expect {
                _ = try await Self.views(intake, .with { $0.applicationID = submitted.applicationID; $0.knownRevision = accepted.revision; $0.maxWaitSeconds = 1 }, as: stranger)
            } throws: { rpcFailure($0)?.code == .permissionDenied }

            // A write elsewhere (by hand): its NOTIFY makes the process forget what it wrote, so a
            // watch from the revision the clerk holds reads and sends the newer one at once.
            let id = try #require(UUID(uuidString: submitted.applicationID))
            try await node.database.execute("UPDATE applications SET revision = revision + 1 WHERE id = \(id)")
            try await Task.sleep(for: .milliseconds(200))
            let newer = try await Self.views(intake, .with {
                $0.applicationID = submitted.applicationID; $0.knownRevision = accepted.revision; $0.maxWaitSeconds = 1
            }, as: clerk)
            #expect(newer.map(\.revision) == [accepted.revision + 1])
        }
    }
}
