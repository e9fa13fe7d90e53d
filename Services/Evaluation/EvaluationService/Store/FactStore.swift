import EvaluationRules
import Foundation
import OneSealCore
import OneSealStore

/// The read model's SQL: one JSON row per application, case, consultation and push.
enum FactStore {
    /// A value as the JSON text bound into a `jsonb` column: keys unsorted, since jsonb keeps its
    /// own order (decision 64).
    static func json<T: Encodable>(_ value: T) throws -> String {
        try StreamingJSONEncoder.string(value)
    }

    static func decode<T: FactJSON.Readable>(_ type: T.Type, _ row: PostgresRow, column: String = "fact") throws -> T {
        var pool = FactJSON.StringPool(capacity: 0)
        return try decode(type, row, column: column, pool: &pool)
    }

    /// The fact in `column`, read by `FactJSON` — or, for a row it does not read, by `JSONDecoder`
    /// (which names what is wrong with a row neither can read). `pool` keeps repeated text once
    /// across the rows of one load.
    static func decode<T: FactJSON.Readable>(_ type: T.Type, _ row: PostgresRow, column: String = "fact", pool: inout FactJSON.StringPool) throws -> T {
        let bytes = try row.textBytes(column)
        if let fact = T.read(bytes, pool: &pool) { return fact }
        return try JSONDecoder().decode(type, from: Data(bytes))
    }

    /// Loads the facts at `keys` under transaction-scoped advisory locks — all of them in one
    /// statement, in `lockNames` order, then all the rows in one more (after the locks, so the
    /// read sees what the batch before committed): two batches touching the same application or
    /// case fold one after the other.
    static func load(_ keys: FactKeys, on transaction: PostgresConnection) async throws -> ReadModel {
        var model = ReadModel()
        guard !keys.isEmpty else { return model }
        // The locks ride with the read after them (in order: taken before it runs).
        try await transaction.executeWithNext("SELECT pg_advisory_xact_lock(hashtext(name)) FROM unnest(\(SQLArray(keys.lockNames))::text[]) AS name")
        for row in try await transaction.query("""
            SELECT 'application' AS kind, fact::text AS fact FROM application_facts WHERE id = ANY(\(SQLArray(Array(keys.applications)))::text[])
            UNION ALL SELECT 'case', fact::text FROM case_facts WHERE id = ANY(\(SQLArray(Array(keys.cases)))::text[])
            UNION ALL SELECT 'push', fact::text FROM push_facts WHERE id = ANY(\(SQLArray(Array(keys.pushes)))::text[])
            """) {
            switch try row.decode("kind", as: String.self) {
            case "application":
                let fact = try decode(ApplicationFact.self, row)
                model.applications[fact.id] = fact
            case "case":
                let fact = try decode(CaseFact.self, row)
                model.cases[fact.id] = fact
            default:
                let fact = try decode(PushFact.self, row)
                model.pushes[fact.id] = fact
            }
        }
        return model
    }

    /// Writes every fact of `model` back: one upsert per table and at most `chunk` rows per
    /// statement (a rebuild writes the whole read model this way), each sent with the
    /// transaction's next statement or its COMMIT.
    static func save(_ model: ReadModel, chunk: Int = 500, on transaction: PostgresConnection) async throws {
        for part in chunks(Array(model.applications.values), chunk) {
            try await transaction.executeWithNext("""
                INSERT INTO application_facts (id, node, number, applicant_index, fact)
                SELECT id, node, number, applicant_index, fact::jsonb
                FROM unnest(\(SQLArray(part.map(\.id)))::text[], \(SQLArray(part.map(\.node)))::text[], \(SQLArray(part.map(\.number)))::text[],
                            \(SQLArray(part.map(\.applicantIndex)))::text[], \(SQLArray(try part.map(json)))::text[])
                     AS f(id, node, number, applicant_index, fact)
                ON CONFLICT (id) DO UPDATE SET node = EXCLUDED.node, number = EXCLUDED.number,
                    applicant_index = EXCLUDED.applicant_index, fact = EXCLUDED.fact, written_xact = pg_current_xact_id()
                """)
        }
        for part in chunks(Array(model.cases.values), chunk) {
            try await transaction.executeWithNext("""
                INSERT INTO case_facts (id, node, application_id, application_number, fact)
                SELECT id, node, application_id, application_number, fact::jsonb
                FROM unnest(\(SQLArray(part.map(\.id)))::text[], \(SQLArray(part.map(\.node)))::text[], \(SQLArray(part.map(\.applicationID)))::text[],
                            \(SQLArray(part.map(\.applicationNumber)))::text[], \(SQLArray(try part.map(json)))::text[])
                     AS f(id, node, application_id, application_number, fact)
                ON CONFLICT (id) DO UPDATE SET node = EXCLUDED.node, application_id = EXCLUDED.application_id,
                    application_number = EXCLUDED.application_number, fact = EXCLUDED.fact, written_xact = pg_current_xact_id()
                """)
        }
        for part in chunks(Array(model.consultations.values), chunk) {
            try await transaction.executeWithNext("""
                INSERT INTO consultation_facts (id, node, fact)
                SELECT id, node, fact::jsonb FROM unnest(\(SQLArray(part.map(\.id)))::text[], \(SQLArray(part.map(\.node)))::text[], \(SQLArray(try part.map(json)))::text[]) AS f(id, node, fact)
                ON CONFLICT (id) DO UPDATE SET node = EXCLUDED.node, fact = EXCLUDED.fact, written_xact = pg_current_xact_id()
                """)
        }
        for part in chunks(Array(model.pushes.values), chunk) {
            try await transaction.executeWithNext("""
                INSERT INTO push_facts (id, node, fact)
                SELECT id, node, fact::jsonb FROM unnest(\(SQLArray(part.map(\.id)))::text[], \(SQLArray(part.map(\.node)))::text[], \(SQLArray(try part.map(json)))::text[]) AS f(id, node, fact)
                ON CONFLICT (id) DO UPDATE SET node = EXCLUDED.node, fact = EXCLUDED.fact, written_xact = pg_current_xact_id()
                """)
        }
    }

    static func chunks<T>(_ values: [T], _ size: Int) -> [ArraySlice<T>] {
        stride(from: 0, to: values.count, by: size).map { values[$0..<min($0 + size, values.count)] }
    }

    /// Folds a batch of events into the stored read model: the facts they touch locked and
    /// loaded once, the events applied in order, the facts written back once — what folding
    /// them one at a time wrote (`FactKeys`), in four statements at most instead of three per
    /// event (#21).
    static func fold(_ events: [FactEvent], on transaction: PostgresConnection) async throws {
        guard !events.isEmpty else { return }
        var model = try await load(FactKeys(of: events), on: transaction)
        for event in events { model.apply(event) }
        try await save(model, on: transaction)
    }

    /// The facts of `nodes`, with the applications of their cases (for the window of a case),
    /// written by transactions from `since` on (nil: all of them) — `ReadModelCache` adds them to
    /// the model it keeps.
    static func model(nodes: Set<String>, since: String? = nil, on connection: PostgresConnection) async throws -> ReadModel {
        let list = textArray(nodes)
        var model = ReadModel()
        var pool = FactJSON.StringPool()
        // The applications of these nodes, and those whose cases are decided here (a county
        // application forwarded to the city).
        let applications: [SQLQuery]
        let written: SQLQuery
        if let since {
            // A refresh: those written since `since` — or whose case was. Three index-driven parts
            // in a UNION: the same condition as one OR over two sub-selects read every
            // application fact per refresh (1.2 s at 1,000,000 facts; 5 ms this way).
            written = "written_xact >= \(since)::text::xid8"
            applications = ["""
                SELECT fact::text AS fact FROM application_facts
                WHERE id IN (
                    SELECT id FROM application_facts WHERE written_xact >= \(since)::text::xid8 AND node = ANY(\(list)::text[])
                    UNION
                    SELECT a.id FROM application_facts a JOIN case_facts c ON c.application_id = a.id
                    WHERE a.written_xact >= \(since)::text::xid8 AND c.node = ANY(\(list)::text[])
                    UNION
                    SELECT application_id FROM case_facts WHERE node = ANY(\(list)::text[]) AND written_xact >= \(since)::text::xid8)
                """]
        } else {
            // The whole model (start, rebuild): two disjoint parts, each one pass, each its own
            // statement. The refresh's UNION read and sorted three million ids here (25.7 s at
            // 1,000,000 facts; 9.9 + 0.3 s this way, cold; decision 58).
            written = "TRUE"
            applications = [
                "SELECT fact::text AS fact FROM application_facts WHERE node = ANY(\(list)::text[])",
                """
                SELECT fact::text AS fact FROM application_facts
                WHERE NOT (node = ANY(\(list)::text[])) AND id IN (SELECT application_id FROM case_facts WHERE node = ANY(\(list)::text[]))
                """,
            ]
        }
        for statement in applications {
            let rows = try await connection.query(statement)
            model.applications.reserveCapacity(model.applications.count + rows.count)
            for row in rows {
                let fact = try decode(ApplicationFact.self, row, pool: &pool)
                model.applications[fact.id] = fact
            }
        }
        let cases = try await connection.query("""
            SELECT fact::text AS fact FROM case_facts WHERE node = ANY(\(list)::text[]) AND \(written)
            """)
        model.cases.reserveCapacity(cases.count)
        for row in cases {
            let fact = try decode(CaseFact.self, row, pool: &pool)
            model.cases[fact.id] = fact
        }
        for row in try await connection.query("""
            SELECT fact::text AS fact FROM consultation_facts WHERE node = ANY(\(list)::text[]) AND \(written)
            """) {
            let fact = try decode(ConsultationFact.self, row, pool: &pool)
            model.consultations[fact.id] = fact
        }
        for row in try await connection.query("""
            SELECT fact::text AS fact FROM push_facts WHERE node = ANY(\(list)::text[]) AND \(written)
            """) {
            let fact = try decode(PushFact.self, row, pool: &pool)
            model.pushes[fact.id] = fact
        }
        return model
    }

    /// Where a reader stands: the read model's generation (bumped by a rebuild) and the oldest
    /// transaction still running (every older one is finished and visible to the reads that follow).
    static func position(on connection: PostgresConnection) async throws -> (generation: Int64, horizon: String) {
        let row = try await connection.query("""
            SELECT generation, pg_snapshot_xmin(pg_current_snapshot())::text AS horizon FROM read_model_generation WHERE id = 1
            """).one()
        return (try row.decode("generation", as: Int64.self), try row.decode("horizon", as: String.self))
    }

    /// A case's fact with its application's (none when the case names no application or evaluation
    /// has not heard of it), in one statement: a rating reads both (#21).
    static func caseWithApplication(id: String, on connection: PostgresConnection) async throws -> (CaseFact, ApplicationFact?)? {
        guard let row = try await connection.query("""
            SELECT c.fact::text AS fact, a.fact::text AS application_fact
            FROM case_facts c LEFT JOIN application_facts a ON c.application_id <> '' AND a.id = c.application_id
            WHERE c.id = \(id)
            """).first else { return nil }
        let application = row.isNull("application_fact") ? nil : try decode(ApplicationFact.self, row, column: "application_fact")
        return (try decode(CaseFact.self, row), application)
    }

    static func applications(number: String, on connection: PostgresConnection) async throws -> [ApplicationFact] {
        try await connection.query("SELECT fact::text AS fact FROM application_facts WHERE number = \(number) ORDER BY id").map { try decode(ApplicationFact.self, $0) }
    }

    static func `case`(id: String, on connection: PostgresConnection) async throws -> CaseFact? {
        try await connection.query("SELECT fact::text AS fact FROM case_facts WHERE id = \(id)").first.map { try decode(CaseFact.self, $0) }
    }

    static func cases(applicationID: String, number: String, on connection: PostgresConnection) async throws -> [CaseFact] {
        try await connection.query("""
            SELECT fact::text AS fact FROM case_facts
            WHERE (application_id <> '' AND application_id = \(applicationID)) OR (application_number <> '' AND application_number = \(number))
            ORDER BY id
            """).map { try decode(CaseFact.self, $0) }
    }
}

/// The event log: every delivered event, append-only.
enum EventLog {
    /// One event as it goes into the log.
    struct Entry: Sendable {
        var eventID: UUID
        var type: String
        var sourceService: String
        var sourceNode: String
        var aggregateID: String
        var occurredAt: Date
        var filed: EventFiling.Filed
    }

    /// Stores the entries in one statement (a redelivery of a stored id does nothing) and
    /// answers the ids that were new.
    static func append(_ entries: [Entry], on transaction: PostgresConnection) async throws -> Set<UUID> {
        guard !entries.isEmpty else { return [] }
        let rows = try await transaction.query("""
            INSERT INTO events (event_id, type, source_service, source_node, aggregate_id, occurred_at, payload, filed, note)
            SELECT * FROM unnest(\(SQLArray(entries.map(\.eventID)))::uuid[], \(SQLArray(entries.map(\.type)))::text[],
                                 \(SQLArray(entries.map(\.sourceService)))::text[], \(SQLArray(entries.map(\.sourceNode)))::text[],
                                 \(SQLArray(entries.map(\.aggregateID)))::text[], \(SQLArray(entries.map { Optional($0.occurredAt) }))::timestamptz[],
                                 \(SQLArray(entries.map(\.filed.payload)))::bytea[], \(SQLArray(entries.map(\.filed.filed)))::boolean[],
                                 \(SQLArray(entries.map(\.filed.note)))::text[])
            ON CONFLICT (event_id) DO NOTHING
            RETURNING event_id
            """)
        return Set(try rows.map { try $0.decode("event_id", as: UUID.self) })
    }

    /// Throws the read model away and folds the log again, in arrival order, in one transaction
    /// (E8). Consumers wait on the table locks meanwhile, then fold on top of the new model.
    static func rebuild(index: (String) -> String, on transaction: PostgresConnection) async throws -> (events: Int, applications: Int, cases: Int, unfiled: Int) {
        try await transaction.executeScript("""
            LOCK TABLE application_facts, case_facts, consultation_facts, push_facts IN EXCLUSIVE MODE;
            DELETE FROM application_facts; DELETE FROM case_facts; DELETE FROM consultation_facts; DELETE FROM push_facts;
            UPDATE read_model_generation SET generation = generation + 1 WHERE id = 1;
            """)
        var model = ReadModel()
        var count = 0
        var unfiled = 0
        var after: Int64 = 0
        while true {
            let rows = try await transaction.query("""
                SELECT seq, type, source_node, occurred_at, payload FROM events WHERE seq > \(after) ORDER BY seq LIMIT 1000
                """)
            if rows.isEmpty { break }
            for row in rows {
                after = try row.decode("seq", as: Int64.self)
                let type = try row.decode("type", as: String.self)
                let filed = EventFiling.file(
                    type: type, payload: try row.decode("payload", as: [UInt8].self), sourceNode: try row.decode("source_node", as: String.self),
                    occurredOn: CivilDate(try row.decode("occurred_at", as: Date.self)), index: index)
                if !filed.filed { unfiled += 1 }
                model.apply(filed.fact)
                count += 1
            }
        }
        try await FactStore.save(model, on: transaction)
        return (count, model.applications.count, model.cases.count, unfiled)
    }
}
