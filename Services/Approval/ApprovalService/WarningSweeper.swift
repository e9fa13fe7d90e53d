import ApprovalRules
import Foundation
import Logging
import Metrics
import OneSealCore
import OneSealServiceKit
import OneSealStore
import ServiceLifecycle

/// Raises the early warnings of running cases (docs/law.md#approval-period-and-the-one-extension): yellow when the configured number of
/// working days or fewer is left (node setting `approval.yellow_days_before`), red once overdue.
/// Each level change is written once: the case's warning column, an audit entry and a
/// CaseWarningChanged event to evaluation.
///
/// Safe with several replicas: candidates are locked with `FOR UPDATE SKIP LOCKED`, found by the
/// stored `yellow_on`/`due_on` dates (so only cases whose level can have changed are read).
public struct WarningSweeper: Service {
    let api: ApprovalAPI
    let interval: Duration
    let batchSize: Int

    public init(api: ApprovalAPI, interval: Duration = .seconds(300), batchSize: Int = 100) {
        self.api = api
        self.interval = interval
        self.batchSize = batchSize
    }

    public func run() async throws {
        await repeatUntilShutdown(every: interval, logger: api.logger, failure: "warning sweep failed; will retry") {
            let count = try await sweepOnce()
            if count > 0 { api.logger.notice("warning levels changed", metadata: ["cases": "\(count)"]) }
            try await recordGauges()
        }
    }

    /// `oneseal_approval_running_cases{warning=normal|yellow|red}` and
    /// `oneseal_approval_suspended_cases` for the metrics endpoint (docs/operators.md#metrics-and-liveness: overdue cases).
    func recordGauges() async throws {
        let rows = try await api.database.query("SELECT warning, count(*)::int8 AS n FROM cases WHERE status = 'in_progress' GROUP BY warning")
        var counts = ["normal": 0, "yellow": 0, "red": 0]
        for row in rows { counts[try row.decode("warning", as: String.self)] = try row.decode("n", as: Int.self) }
        for (level, count) in counts {
            Gauge(label: "oneseal_approval_running_cases", dimensions: [("warning", level)]).record(count)
        }
        let suspended = try await api.database.query("SELECT count(*)::int8 AS n FROM cases WHERE status = 'suspended'").one().decode("n", as: Int.self)
        Gauge(label: "oneseal_approval_suspended_cases").record(suspended)
    }

    /// One pass; returns how many cases changed level.
    @discardableResult
    public func sweepOnce() async throws -> Int {
        var total = 0
        var seen: [UUID] = []
        while true {
            let today = api.today.iso8601
            let (count, changed, ids) = try await api.database.withTransaction { transaction -> (Int, Int, [UUID]) in
                let rows = try await transaction.query("""
                    SELECT \(unescaped: CaseStore.columns) FROM cases
                    WHERE status = 'in_progress' AND NOT (id = ANY(\(SQLArray(seen))))
                      AND ((due_on < \(today)::date AND warning <> 'red') OR (yellow_on <= \(today)::date AND warning = 'normal'))
                    ORDER BY due_on, id
                    LIMIT \(batchSize)
                    FOR UPDATE SKIP LOCKED
                    """)
                var changed = 0
                var ids: [UUID] = []
                for row in rows {
                    let stored = try CaseStore.decode(row)
                    ids.append(stored.id)
                    let before = stored.state.reportedWarning
                    let after = try await api.store(stored, by: .system("warning-sweeper", node: api.node), { state, _ in
                        ApprovalAPI.Change("clock.warning", ["from": before.rawValue])
                    }, in: transaction)
                    if after.state.reportedWarning != before {
                        changed += 1
                        api.logger.info("case warning", metadata: ["case": "\(stored.state.caseNumber)", "level": "\(after.state.reportedWarning.rawValue)"])
                    }
                }
                return (rows.count, changed, ids)
            }
            total += changed
            seen += ids
            if count < batchSize { return total }
        }
    }
}
