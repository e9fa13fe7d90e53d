import CertificateRules
import Foundation
import Logging
import OneSealServiceKit
import OneSealStore
import ServiceLifecycle

/// Integrates queued log entries into the Merkle tree in batches and signs a new tree head, often
/// enough that every entry is in a signed head within the maximum merge delay (the promise each
/// licence carries in `log_integrate_by`). Safe with replicas: the batch runs under an advisory lock.
public struct LogIntegrator: Service {
    let api: CertificateAPI
    let interval: Duration

    /// `interval` defaults to a quarter of the maximum merge delay.
    public init(api: CertificateAPI, interval: Duration? = nil) {
        self.api = api
        self.interval = interval ?? api.settings.maximumMergeDelay / 4
    }

    public func run() async throws {
        await repeatUntilShutdown(every: interval, waitFirst: true, logger: api.logger, failure: "log integration failed; will retry") {
            try await integrateAll()
        }
    }

    /// Integrates everything queued now; returns the number of entries.
    @discardableResult
    public func integrateAll() async throws -> Int {
        guard let seals = api.seals else { return 0 }  // nothing can have been issued without a key
        var total = 0
        while true {
            let count = try await TransparencyLog.integrate(
                on: api.database, node: api.node, key: seals.current, batchSize: api.settings.logBatchSize, now: api.clock)
            total += count
            if count < api.settings.logBatchSize { return total }
        }
    }
}

/// Expiry by date: once a licence's last valid day has passed, the change is logged and announced
/// (intake, supervision, evaluation) like a revocation. Hourly; safe with replicas (`SKIP LOCKED`).
public struct ExpirySweeper: Service {
    let api: CertificateAPI
    let interval: Duration

    public init(api: CertificateAPI, interval: Duration = .seconds(3600)) {
        self.api = api
        self.interval = interval
    }

    public func run() async throws {
        await repeatUntilShutdown(every: interval, logger: api.logger, failure: "expiry sweep failed; will retry") {
            let count = try await sweepOnce()
            if count > 0 { api.logger.notice("licences expired", metadata: ["count": "\(count)"]) }
        }
    }

    @discardableResult
    public func sweepOnce(batchSize: Int = 100) async throws -> Int {
        var total = 0
        while true {
            let today = api.today
            let count = try await api.database.withTransaction { transaction in
                let rows = try await transaction.query("""
                    SELECT \(unescaped: LicenceStore.columns) FROM licences
                    WHERE NOT expiry_announced AND act IS NULL AND valid_until < \(today.iso8601)::date
                    ORDER BY valid_until, id LIMIT \(batchSize) FOR UPDATE SKIP LOCKED
                    """)
                for row in rows {
                    let licence = try LicenceStore.decode(row)
                    let content = try api.openContent(licence)
                    try await TransparencyLog.enqueue(
                        TransparencyLog.entry(kind: .statusChanged, identifier: licence.identifier, content: content, signature: licence.signature, status: .expired, at: api.clock()),
                        licence: licence.id, in: transaction)
                    try await api.announceStatus(licence, content: content, previous: .valid, status: .expired, in: transaction)
                    try await transaction.execute("UPDATE licences SET expiry_announced = true WHERE id = \(licence.id)")
                }
                return rows.count
            }
            total += count
            if count < batchSize { return total }
        }
    }
}
