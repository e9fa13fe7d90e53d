import Foundation
import IntakeRules
import Logging
import OneSealCore
import OneSealServiceKit
import OneSealStore
import ServiceLifecycle

/// Art. 32: an application left without an intake decision past its 5 working days is accepted
/// from the day of receipt. The sweeper finds such applications and records the deemed
/// acceptance (receipt, approval cases, events) exactly as a clerk's acceptance would.
///
/// Safe with several replicas: each batch locks its rows with `FOR UPDATE SKIP LOCKED`, so two
/// sweepers never take the same application, and the state machine refuses a second acceptance.
public struct DeemedAcceptanceSweeper: Service {
    let api: IntakeAPI
    let interval: Duration
    let batchSize: Int

    public init(api: IntakeAPI, interval: Duration = .seconds(60), batchSize: Int = 50) {
        self.api = api
        self.interval = interval
        self.batchSize = batchSize
    }

    public func run() async throws {
        await repeatUntilShutdown(every: interval, logger: api.logger, failure: "deemed-acceptance sweep failed; will retry") {
            let count = try await sweepOnce()
            if count > 0 { api.logger.notice("deemed acceptance", metadata: ["applications": "\(count)"]) }
        }
    }

    /// One pass over every overdue application; returns how many were deemed accepted.
    @discardableResult
    public func sweepOnce() async throws -> Int {
        var total = 0
        while true {
            let today = api.today
            let count = try await api.database.withTransaction { transaction in
                let rows = try await transaction.query("""
                    SELECT \(unescaped: ApplicationStore.columns) FROM applications
                    WHERE status = 'submitted' AND intake_deadline < \(today.iso8601)::date
                    ORDER BY intake_deadline, id
                    LIMIT \(batchSize)
                    FOR UPDATE SKIP LOCKED
                    """)
                for row in rows {
                    let application = try await ApplicationStore.decode(row, on: transaction)
                    _ = try await api.store(application, changedBy: { application, transaction in
                        try application.state.apply(.deemAccept(today: today), calendar: api.calendar)
                        return try await api.accepted(&application, by: nil, note: "", in: transaction)
                    }, in: transaction)
                    api.logger.info("deemed accepted", metadata: ["application": "\(application.number)", "received_on": "\(application.state.intakeClockStartedOn)"])
                }
                return rows.count
            }
            total += count
            if count < batchSize { return total }
        }
    }
}
