import EvaluationRules
import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealStore
import OneSealTrace
import SwiftProtobuf
import Synchronization
import Testing
@testable import EvaluationService

/// The figures of `EvaluationEvents.stream()` for October 2026, judged on 2026-11-05.
func octoberFigures(_ node: EvaluationNode, groupBy: Evaluation_GroupBy = .unspecified, metadata: Metadata? = nil) async throws -> Evaluation_EfficiencyFiguresResponse {
    var request = Evaluation_EfficiencyFiguresRequest()
    request.period = EvaluationEvents.october
    request.groupBy = groupBy
    return try await node.evaluation.efficiencyFigures(request, metadata: try metadata ?? node.evaluator)
}

func rate(_ node: EvaluationNode, case caseID: String = "", number: String = "", channel: Evaluation_RatingChannel, level: Int, comment: String = "",
          anonymous: Bool = true, phone: String = "", visit: String = "", as metadata: Metadata) async throws -> Evaluation_SubmitRatingResponse {
    var request = Evaluation_SubmitRatingRequest()
    request.caseID = caseID
    request.applicationNumber = number
    request.channel = channel
    request.level = Evaluation_RatingLevel(rawValue: level) ?? .UNRECOGNIZED(level)
    request.comment = comment
    request.anonymous = anonymous
    if !anonymous { request.raterName = "张三"; request.raterPhone = phone }
    request.visitID = visit
    return try await node.evaluation.submitRating(request, metadata: metadata)
}

@Suite("Evaluation service: events → figures, ratings, rectification, appeals, reports (real PostgreSQL, real TCP)", .serialized)
struct EvaluationServiceTests {
    @Test("figures from a known stream of events match the hand-computed values; duplicates count once; unknown types are kept; a rebuild gives identical figures")
    func figuresAndRebuild() async throws {
        try await withEvaluationNode(today: try CivilDate(parsing: "2026-11-05")) { node in
            let stream = try EvaluationEvents.stream()
            #expect(try await node.deliver(stream).count == stream.count)
            // The relay retries a batch: the same events again change nothing.
            try await node.deliver(Array(stream.prefix(3)))
            var unknown = Events_EventEnvelope()
            unknown.eventID = UUID().uuidString
            unknown.type = "oneseal.future.v9.SomethingNew"
            unknown.sourceService = "future"
            unknown.sourceNode = "371302"
            unknown.payload = Data([1, 2, 3])
            // An id twice in one batch is stored once; the log is the receipt (decision 76), so
            // no inbox row is written beside it.
            try await node.deliver([unknown, unknown])
            #expect(try await node.count("SELECT count(*) FROM events") == stream.count + 1)
            #expect(try await node.count("SELECT count(*) FROM events WHERE NOT filed") == 1)
            #expect(try await node.count("SELECT count(*) FROM inbox") == 0)
            // Personal data never reaches the log: the ID number is replaced by its blind index.
            #expect(try await node.count("SELECT count(*) FROM events WHERE position(convert_to('371302199001011233', 'UTF8') in payload) > 0") == 0)
            #expect(try await node.count("SELECT count(*) FROM events WHERE position(convert_to('张三', 'UTF8') in payload) > 0") == 0)

            let figures = try await octoberFigures(node)
            let m = figures.total.metrics
            #expect(m.received == 3)
            #expect(m.accepted == 2)
            #expect(m.corrections == 1)
            #expect(m.notAccepted == 1)
            #expect(m.delivered == 1 && m.oneVisitCompleted == 1 && m.oneVisitRate == 1)
            #expect(m.decided == 1 && m.granted == 1 && m.denied == 0)
            #expect(m.onTimeRate == 1)
            #expect(m.workingDaysMean == 3 && m.workingDaysMedian == 3 && m.workingDaysP90 == 3)
            #expect(m.redoRate == 1)  // c1 was returned once
            #expect(m.running == 1 && m.runningOverdue == 1 && m.overdue == 1)  // c2 due 10-20, open on 10-31
            #expect(m.consultations == 1)
            let byWindow = try await octoberFigures(node, groupBy: .window)
            #expect(byWindow.rows.map(\.key) == ["W1", "W2"])
            #expect(byWindow.rows.map(\.metrics.received) == [1, 2])
            #expect(byWindow.rows.map(\.metrics.overdue) == [0, 1])
            let byItem = try await octoberFigures(node, groupBy: .item)
            #expect(byItem.rows.map(\.label) == ["药品零售许可", "食品经营许可"])

            let rebuilt = try await node.evaluation.rebuildReadModel(Evaluation_RebuildReadModelRequest(), metadata: try node.token(.operator, subject: "ops-1"))
            #expect(rebuilt.eventsReplayed == Int64(stream.count + 1))
            #expect(rebuilt.applications == 3 && rebuilt.cases == 2 && rebuilt.unfiledEvents == 1)
            #expect(try await octoberFigures(node) == figures)
            #expect(try await octoberFigures(node, groupBy: .window) == byWindow)
            // The log is append-only.
            await #expect(throws: (any Error).self) { try await node.database.execute("DELETE FROM events") }
        }
    }

    @Test("the kept read model: new and changed facts between calls, a fact committed late, and a rebuild — always what a full load reads")
    func keptReadModel() async throws {
        try await withEvaluationNode(today: try CivilDate(parsing: "2026-11-05")) { node in
            let stream = try EvaluationEvents.stream()
            let nodes: Set<String> = ["371302"]
            let cache = ReadModelCache()
            try await node.deliver(Array(stream.prefix(stream.count / 2)))
            let early = try await node.database.withConnection { try await cache.model(nodes: nodes, on: $0) }
            #expect(early == (try await node.database.withConnection { try await FactStore.model(nodes: nodes, on: $0) }))
            // The rest of the stream: new facts and changes to facts already kept.
            try await node.deliver(Array(stream.dropFirst(stream.count / 2)))
            let full = try await node.database.withConnection { try await FactStore.model(nodes: nodes, on: $0) }
            #expect(full != early)
            #expect(try await node.database.withConnection { try await cache.model(nodes: nodes, on: $0) } == full)
            // A writer that started before a refresh and commits after it: read on the next one.
            var late = CaseFact(id: "c0000000-0000-4000-8000-0000000000ff")
            late.acceptingNode = "371302"
            late.number = "LATE-1"
            try await node.database.withTransaction { transaction in
                try await FactStore.save(ReadModel(cases: [late.id: late]), on: transaction)
                let during = try await node.database.withConnection { try await cache.model(nodes: nodes, on: $0) }
                #expect(during.cases[late.id] == nil)
            }
            let after = try await node.database.withConnection { try await cache.model(nodes: nodes, on: $0) }
            #expect(after.cases[late.id] == late)
            #expect(after == (try await node.database.withConnection { try await FactStore.model(nodes: nodes, on: $0) }))
            // An application of another node whose case is decided here (审核转报) belongs to the
            // model, in a full load (its own statement) as in a refresh; another node's own does not.
            var forwarded = ApplicationFact(id: "a0000000-0000-4000-8000-0000000000fe")
            forwarded.node = "371311"
            forwarded.number = "FWD-1"
            var elsewhere = ApplicationFact(id: "a0000000-0000-4000-8000-0000000000fd")
            elsewhere.node = "371311"
            elsewhere.number = "ELSE-1"
            var decidedHere = CaseFact(id: "c0000000-0000-4000-8000-0000000000fe")
            decidedHere.acceptingNode = "371302"
            decidedHere.applicationID = forwarded.id
            try await node.database.withTransaction { transaction in
                try await FactStore.save(
                    ReadModel(applications: [forwarded.id: forwarded, elsewhere.id: elsewhere], cases: [decidedHere.id: decidedHere]), on: transaction)
            }
            let withForwarded = try await node.database.withConnection { try await FactStore.model(nodes: nodes, on: $0) }
            #expect(withForwarded.applications[forwarded.id] == forwarded && withForwarded.applications[elsewhere.id] == nil)
            #expect(try await node.database.withConnection { try await cache.model(nodes: nodes, on: $0) } == withForwarded)
            // A rebuild throws the model away and folds the log again: the kept one follows (the
            // hand-written fact, not in the log, is gone).
            _ = try await node.evaluation.rebuildReadModel(Evaluation_RebuildReadModelRequest(), metadata: try node.token(.operator, subject: "ops-1"))
            let rebuilt = try await node.database.withConnection { try await cache.model(nodes: nodes, on: $0) }
            #expect(rebuilt.cases[late.id] == nil && rebuilt.applications[forwarded.id] == nil && rebuilt == full)
        }
    }

    @Test("callers asking at once for a model not kept yet share one whole load; each gets what a full load reads")
    func oneWholeLoadAtATime() async throws {
        try await withEvaluationNode(today: try CivilDate(parsing: "2026-11-05")) { node in
            try await node.deliver(try EvaluationEvents.stream())
            let nodes: Set<String> = ["371302"]
            let cache = ReadModelCache()
            let models = try await withThrowingTaskGroup(of: ReadModel.self) { group in
                for _ in 0..<4 { group.addTask { try await node.database.withConnection { try await cache.model(nodes: nodes, on: $0) } } }
                return try await group.reduce(into: [ReadModel]()) { $0.append($1) }
            }
            let full = try await node.database.withConnection { try await FactStore.model(nodes: nodes, on: $0) }
            #expect(models.count == 4 && models.allSatisfy { $0 == full })
            #expect(cache.wholeLoads.load(ordering: .relaxed) == 1)
        }
    }

    @Test("facts as PostgreSQL returns them are read by FactJSON; a row with a key it does not know by JSONDecoder; both the same")
    func storedFactsReadBack() async throws {
        try await withEvaluationNode(today: try CivilDate(parsing: "2026-11-05")) { node in
            try await node.deliver(try EvaluationEvents.stream())
            // The stream has no supervision push: one as the fold writes it, claimed, with a finding.
            let push = ReadModel(folding: [
                FactEvent.push(id: "p-1", node: "371302", department: Department(code: "SCJ", name: "市场监管局"), implementationCode: "F001",
                               caseID: "c-1", on: try CivilDate(parsing: "2026-10-30"), claimDueOn: try CivilDate(parsing: "2026-11-02"), change: .created),
                .push(id: "p-1", node: "", department: nil, implementationCode: "", caseID: "", on: try CivilDate(parsing: "2026-10-31"), claimDueOn: nil, change: .claimed),
                .finding(pushID: "p-1"),
            ])
            try await node.database.withTransaction { try await FactStore.save(push, on: $0) }
            let nodes: Set<String> = ["371302"]
            let model = try await node.database.withConnection { try await FactStore.model(nodes: nodes, on: $0) }
            #expect(!model.applications.isEmpty && !model.cases.isEmpty && !model.consultations.isEmpty && model.pushes == push.pushes)
            // Every stored row, as the server prints it, is one the reader reads itself (the fast
            // path is the one taken), and reads as JSONDecoder does.
            func rows(_ sql: SQLQuery) async throws -> [[UInt8]] { try await node.database.query(sql).map { try $0.textBytes("fact") } }
            var pool = FactJSON.StringPool()
            let decoder = JSONDecoder()
            for bytes in try await rows("SELECT fact::text AS fact FROM application_facts") {
                #expect(FactJSON.application(bytes, pool: &pool) == (try decoder.decode(ApplicationFact.self, from: Data(bytes))))
            }
            for bytes in try await rows("SELECT fact::text AS fact FROM case_facts") {
                #expect(FactJSON.case(bytes, pool: &pool) == (try decoder.decode(CaseFact.self, from: Data(bytes))))
            }
            for bytes in try await rows("SELECT fact::text AS fact FROM push_facts") {
                #expect(FactJSON.push(bytes, pool: &pool) == (try decoder.decode(PushFact.self, from: Data(bytes))))
            }
            for bytes in try await rows("SELECT fact::text AS fact FROM consultation_facts") {
                #expect(FactJSON.consultation(bytes, pool: &pool) == (try decoder.decode(ConsultationFact.self, from: Data(bytes))))
            }
            // A later release's field on one case: this release reads the row through JSONDecoder,
            // whole, and the load is otherwise unchanged.
            let someCase = try #require(model.cases.keys.sorted().first)
            try await node.database.execute("UPDATE case_facts SET fact = fact || '{\"escalatedOn\": \"2026-11-04\"}'::jsonb WHERE id = \(someCase)")
            let again = try await node.database.withConnection { try await FactStore.model(nodes: nodes, on: $0) }
            #expect(again == model)
            #expect(try await node.database.withConnection { try await FactStore.case(id: someCase, on: $0) } == model.cases[someCase])
        }
    }

    @Test("the board's answers are kept per exact input: a repeat is the same, new facts and a new rating change it, callers at once share one")
    func keptAnswers() async throws {
        try await withEvaluationNode(today: try CivilDate(parsing: "2026-11-05")) { node in
            let stream = try EvaluationEvents.stream()
            try await node.deliver(Array(stream.prefix(stream.count / 2)))
            let request = Evaluation_EfficiencyFiguresRequest.with {
                $0.period = EvaluationEvents.october
                $0.period.to = EvaluationEvents.date("2026-11-05")
            }
            let evaluator = try node.evaluator
            @Sendable func figures() async throws -> Evaluation_EfficiencyFiguresResponse {
                try await node.evaluation.efficiencyFigures(request, metadata: evaluator)
            }
            let early = try await figures()
            #expect(try await figures() == early)
            try await node.deliver(Array(stream.dropFirst(stream.count / 2)))
            let full = try await figures()
            #expect(full.total.metrics.received > early.total.metrics.received)
            // A rating is not a fact of the read model: the kept answer must still follow it.
            _ = try await rate(node, case: EvaluationEvents.c1, channel: .online, level: 5, as: try node.token(.applicant, subject: EvaluationEvents.residentID))
            let rated = try await figures()
            #expect(rated.total.metrics.ratings == full.total.metrics.ratings + 1)
            // Sixteen callers at once get one answer, the one a single caller gets.
            let answers = try await withThrowingTaskGroup(of: Evaluation_EfficiencyFiguresResponse.self) { group in
                for _ in 0..<16 { group.addTask { try await figures() } }
                return try await group.reduce(into: [Evaluation_EfficiencyFiguresResponse]()) { $0.append($1) }
            }
            #expect(answers.count == 16 && answers.allSatisfy { $0 == rated })
        }
    }

    @Test("FigureMemo computes a key once for every caller, each key apart, and forgets the oldest past its capacity")
    func figureMemoSharing() async throws {
        let memo = FigureMemo(capacity: 2)
        final class Runs: Sendable {
            let count = Mutex(0)
            func next() -> Int { count.withLock { $0 += 1; return $0 } }
        }
        let runs = Runs()
        func key(_ version: Int) throws -> FigureMemo.Key {
            FigureMemo.Key(call: "EfficiencyFigures", request: [], nodes: ["371302"], today: try CivilDate(parsing: "2026-11-05"), modelVersion: version, ratings: [], rectifications: [])
        }
        let first = try key(1)
        let values = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<8 { group.addTask { try await memo.value(first) { runs.next() } } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(values == Array(repeating: 1, count: 8) && runs.count.withLock { $0 } == 1)
        #expect(try await memo.value(try key(2)) { runs.next() } == 2)
        #expect(try await memo.value(try key(3)) { runs.next() } == 3)
        // Capacity 2: version 1 was dropped and is computed again.
        #expect(try await memo.value(first) { runs.next() } == 4)
    }

    @Test("only evaluators, leaders and the leading posts see figures; the city reads its county, another county cannot")
    func figureAccess() async throws {
        try await withEvaluationNode(today: try CivilDate(parsing: "2026-11-05")) { node in
            try await node.deliver(try EvaluationEvents.stream())
            _ = try await octoberFigures(node, metadata: try node.token(.leader, subject: "leader-1"))
            // The director's dashboard (W41): 科长, 分管 and 局长 read their node's figures.
            for role in [Role.sectionChief, .deputyDirector, .director] {
                #expect(try await octoberFigures(node, metadata: try node.token(role, subject: "chief-1")).total.metrics.received == 3)
            }
            // The city's evaluator reads the county's figures (its token, the county's service).
            #expect(try await octoberFigures(node, metadata: try node.token(.evaluator, node: "371300")).total.metrics.received == 3)
            for (role, tokenNode) in [(Role.officer, "371302"), (.windowClerk, "371302"), (.applicant, "371302"), (.evaluator, "371311")] {
                do {
                    _ = try await octoberFigures(node, metadata: try node.token(role, node: tokenNode))
                    Issue.record("\(role) of \(tokenNode) read the figures")
                } catch let error as RPCError {
                    #expect(error.code == .permissionDenied)
                }
            }
            // A county cannot name the city in a query; a bad code is INVALID_ARGUMENT.
            var request = Evaluation_EfficiencyFiguresRequest()
            request.period = EvaluationEvents.october
            request.nodes = ["371300"]
            await #expect { _ = try await node.evaluation.efficiencyFigures(request, metadata: try node.evaluator) } throws: { rpcFailure($0)?.code == .permissionDenied }
            request.nodes = ["37130X"]
            await #expect { _ = try await node.evaluation.efficiencyFigures(request, metadata: try node.evaluator) } throws: { rpcFailure($0)?.fields == ["nodes[0]"] }
            request.nodes = []
            request.period.to = EvaluationEvents.date("2026-09-30")
            await #expect { _ = try await node.evaluation.efficiencyFigures(request, metadata: try node.evaluator) } throws: { rpcFailure($0)?.fields == ["period.to"] }
        }
    }

    @Test("a city's figures over its counties: the nodes below it that have facts join the scope only when asked")
    func subordinateScope() async throws {
        try await withEvaluationNode(node: "371300", today: try CivilDate(parsing: "2026-11-05")) { node in
            // The county's events as its evaluation passes them up (the facts carry node 371302).
            try await node.deliver(try EvaluationEvents.stream())
            #expect(try await octoberFigures(node).total.metrics.received == 0)
            var request = Evaluation_EfficiencyFiguresRequest()
            request.period = EvaluationEvents.october
            request.includeSubordinateNodes = true
            request.groupBy = .node
            let figures = try await node.evaluation.efficiencyFigures(request, metadata: try node.evaluator)
            #expect(figures.total.metrics.received == 3)
            #expect(figures.rows.map(\.key) == ["371302"])
        }
    }

    @Test("rating errors: no such case, not yours, level outside 1–5, already rated, wrong channel for the role")
    func ratingErrors() async throws {
        try await withEvaluationNode(today: try CivilDate(parsing: "2026-10-16")) { node in
            try await node.deliver(try EvaluationEvents.stream())
            let applicant = try node.token(.applicant, subject: EvaluationEvents.residentID)
            await #expect { _ = try await rate(node, case: UUID().uuidString, channel: .online, level: 5, as: applicant) } throws: { rpcFailure($0)?.code == .notFound }
            await #expect { _ = try await rate(node, number: "N404", channel: .online, level: 5, as: applicant) } throws: { rpcFailure($0)?.code == .notFound }
            let stranger = try node.token(.applicant, subject: EvaluationEvents.otherResidentID)
            await #expect { _ = try await rate(node, case: EvaluationEvents.c1, channel: .online, level: 5, as: stranger) } throws: {
                rpcFailure($0)?.code == .permissionDenied && rpcFailure($0)?.message.contains("not yours") == true
            }
            await #expect { _ = try await rate(node, case: EvaluationEvents.c1, channel: .online, level: 6, as: applicant) } throws: {
                rpcFailure($0)?.code == .invalidArgument && rpcFailure($0)?.fields == ["level"]
            }
            await #expect { _ = try await rate(node, case: EvaluationEvents.c1, channel: .online, level: 0, as: applicant) } throws: { rpcFailure($0)?.fields == ["level"] }
            // The window's pad records on-site ratings only.
            await #expect { _ = try await rate(node, case: EvaluationEvents.c1, channel: .online, level: 5, as: try node.token(.windowClerk, subject: "pad-W1")) } throws: {
                rpcFailure($0)?.code == .permissionDenied
            }
            // The applicant of a1 rates by application number (one case → that case); c1 was decided, so it is late.
            let first = try await rate(node, number: "N1", channel: .online, level: 5, as: applicant)
            #expect(first.rating.caseID == EvaluationEvents.c1)
            #expect(first.rating.late)
            #expect(first.rating.windowID == "W1" && first.rating.officer.subject == "officer-1")
            #expect(!first.hasRectification)
            // The applicant reads their own rating back (#18: to follow its rectification online);
            // another applicant is told there is none, as for a missing one.
            let own = try await node.evaluation.getRating(.with { $0.ratingID = first.rating.ratingID }, metadata: applicant)
            #expect(own.rating.ratingID == first.rating.ratingID)
            await #expect { _ = try await node.evaluation.getRating(.with { $0.ratingID = first.rating.ratingID }, metadata: stranger) } throws: {
                rpcFailure($0)?.code == .notFound
            }
            // 追评 (E14): the applicant who rated only after the decision may add the one later
            // rating; nobody else may, and a third is refused.
            await #expect { _ = try await rate(node, case: EvaluationEvents.c1, channel: .online, level: 4, as: stranger) } throws: { rpcFailure($0)?.code == .permissionDenied }
            let followUp = try await rate(node, case: EvaluationEvents.c1, channel: .online, level: 4, as: applicant)
            #expect(followUp.rating.late && followUp.rating.ratingID != first.rating.ratingID)
            await #expect { _ = try await rate(node, case: EvaluationEvents.c1, channel: .online, level: 3, as: applicant) } throws: {
                rpcFailure($0)?.code == .alreadyExists && rpcFailure($0)?.message.contains("追评") == true
            }
            // The applicant's ID number (the token subject) is stored nowhere, only its index.
            #expect(try await node.count("SELECT count(*) FROM ratings WHERE rated_by LIKE '%371302199001011233%' OR rater_subject_index LIKE '%371302%'") == 0)
            // On site: one per visit.
            let pad = try node.token(.windowClerk, subject: "pad-W2")
            _ = try await rate(node, case: EvaluationEvents.c2, channel: .onSite, level: 5, visit: "v1", as: pad)
            _ = try await rate(node, case: EvaluationEvents.c2, channel: .onSite, level: 4, visit: "v2", as: pad)
            await #expect { _ = try await rate(node, case: EvaluationEvents.c2, channel: .onSite, level: 3, visit: "v1", as: pad) } throws: {
                rpcFailure($0)?.code == .alreadyExists && rpcFailure($0)?.message.contains("visit v1") == true
            }
            // A retried submission with the same idempotency key answers with the first rating.
            var retried = Evaluation_SubmitRatingRequest()
            retried.caseID = EvaluationEvents.c2
            retried.channel = .onSite
            retried.level = .satisfied
            retried.visitID = "v3"
            retried.idempotencyKey = "pad-W2-2026-10-16-0001"
            let once = try await node.evaluation.submitRating(retried, metadata: pad)
            let twice = try await node.evaluation.submitRating(retried, metadata: pad)
            #expect(once.rating.ratingID == twice.rating.ratingID)
            // A pad of another node cannot record this node's ratings.
            await #expect { _ = try await rate(node, case: EvaluationEvents.c2, channel: .onSite, level: 5, visit: "v9", as: try node.token(.windowClerk, subject: "pad", node: "371311")) } throws: {
                rpcFailure($0)?.code == .permissionDenied
            }
        }
    }

    @Test("a bad review's ticket: call-back, rectification, the applicant rates the fix; appeals upheld and refused; overdue tickets flagged")
    func badReviewLifeCycle() async throws {
        try await withEvaluationNode(today: try CivilDate(parsing: "2026-10-16")) { node in
            try await node.deliver(try EvaluationEvents.stream())
            let applicant = try node.token(.applicant, subject: EvaluationEvents.residentID)
            // A named bad review needs a phone to call back.
            await #expect { _ = try await rate(node, case: EvaluationEvents.c1, channel: .online, level: 1, comment: "窗口推诿", anonymous: false, as: applicant) } throws: {
                rpcFailure($0)?.fields == ["rater_phone"]
            }
            let bad = try await rate(node, case: EvaluationEvents.c1, channel: .online, level: 1, comment: "窗口推诿", anonymous: false, phone: "13912345678", as: applicant)
            #expect(bad.rating.bad && bad.rating.raterPhone == "139****5678")
            let ticket = bad.rectification
            #expect(ticket.status == .open && ticket.callBackRequired)
            // 15 working days from Fri 10-16: 10-19 … 10-23, 10-26 … 10-30, 11-02 … 11-06.
            #expect(ticket.deadline.dueOn == EvaluationEvents.date("2026-11-06"))
            // The evaluator sees the full phone to call back; the read is logged.
            var get = Evaluation_GetRatingRequest()
            get.ratingID = bad.rating.ratingID
            #expect(try await node.evaluation.getRating(get, metadata: try node.evaluator).rating.raterPhone == "13912345678")
            #expect(try await node.count("SELECT count(*) FROM personal_data_reads") == 1)
            #expect(try await node.evaluation.getRating(get, metadata: try node.token(.leader)).rating.raterPhone == "139****5678")

            var complete = Evaluation_CompleteRectificationRequest()
            complete.rectificationID = ticket.rectificationID
            complete.measures = "对窗口人员开展一次性告知培训"
            complete.feedback = "已电话致歉并告知整改措施"
            let chief = try node.token(.sectionChief, subject: "chief-1")
            await #expect { _ = try await node.evaluation.completeRectification(complete, metadata: chief) } throws: { rpcFailure($0)?.code == .failedPrecondition }
            var call = Evaluation_RecordCallBackRequest()
            call.rectificationID = ticket.rectificationID
            call.callBack.reached = true
            call.callBack.summary = "电话回访申请人"
            call.callBack.verifiedFacts = "窗口人员未一次性告知，情况属实"
            call.callBack.justified = true
            #expect(try await node.evaluation.recordCallBack(call, metadata: try node.evaluator).rectification.status == .calledBack)
            node.clock.set(try CivilDate(parsing: "2026-11-06"))
            let rectified = try await node.evaluation.completeRectification(complete, metadata: chief).rectification
            #expect(rectified.status == .rectified && rectified.onTime)
            var rateFix = Evaluation_RateRectificationRequest()
            rateFix.rectificationID = ticket.rectificationID
            rateFix.level = .satisfied
            await #expect { _ = try await node.evaluation.rateRectification(rateFix, metadata: try node.token(.applicant, subject: EvaluationEvents.otherResidentID)) } throws: {
                rpcFailure($0)?.code == .permissionDenied
            }
            let closed = try await node.evaluation.rateRectification(rateFix, metadata: applicant).rectification
            #expect(closed.status == .closed && closed.followUpLevel == .satisfied)

            // An on-site bad review of c2, appealed by the window and upheld: removed, ticket void.
            node.clock.set(try CivilDate(parsing: "2026-11-09"))
            let pad = try node.token(.windowClerk, subject: "pad-W2")
            let mistaken = try await rate(node, case: EvaluationEvents.c2, channel: .onSite, level: 2, comment: "误触", visit: "v1", as: pad)
            var appeal = Evaluation_AppealRatingRequest()
            appeal.ratingID = mistaken.rating.ratingID
            appeal.reason = "评价人当场表示误触，监控可证"
            let clerk = try node.token(.windowClerk, subject: "clerk-W2")
            let filed = try await node.evaluation.appealRating(appeal, metadata: clerk).appeal
            #expect(filed.status == .pending)
            await #expect { _ = try await node.evaluation.appealRating(appeal, metadata: clerk) } throws: { rpcFailure($0)?.code == .failedPrecondition }
            var decide = Evaluation_DecideAppealRequest()
            decide.appealID = filed.appealID
            decide.upheld = true
            decide.reason = "调取监控核实为误触"
            await #expect { _ = try await node.evaluation.decideAppeal(decide, metadata: clerk) } throws: { rpcFailure($0)?.code == .permissionDenied }
            let decided = try await node.evaluation.decideAppeal(decide, metadata: try node.evaluator)
            #expect(decided.appeal.status == .upheld && decided.rating.state == .removed)
            var getMistaken = Evaluation_GetRatingRequest()
            getMistaken.ratingID = mistaken.rating.ratingID
            let after = try await node.evaluation.getRating(getMistaken, metadata: try node.evaluator)
            #expect(after.rectification.status == .void && after.appeals.count == 1)
            // Appealing a good rating, or too late, is refused.
            appeal.ratingID = try await rate(node, case: EvaluationEvents.c2, channel: .onSite, level: 5, visit: "v2", as: pad).rating.ratingID
            await #expect { _ = try await node.evaluation.appealRating(appeal, metadata: clerk) } throws: { rpcFailure($0)?.code == .failedPrecondition }

            // An anonymous bad review left alone goes overdue: due 15 working days after 11-09 = 11-30.
            let ignored = try await rate(node, case: EvaluationEvents.c2, channel: .onSite, level: 1, comment: "排队两小时无人理", visit: "v3", as: pad)
            #expect(ignored.rectification.deadline.dueOn == EvaluationEvents.date("2026-11-30"))
            node.clock.set(try CivilDate(parsing: "2026-12-01"))
            var list = Evaluation_ListRectificationsRequest()
            list.overdueOnly = true
            let overdue = try await node.evaluation.listRectifications(list, metadata: try node.evaluator).rectifications
            #expect(overdue.map(\.rectificationID) == [ignored.rectification.rectificationID])
            #expect(overdue.first?.deadline.overdue == true)
            var warnings = Evaluation_EarlyWarningsRequest()
            warnings.minLevel = .red
            let board = try await node.evaluation.earlyWarnings(warnings, metadata: try node.evaluator)
            #expect(Set(board.warnings.map(\.clock)) == ["approval", "rectification"])
            #expect(board.red == 2)
            #expect(board.byWindow.map(\.key) == ["W2"])
            await #expect { _ = try await node.evaluation.earlyWarnings(warnings, metadata: try node.token(.officer)) } throws: { rpcFailure($0)?.code == .permissionDenied }
            // Figures read the tickets opened in their period (and the unsettled ones): October
            // counts the closed ticket of 10-16, November the ignored one (the void one is not counted).
            #expect(try await octoberFigures(node).total.metrics.rectifications == 1)
            var november = Evaluation_EfficiencyFiguresRequest()
            november.period = .with { $0.from = EvaluationEvents.date("2026-11-01"); $0.to = EvaluationEvents.date("2026-11-30") }
            #expect(try await node.evaluation.efficiencyFigures(november, metadata: try node.evaluator).total.metrics.rectifications == 1)

            // ListRatings pages by key in rating order (decision 58): pages of two give the four
            // ratings once each; the filters narrow in SQL; an offset or a made-up token is refused.
            let everyRating = try await node.evaluation.listRatings(Evaluation_ListRatingsRequest(), metadata: try node.evaluator)
            #expect(everyRating.ratings.count == 4 && everyRating.page.totalSize == 4 && everyRating.page.nextPageToken.isEmpty)
            var paged: [String] = []
            var token = ""
            repeat {
                let page = try await node.evaluation.listRatings(.with { $0.page = .with { $0.pageSize = 2; $0.pageToken = token } }, metadata: try node.evaluator)
                #expect(page.page.totalSize == 4 && page.ratings.count == 2)
                paged += page.ratings.map(\.ratingID)
                token = page.page.nextPageToken
            } while !token.isEmpty
            #expect(paged == everyRating.ratings.map(\.ratingID) && Set(paged).count == 4)
            let badOnes = try await node.evaluation.listRatings(.with { $0.badOnly = true }, metadata: try node.evaluator)
            #expect(Set(badOnes.ratings.map(\.ratingID)) == [bad.rating.ratingID, mistaken.rating.ratingID, ignored.rating.ratingID])
            let ofC1 = try await node.evaluation.listRatings(.with { $0.caseID = EvaluationEvents.c1 }, metadata: try node.evaluator)
            #expect(ofC1.ratings.map(\.ratingID) == [bad.rating.ratingID])
            let november9 = try await node.evaluation.listRatings(.with { $0.rated = .with { $0.from = EvaluationEvents.date("2026-11-09"); $0.to = EvaluationEvents.date("2026-11-09") } }, metadata: try node.evaluator)
            #expect(november9.ratings.count == 3)
            for badToken in ["2", "t1.1.x"] {
                await #expect { _ = try await node.evaluation.listRatings(.with { $0.page = .with { $0.pageToken = badToken } }, metadata: try node.evaluator) } throws: {
                    rpcFailure($0)?.fields == ["page.page_token"]
                }
            }
        }
    }

    @Test("a county passes every stored event, stripped, up to its city's evaluation when that peer is configured")
    func forwardsToParent() async throws {
        // The peer's address is never dialled here (no service key, so no relay): the outbox is checked.
        try await withEvaluationNode(today: try CivilDate(parsing: "2026-10-16"), environment: ["ONESEAL_PEERS": "evaluation@371300=127.0.0.1:9"]) { node in
            var stream = try EvaluationEvents.stream()
            // Two events of one batch from two different calls: each passes up in its own trace.
            let traces = ["00-11111111111111111111111111111111-1111111111111111-01", "00-22222222222222222222222222222222-2222222222222222-01"]
            stream[0].traceparent = traces[0]
            stream[1].traceparent = traces[1]
            try await node.deliver(stream)
            try await node.deliver(Array(stream.prefix(2)))  // redelivered: not passed up twice
            let rows = try await node.database.query("SELECT id, destination, type, payload, traceparent FROM outbox ORDER BY seq")
            #expect(rows.count == stream.count)
            let ids = try rows.map { try $0.decode("id", as: UUID.self).uuidString }
            #expect(ids == stream.map(\.eventID))
            let passedTraces = try rows.prefix(2).map { try $0.decode("traceparent", as: String?.self).flatMap(TraceContext.init(traceparent:))?.traceID }
            #expect(passedTraces == traces.map { TraceContext(traceparent: $0)?.traceID })
            #expect(try rows.allSatisfy { try $0.decode("destination", as: String.self) == "evaluation@371300" })
            #expect(try await node.count("SELECT count(*) FROM outbox WHERE position(convert_to('371302199001011233', 'UTF8') in payload) > 0") == 0)
            // A bad review goes up as RatingSubmitted + RectificationOpened.
            _ = try await rate(node, case: EvaluationEvents.c2, channel: .onSite, level: 2, comment: "等候太久", visit: "v1", as: try node.token(.windowClerk, subject: "pad-W2"))
            let types = try await node.database.query("SELECT type FROM outbox ORDER BY seq").map { try $0.decode("type", as: String.self) }
            #expect(Array(types.suffix(2)) == [Evaluation_RatingSubmitted.protoMessageName, Evaluation_RectificationOpened.protoMessageName])
        }
    }

    @Test("the monthly report: charts, flags, and a hostile comment escaped; the same from the CLI's RPC")
    func monthlyReport() async throws {
        try await withEvaluationNode(today: try CivilDate(parsing: "2026-10-16"), settings: ["evaluation.agency_name": "兰山区行政审批服务局"]) { node in
            try await node.deliver(try EvaluationEvents.stream())
            let hostile = "<script>alert('pwned')</script><img src=x onerror=alert(1)>"
            _ = try await rate(node, case: EvaluationEvents.c2, channel: .onSite, level: 1, comment: hostile, visit: "v1", as: try node.token(.windowClerk, subject: "pad-W2"))
            node.clock.set(try CivilDate(parsing: "2026-11-05"))
            var request = Evaluation_ReportRequest()
            request.kind = .monthly
            request.year = 2026
            request.month = 10
            let report = try await node.evaluation.report(request, metadata: try node.token(.leader, subject: "leader-1"))
            #expect(report.title == "兰山区行政审批服务局 2026年10月效能分析报告")
            #expect(report.summary.received == 3 && report.summary.badReviews == 1)
            #expect(report.charts.count == 8)
            #expect(report.html.components(separatedBy: "<svg ").count - 1 == 8)
            #expect(!report.html.contains("<script") && !report.html.contains("<img"))
            #expect(report.html.contains("&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"))
            // The comment itself is stored as written.
            #expect(try await node.count("SELECT count(*) FROM ratings WHERE comment LIKE '<script>%'") == 1)
            #expect(report.flags.first { $0.windowID == "W2" }?.colour == .yellow)
            request.kind = .windows
            let windows = try await node.evaluation.report(request, metadata: try node.evaluator)
            #expect(windows.charts.map(\.chartID) == ["window_volume", "window_on_time"])
            #expect(windows.html.isEmpty)
            request.month = 13
            await #expect { _ = try await node.evaluation.report(request, metadata: try node.evaluator) } throws: { rpcFailure($0)?.fields == ["month"] }
            var flags = Evaluation_FlagWindowsRequest()
            flags.year = 2026
            flags.month = 10
            let judged = try await node.evaluation.flagWindows(flags, metadata: try node.evaluator).windows
            #expect(judged.map(\.windowID) == ["W2", "W1"])  // yellow (overdue c2, bad review) before none
            #expect(judged[0].hits.map(\.description_p).contains("有超期办件"))
        }
    }
}
