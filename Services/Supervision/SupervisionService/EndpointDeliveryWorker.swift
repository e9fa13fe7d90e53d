import Foundation
import GRPCCore
import Logging
import Metrics
import OneSealCore
import OneSealOutbox
import OneSealProto
import OneSealServiceKit
import OneSealStore
import OneSealWire
import ServiceLifecycle
import SupervisionRules

/// Delivers pushes to the departments that receive them on their own `DepartmentInbox/Receive`
/// endpoint: at least once, oldest first, retried with backoff (1 s doubling to 5 min) while the
/// endpoint is down or refuses; the department deduplicates by push id.
///
/// Safe with several replicas: each batch locks one department's undelivered pushes with
/// `FOR UPDATE SKIP LOCKED` for the length of the call (at most `callTimeout`), so two replicas never
/// send the same batch at once, and a replica that dies mid-call releases the rows for the next one.
public struct EndpointDeliveryWorker: Service {
    let api: SupervisionAPI
    let interval: Duration
    let callTimeout: Duration
    let batchSize: Int
    /// This service's `node` token for the call (nil: the call carries none).
    let token: (@Sendable () throws -> String)?

    public init(api: SupervisionAPI, interval: Duration = .seconds(1), callTimeout: Duration = .seconds(10), batchSize: Int = 50, token: (@Sendable () throws -> String)?) {
        self.api = api
        self.interval = interval
        self.callTimeout = callTimeout
        self.batchSize = batchSize
        self.token = token
    }

    public func run() async throws {
        await repeatUntilShutdown(every: interval, logger: api.logger, failure: "endpoint delivery pass failed; will retry") {
            let delivered = try await deliverOnce()
            if delivered > 0 { api.logger.info("pushes delivered to endpoints", metadata: ["pushes": "\(delivered)"]) }
            let waiting = try await api.database.query("""
                SELECT count(*) AS n FROM pushes WHERE delivery = 'endpoint' AND delivered_at IS NULL AND status <> 'rerouted'
                """).one().decode("n", as: Int.self)
            Gauge(label: "oneseal_supervision_endpoint_undelivered_pushes").record(waiting)
        }
    }

    /// One pass: every department with pushes due for (re)delivery gets one call per batch; returns
    /// how many pushes the endpoints acknowledged.
    @discardableResult
    public func deliverOnce() async throws -> Int {
        let now = api.clock()
        let departments = try await api.database.query("""
            SELECT DISTINCT department_code FROM pushes
            WHERE delivery = 'endpoint' AND delivered_at IS NULL AND status <> 'rerouted' AND next_delivery_at <= \(now)
            """).map { try $0.decode("department_code", as: String.self) }
        var delivered = 0
        for code in departments {
            while true {
                let (acknowledged, more) = try await deliverBatch(department: code)
                delivered += acknowledged
                if !more { break }
            }
        }
        return delivered
    }

    /// One call for up to `batchSize` pushes of one department. Returns the acknowledged count and
    /// whether a full batch went through (there may be more).
    func deliverBatch(department code: String) async throws -> (Int, Bool) {
        try await api.database.withTransaction { transaction in
            let now = api.clock()
            let rows = try await transaction.query("""
                SELECT \(unescaped: PushStore.columns) FROM pushes
                WHERE department_code = \(code) AND delivery = 'endpoint' AND delivered_at IS NULL AND status <> 'rerouted' AND next_delivery_at <= \(now)
                ORDER BY pushed_at, id LIMIT \(batchSize)
                FOR UPDATE SKIP LOCKED
                """)
            guard !rows.isEmpty else { return (0, false) }
            var pushes = try rows.map(api.pushStore.decode)
            guard let department = try await api.department(code, on: transaction),
                  let address = SupervisionRules.Department.parseEndpoint(department.department.endpoint) else {
                try await fail(&pushes, error: "department \(code) has no endpoint; set one (UpsertDepartment) or switch it to pull", now: now, in: transaction)
                return (0, false)
            }
            let accepted: Set<String>
            do {
                accepted = try await call(address, pushes: pushes.map { api.view($0) })
            } catch {
                try await fail(&pushes, error: "\(department.department.endpoint): \(error)", now: now, in: transaction)
                api.logger.warning("department endpoint unreachable; will retry", metadata: [
                    "department": "\(code)", "endpoint": "\(department.department.endpoint)", "pushes": "\(pushes.count)", "error": "\(error)",
                ])
                return (0, false)
            }
            let policy = try await api.policy(on: transaction)
            var events: [OutboxEvent] = []
            var acknowledged = 0
            for index in pushes.indices {
                var push = pushes[index]
                push.deliveryAttempts += 1
                if accepted.contains(push.id.uuidString.lowercased()) {
                    push.deliveredAt = now
                    push.nextDeliveryAt = nil
                    push.lastDeliveryError = ""
                    var arrived = push.state
                    try arrived.arrived(on: CivilDate(now), policy: policy, calendar: api.calendar)
                    push.state = arrived
                    if policy.pushedIsClaimed, push.state.status == .pending {
                        var state = push.state
                        try state.autoClaim(at: now)
                        push.state = state
                        push.record.claimedBy = SupervisionAPI.systemActor(node: api.node)
                        push.refreshRecord(today: api.today, calendar: api.calendar)
                        events.append(try api.pushEvent(push.record, .claimed))
                    }
                    acknowledged += 1
                } else {
                    push.nextDeliveryAt = now.addingTimeInterval(Self.seconds(DeliveryBackoff.delay(afterFailures: push.deliveryAttempts)))
                    push.lastDeliveryError = "the endpoint did not acknowledge this push"
                }
                push.refreshRecord(today: api.today, calendar: api.calendar)
                try await api.pushStore.update(push, in: transaction)
            }
            try await Outbox.enqueue(events, in: transaction)
            return (acknowledged, rows.count == batchSize && acknowledged == rows.count)
        }
    }

    private func fail(_ pushes: inout [StoredPush], error: String, now: Date, in transaction: PostgresConnection) async throws {
        for index in pushes.indices {
            pushes[index].deliveryAttempts += 1
            pushes[index].nextDeliveryAt = now.addingTimeInterval(Self.seconds(DeliveryBackoff.delay(afterFailures: pushes[index].deliveryAttempts)))
            pushes[index].lastDeliveryError = String(error.prefix(500))
            pushes[index].refreshRecord(today: api.today, calendar: api.calendar)
            try await api.pushStore.update(pushes[index], in: transaction)
        }
    }

    /// Calls the department's endpoint over OneSeal TCP; returns the push ids it acknowledged.
    private func call(_ address: (host: String, port: Int), pushes: [Supervision_Push]) async throws -> Set<String> {
        var request = Supervision_ReceivePushesRequest()
        request.pushes = pushes
        request.sendingNode = api.node
        var metadata = Metadata()
        if let token { metadata.addString("Bearer \(try token())", forKey: "authorization") }
        metadata.addString(api.node, forKey: "x-oneseal-node")
        var options = CallOptions.defaults
        options.timeout = callTimeout
        let transport = OneSealClientTransport(host: address.host, port: address.port)
        return try await withGRPCClient(transport: transport) { client in
            let response = try await Supervision_DepartmentInbox.Client(wrapping: client).receive(request, metadata: metadata, options: options)
            return Set(response.acceptedPushIds.map { $0.lowercased() })
        }
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// Reports pushes left unclaimed past their claim deadline (PushClaimOverdue to evaluation), once
/// each. Safe with several replicas: each batch locks its rows with `FOR UPDATE SKIP LOCKED` and a
/// reported push is marked in the same transaction as its event.
public struct ClaimOverdueSweeper: Service {
    let api: SupervisionAPI
    let interval: Duration
    let batchSize: Int

    public init(api: SupervisionAPI, interval: Duration = .seconds(300), batchSize: Int = 100) {
        self.api = api
        self.interval = interval
        self.batchSize = batchSize
    }

    public func run() async throws {
        await repeatUntilShutdown(every: interval, logger: api.logger, failure: "claim-overdue sweep failed; will retry") {
            let count = try await sweepOnce()
            if count > 0 { api.logger.notice("claims overdue", metadata: ["pushes": "\(count)"]) }
            let overdue = try await api.database.query("""
                SELECT count(*) AS n FROM pushes WHERE status = 'pending' AND claim_due < \(api.today.iso8601)::date
                """).one().decode("n", as: Int.self)
            Gauge(label: "oneseal_supervision_claims_overdue").record(overdue)
        }
    }

    /// One pass; returns how many pushes were newly reported overdue.
    @discardableResult
    public func sweepOnce() async throws -> Int {
        var total = 0
        while true {
            let today = api.today
            let count = try await api.database.withTransaction { transaction in
                let rows = try await transaction.query("""
                    SELECT \(unescaped: PushStore.columns) FROM pushes
                    WHERE status = 'pending' AND overdue_reported_at IS NULL AND claim_due < \(today.iso8601)::date
                    ORDER BY claim_due, id LIMIT \(batchSize)
                    FOR UPDATE SKIP LOCKED
                    """)
                var events: [OutboxEvent] = []
                for row in rows {
                    var push = try api.pushStore.decode(row)
                    push.overdueReportedAt = api.clock()
                    push.refreshRecord(today: today, calendar: api.calendar)
                    try await api.pushStore.update(push, in: transaction)
                    events.append(try api.pushEvent(push.record, .claimOverdue))
                    api.logger.info("claim overdue", metadata: ["push": "\(push.id)", "department": "\(push.departmentCode)", "due": "\(push.state.schedule.claimDue)"])
                }
                try await Outbox.enqueue(events, in: transaction)
                return rows.count
            }
            total += count
            if count < batchSize { return total }
        }
    }
}
