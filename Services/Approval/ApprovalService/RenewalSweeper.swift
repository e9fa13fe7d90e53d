import ApprovalRules
import Foundation
import OneSealCore
import OneSealServiceKit
import OneSealStore
import ServiceLifecycle

/// Grants by law the renewals nobody decided in time (视为准予延续, 行政许可法 Art. 50 ¶2;
/// docs/law.md#renewal). A renewal case must be decided by the renewed licence's last valid day;
/// from the day after, the sweeper records the grant as the renewal sweeper (not a person), with a
/// numbered 准予延续 document, and CaseDecided goes out as for any grant, so the certificate
/// service issues the licence's next version with the new validity and logs it.
///
/// Safe with several replicas and safe to repeat: candidates are found by the stored
/// `renewal_due_on` (set only while a renewal case is open) and locked `FOR UPDATE SKIP LOCKED`; a
/// case another replica already decided is no longer open and is skipped by the rules.
public struct RenewalSweeper: Service {
    let api: ApprovalAPI
    let interval: Duration
    let batchSize: Int

    public init(api: ApprovalAPI, interval: Duration = .seconds(300), batchSize: Int = 50) {
        self.api = api
        self.interval = interval
        self.batchSize = batchSize
    }

    public func run() async throws {
        await repeatUntilShutdown(every: interval, logger: api.logger, failure: "renewal sweep failed; will retry") {
            let count = try await sweepOnce()
            if count > 0 { api.logger.notice("renewals granted by law (Art. 50)", metadata: ["cases": "\(count)"]) }
        }
    }

    /// One pass; returns how many renewals were deemed granted.
    @discardableResult
    public func sweepOnce() async throws -> Int {
        var total = 0
        while true {
            let today = api.today
            let now = api.clock()
            let (count, granted) = try await api.database.withTransaction { transaction -> (Int, Int) in
                let rows = try await transaction.query("""
                    SELECT \(unescaped: CaseStore.columns) FROM cases
                    WHERE renewal_due_on < \(today.iso8601)::date AND status IN ('in_progress', 'suspended')
                    ORDER BY renewal_due_on, id
                    LIMIT \(batchSize)
                    FOR UPDATE SKIP LOCKED
                    """)
                var granted = 0
                let actor = CaseActor.system("renewal-sweeper", node: api.node)
                for row in rows {
                    let stored = try CaseStore.decode(row)
                    _ = try await api.store(stored, by: actor, { state, transaction in
                        let serial = try await CaseStore.nextNumber(scope: "document:\(api.node):许准:\(today.year)", in: transaction)
                        let deemed = try state.deemRenewalGranted(on: today, at: now, by: actor, calendar: api.calendar) { state, record in
                            api.decisionDocument(serial: serial, state: state, record: record)
                        }
                        guard deemed, let decision = state.decision else {
                            // Not due after all (a clock moved back): give the number back and leave it.
                            try await transaction.execute("UPDATE number_counters SET last = last - 1 WHERE scope = \("document:\(api.node):许准:\(today.year)") AND last = \(serial)")
                            return ApprovalAPI.Change("renewal.checked", ["renewal_due_on": state.renewal?.window.decisionDueBy.iso8601 ?? ""])
                        }
                        granted += 1
                        api.logger.info("renewal deemed granted", metadata: ["case": "\(state.caseNumber)", "licence": "\(state.renewal?.licenceIdentifier ?? "")"])
                        return ApprovalAPI.Change("case.decided", [
                            "outcome": "grant", "deemed_renewal": "true", "document": decision.document?.number ?? "",
                            "licence_identifier": state.renewal?.licenceIdentifier ?? "", "valid_until": state.renewal?.window.validUntil.iso8601 ?? "",
                        ], events: try await api.decidedEvents(state, id: stored.id, in: transaction))
                    }, in: transaction)
                }
                return (rows.count, granted)
            }
            total += granted
            // Every row taken is closed or no longer due, so the next batch holds other cases.
            if count < batchSize || granted == 0 { return total }
        }
    }
}
