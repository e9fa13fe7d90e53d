import EvaluationRules
import Foundation
import OneSealAuth
import OneSealCore
import OneSealStore

/// One rating row.
struct StoredRating: Sendable {
    var id: UUID
    var subjectKey: String
    var caseID: String
    var caseNumber: String
    var applicationID: String
    var applicationNumber: String
    var checked: CheckedRating
    var late: Bool
    /// The rater's name and phone, sealed; nil for anonymous ratings.
    var raterSealed: [UInt8]?
    var raterSubjectIndex: String
    var ratedBy: String
    var ratedByRole: String
    var attribution: Attribution
    var itemName: String
    var officerName: String
    var departmentName: String
    var ratedOn: CivilDate
    var ratedAt: Date
    var removed: Bool
    var idempotencyKey: String?

    var fact: RatingFact {
        RatingFact(id: id.uuidString.lowercased(), attribution: attribution, ratedOn: ratedOn, level: checked.level, channel: checked.channel, removed: removed)
    }
}

/// Who did something, as stored with appeals.
struct ActorRecord: Sendable, Codable, Hashable {
    var subject: String
    var role: String
    var node: String
    init(_ caller: Caller) {
        subject = caller.subject
        role = caller.role.rawValue
        node = caller.node
    }
}

struct StoredTicket: Sendable {
    var id: UUID
    var ratingID: UUID
    var ticket: RectificationTicket
    var revision: Int64
}

struct StoredAppeal: Sendable {
    var id: UUID
    var ratingID: UUID
    var appeal: Appeal
    var evidence: [String]
    var appealedBy: ActorRecord
    var decidedBy: ActorRecord?
    var filedAt: Date
    var decidedAt: Date?
}

enum RatingStore {
    static let columns: StaticString = """
        id, subject_key, case_id, case_number, application_id, application_number, channel, visit_key, late, level,
        indicators::text AS indicators, comment, tags::text AS tags, anonymous, rater_sealed, rater_subject_index, rated_by, rated_by_role,
        node, implementation_code, item_name, window_id, officer_subject, officer_name, department_code, department_name,
        rated_on::text AS rated_on, rated_at, state, idempotency_key
        """

    static func decode(_ row: PostgresRow) throws -> StoredRating {
        let indicatorLevels = try JSONDecoder().decode([String: Int].self, from: Data(try row.decode("indicators", as: String.self).utf8))
        var indicators: [Indicator: Rating] = [:]
        for (name, level) in indicatorLevels {
            if let indicator = Indicator(rawValue: name), let rating = Rating(level: level) { indicators[indicator] = rating }
        }
        let channel = RatingChannel(rawValue: try row.decode("channel", as: String.self)) ?? .online
        let anonymous = try row.decode("anonymous", as: Bool.self)
        let checked = CheckedRating(
            channel: channel, level: Rating(level: try row.decode("level", as: Int.self)) ?? .basicallySatisfied, indicators: indicators,
            comment: try row.decode("comment", as: String.self),
            tags: try JSONDecoder().decode([String].self, from: Data(try row.decode("tags", as: String.self).utf8)),
            anonymous: anonymous, raterName: "", raterPhone: "", visitKey: try row.decode("visit_key", as: String.self))
        return StoredRating(
            id: try row.decode("id", as: UUID.self), subjectKey: try row.decode("subject_key", as: String.self),
            caseID: try row.decode("case_id", as: String.self), caseNumber: try row.decode("case_number", as: String.self),
            applicationID: try row.decode("application_id", as: String.self), applicationNumber: try row.decode("application_number", as: String.self),
            checked: checked, late: try row.decode("late", as: Bool.self), raterSealed: try row.decode("rater_sealed", as: [UInt8]?.self),
            raterSubjectIndex: try row.decode("rater_subject_index", as: String.self),
            ratedBy: try row.decode("rated_by", as: String.self), ratedByRole: try row.decode("rated_by_role", as: String.self),
            attribution: Attribution(
                node: try row.decode("node", as: String.self), implementationCode: try row.decode("implementation_code", as: String.self),
                windowID: try row.decode("window_id", as: String.self), officer: try row.decode("officer_subject", as: String.self),
                department: try row.decode("department_code", as: String.self)),
            itemName: try row.decode("item_name", as: String.self), officerName: try row.decode("officer_name", as: String.self),
            departmentName: try row.decode("department_name", as: String.self),
            ratedOn: try CivilDate(parsing: try row.decode("rated_on", as: String.self)), ratedAt: try row.decode("rated_at", as: Date.self),
            removed: try row.decode("state", as: String.self) == "removed", idempotencyKey: try row.decode("idempotency_key", as: String?.self))
    }

    static func insert(_ r: StoredRating, on transaction: PostgresConnection) async throws {
        let indicators = try FactStore.json(Dictionary(uniqueKeysWithValues: r.checked.indicators.map { ($0.key.rawValue, $0.value.level) }))
        try await transaction.execute("""
            INSERT INTO ratings (id, subject_key, case_id, case_number, application_id, application_number, channel, visit_key, slot_position, late, level,
                indicators, comment, tags, anonymous, rater_sealed, rater_subject_index, rated_by, rated_by_role, node, implementation_code,
                item_name, window_id, officer_subject, officer_name, department_code, department_name, rated_on, rated_at, state, idempotency_key)
            VALUES (\(r.id), \(r.subjectKey), \(r.caseID), \(r.caseNumber), \(r.applicationID), \(r.applicationNumber), \(r.checked.channel.rawValue),
                \(r.checked.visitKey),
                (SELECT count(*) + 1 FROM ratings s WHERE s.subject_key = \(r.subjectKey) AND s.channel = \(r.checked.channel.rawValue) AND s.visit_key = \(r.checked.visitKey)),
                \(r.late), \(r.checked.level.level), \(indicators)::jsonb, \(r.checked.comment), \(try FactStore.json(r.checked.tags))::jsonb,
                \(r.checked.anonymous), \(r.raterSealed), \(r.raterSubjectIndex), \(r.ratedBy), \(r.ratedByRole), \(r.attribution.node),
                \(r.attribution.implementationCode), \(r.itemName), \(r.attribution.windowID), \(r.attribution.officer), \(r.officerName),
                \(r.attribution.department), \(r.departmentName), \(r.ratedOn.iso8601)::date, \(r.ratedAt), 'active', \(r.idempotencyKey))
            """)
    }

    static func find(id: UUID, forUpdate: Bool = false, on connection: PostgresConnection) async throws -> StoredRating? {
        let rows = forUpdate
            ? try await connection.query("SELECT \(unescaped: columns) FROM ratings WHERE id = \(id) FOR UPDATE")
            : try await connection.query("SELECT \(unescaped: columns) FROM ratings WHERE id = \(id)")
        return try rows.first.map(decode)
    }

    static func find(idempotencyKey: String, on connection: PostgresConnection) async throws -> StoredRating? {
        try await connection.query("SELECT \(unescaped: columns) FROM ratings WHERE idempotency_key = \(idempotencyKey)").first.map(decode)
    }

    static func slot(subjectKey: String, channel: RatingChannel, on connection: PostgresConnection) async throws -> [RatingRules.Existing] {
        try await connection.query("""
            SELECT visit_key, late, rated_on::text AS rated_on FROM ratings WHERE subject_key = \(subjectKey) AND channel = \(channel.rawValue) ORDER BY rated_at
            """).map {
            RatingRules.Existing(visitKey: try $0.decode("visit_key", as: String.self), late: try $0.decode("late", as: Bool.self),
                                 ratedOn: try CivilDate(parsing: try $0.decode("rated_on", as: String.self)))
        }
    }

    static func markRemoved(_ id: UUID, on transaction: PostgresConnection) async throws {
        try await transaction.execute("UPDATE ratings SET state = 'removed' WHERE id = \(id)")
    }

    /// Ratings of `nodes` rated between the dates (inclusive).
    static func facts(nodes: Set<String>, from: CivilDate, to: CivilDate, on connection: PostgresConnection) async throws -> [StoredRating] {
        try await connection.query("""
            SELECT \(unescaped: columns) FROM ratings
            WHERE node = ANY(\(textArray(nodes))::text[]) AND rated_on BETWEEN \(from.iso8601)::date AND \(to.iso8601)::date
            ORDER BY rated_at, id
            """).map(decode)
    }

    /// One page of a node's ratings in (rated_at, id) order after `after` (keyset, decision 58),
    /// with only the filters asked for, and the total up to `ListTotal.cap` + 1. ListRatings read
    /// every rating of the node (a million, decoded) to show fifty.
    static func page(
        node: String, ratedFrom: CivilDate?, ratedTo: CivilDate?, caseID: String, windowID: String, officer: String, badOnly: Bool,
        after: InstantPageKey?, limit: Int, on connection: PostgresConnection
    ) async throws -> (ratings: [StoredRating], total: Int, more: Bool) {
        var filter: SQLQuery = "node = \(node)"
        if let ratedFrom { filter = "\(filter) AND rated_on >= \(ratedFrom.iso8601)::date" }
        if let ratedTo { filter = "\(filter) AND rated_on <= \(ratedTo.iso8601)::date" }
        if !caseID.isEmpty { filter = "\(filter) AND case_id = \(caseID)" }
        if !windowID.isEmpty { filter = "\(filter) AND window_id = \(windowID)" }
        if !officer.isEmpty { filter = "\(filter) AND officer_subject = \(officer)" }
        // `Rating.isBadReview`: one or two stars.
        if badOnly { filter = "\(filter) AND level <= 2" }
        var page = filter
        if let after { page = "\(filter) AND (rated_at, id) > (\(after.at)::timestamptz, \(after.id)::uuid)" }
        let rows = try await connection.query("SELECT \(unescaped: columns) FROM ratings WHERE \(page) ORDER BY rated_at, id LIMIT \(limit + 1)")
        let total = try await connection.query(ListTotal.query(from: "ratings", where: filter)).one().decode("n", as: Int.self)
        return (try rows.prefix(limit).map(decode), total, rows.count > limit)
    }

    // MARK: Tickets

    static func decodeTicket(_ row: PostgresRow) throws -> StoredTicket {
        StoredTicket(
            id: try row.decode("id", as: UUID.self), ratingID: try row.decode("rating_id", as: UUID.self),
            ticket: try JSONDecoder().decode(RectificationTicket.self, from: Data(try row.decode("ticket", as: String.self).utf8)),
            revision: try row.decode("revision", as: Int64.self))
    }

    static func insertTicket(_ t: StoredTicket, on transaction: PostgresConnection) async throws {
        try await transaction.execute("""
            INSERT INTO rectifications (id, rating_id, status, opened_on, due_on, ticket, revision)
            VALUES (\(t.id), \(t.ratingID), \(t.ticket.status.rawValue), \(t.ticket.openedOn.iso8601)::date, \(t.ticket.dueOn.iso8601)::date,
                \(try FactStore.json(t.ticket))::jsonb, 1)
            """)
    }

    static func updateTicket(_ t: StoredTicket, on transaction: PostgresConnection) async throws {
        try await transaction.execute("""
            UPDATE rectifications SET status = \(t.ticket.status.rawValue), ticket = \(try FactStore.json(t.ticket))::jsonb,
                revision = revision + 1, updated_at = now()
            WHERE id = \(t.id)
            """)
    }

    static func ticket(id: UUID, forUpdate: Bool = false, on connection: PostgresConnection) async throws -> StoredTicket? {
        let rows = forUpdate
            ? try await connection.query("SELECT id, rating_id, ticket::text AS ticket, revision FROM rectifications WHERE id = \(id) FOR UPDATE")
            : try await connection.query("SELECT id, rating_id, ticket::text AS ticket, revision FROM rectifications WHERE id = \(id)")
        return try rows.first.map(decodeTicket)
    }

    static func ticket(ratingID: UUID, forUpdate: Bool = false, on connection: PostgresConnection) async throws -> StoredTicket? {
        let rows = forUpdate
            ? try await connection.query("SELECT id, rating_id, ticket::text AS ticket, revision FROM rectifications WHERE rating_id = \(ratingID) FOR UPDATE")
            : try await connection.query("SELECT id, rating_id, ticket::text AS ticket, revision FROM rectifications WHERE rating_id = \(ratingID)")
        return try rows.first.map(decodeTicket)
    }

    /// Which tickets a read needs. Figures count a ticket in the periods its opening day falls in
    /// (`Figures.tables`), and warnings follow every ticket not yet rectified (`EarlyWarnings.list`:
    /// neither void nor rectified — status open or called back), so the board reads those two sets,
    /// not every ticket ever opened (308 ms at 1,000,000 ratings; 45 ms narrowed).
    enum TicketScope {
        /// Every ticket (the rectification list).
        case all
        /// Tickets opened in `from...to`, and every ticket still open or called back.
        case openedIn(from: CivilDate, to: CivilDate)
        /// Only the tickets still open or called back.
        case unsettled
    }

    /// Tickets with their ratings, for lists and figures.
    static func tickets(nodes: Set<String>, _ scope: TicketScope = .all, on connection: PostgresConnection) async throws -> [(StoredTicket, StoredRating)] {
        let unsettled: SQLQuery = "t.status IN ('open', 'called_back')"
        let which: SQLQuery = switch scope {
        case .all: "TRUE"
        case .openedIn(let from, let to): "(t.opened_on BETWEEN \(from.iso8601)::date AND \(to.iso8601)::date OR \(unsettled))"
        case .unsettled: unsettled
        }
        var out: [(StoredTicket, StoredRating)] = []
        for row in try await connection.query("""
            SELECT t.id AS t_id, t.rating_id, t.ticket::text AS ticket, t.revision, r.id, r.subject_key, r.case_id, r.case_number, r.application_id,
                r.application_number, r.channel, r.visit_key, r.late, r.level, r.indicators::text AS indicators, r.comment, r.tags::text AS tags,
                r.anonymous, r.rater_sealed, r.rater_subject_index, r.rated_by, r.rated_by_role, r.node, r.implementation_code, r.item_name,
                r.window_id, r.officer_subject, r.officer_name, r.department_code, r.department_name, r.rated_on::text AS rated_on, r.rated_at,
                r.state, r.idempotency_key
            FROM rectifications t JOIN ratings r ON r.id = t.rating_id
            WHERE r.node = ANY(\(textArray(nodes))::text[]) AND \(which)
            ORDER BY t.due_on, t.id
            """) {
            let ticket = StoredTicket(
                id: try row.decode("t_id", as: UUID.self), ratingID: try row.decode("rating_id", as: UUID.self),
                ticket: try JSONDecoder().decode(RectificationTicket.self, from: Data(try row.decode("ticket", as: String.self).utf8)),
                revision: try row.decode("revision", as: Int64.self))
            out.append((ticket, try decode(row)))
        }
        return out
    }

    static func rectificationFact(_ pair: (StoredTicket, StoredRating)) -> RectificationFact {
        let (ticket, rating) = pair
        return RectificationFact(id: ticket.id.uuidString.lowercased(), attribution: rating.attribution, openedOn: ticket.ticket.openedOn, dueOn: ticket.ticket.dueOn,
                          rectifiedOn: ticket.ticket.rectifiedOn, void: ticket.ticket.status == .void)
    }

    // MARK: Appeals

    static func appeals(ratingID: UUID, forUpdate: Bool = false, on connection: PostgresConnection) async throws -> [StoredAppeal] {
        let rows = forUpdate
            ? try await connection.query("SELECT id, rating_id, appeal::text AS appeal, evidence::text AS evidence, appealed_by::text AS appealed_by, decided_by::text AS decided_by, filed_at, decided_at FROM appeals WHERE rating_id = \(ratingID) FOR UPDATE")
            : try await connection.query("SELECT id, rating_id, appeal::text AS appeal, evidence::text AS evidence, appealed_by::text AS appealed_by, decided_by::text AS decided_by, filed_at, decided_at FROM appeals WHERE rating_id = \(ratingID)")
        return try rows.map(decodeAppeal)
    }

    static func appeal(id: UUID, on connection: PostgresConnection) async throws -> StoredAppeal? {
        try await connection.query("SELECT id, rating_id, appeal::text AS appeal, evidence::text AS evidence, appealed_by::text AS appealed_by, decided_by::text AS decided_by, filed_at, decided_at FROM appeals WHERE id = \(id) FOR UPDATE").first.map(decodeAppeal)
    }

    static func decodeAppeal(_ row: PostgresRow) throws -> StoredAppeal {
        let decoder = JSONDecoder()
        let decided = try row.decode("decided_by", as: String?.self)
        return StoredAppeal(
            id: try row.decode("id", as: UUID.self), ratingID: try row.decode("rating_id", as: UUID.self),
            appeal: try decoder.decode(Appeal.self, from: Data(try row.decode("appeal", as: String.self).utf8)),
            evidence: try decoder.decode([String].self, from: Data(try row.decode("evidence", as: String.self).utf8)),
            appealedBy: try decoder.decode(ActorRecord.self, from: Data(try row.decode("appealed_by", as: String.self).utf8)),
            decidedBy: try decided.map { try decoder.decode(ActorRecord.self, from: Data($0.utf8)) },
            filedAt: try row.decode("filed_at", as: Date.self), decidedAt: try row.decode("decided_at", as: Date?.self))
    }

    static func insertAppeal(_ a: StoredAppeal, on transaction: PostgresConnection) async throws {
        try await transaction.execute("""
            INSERT INTO appeals (id, rating_id, status, appeal, evidence, appealed_by, filed_at)
            VALUES (\(a.id), \(a.ratingID), \(a.appeal.status.rawValue), \(try FactStore.json(a.appeal))::jsonb, \(try FactStore.json(a.evidence))::jsonb,
                \(try FactStore.json(a.appealedBy))::jsonb, \(a.filedAt))
            """)
    }

    static func updateAppeal(_ a: StoredAppeal, on transaction: PostgresConnection) async throws {
        try await transaction.execute("""
            UPDATE appeals SET status = \(a.appeal.status.rawValue), appeal = \(try FactStore.json(a.appeal))::jsonb,
                decided_by = \(try a.decidedBy.map { try FactStore.json($0) })::jsonb, decided_at = \(a.decidedAt)
            WHERE id = \(a.id)
            """)
    }
}
