import OneSealCore
import Testing

@testable import EvaluationRules

/// The service folds a delivered batch at once: it locks and loads the facts at the union of
/// the batch's keys, applies every event in order, writes the facts back (#21). It used to load,
/// apply and write per event. These tests show the two give the same rows, on the known stream
/// plus pushes and findings, cut into batches every way a relay could cut it, onto an empty
/// store and onto one that already holds part of the stream.
@Suite("A batch folded at once writes what folding its events one by one wrote")
struct BatchFoldTests {
    static let pushes: [FactEvent] = [
        .push(id: "p1", node: Stream.county, department: Department(code: "SCJ", name: "市场监管局"), implementationCode: "A001", caseID: "c1",
              on: day("2026-10-14"), claimDueOn: day("2026-10-15"), change: .created),
        .finding(pushID: "p1"),
        .push(id: "p1", node: "", department: nil, implementationCode: "", caseID: "", on: day("2026-10-15"), claimDueOn: nil, change: .claimed),
        .push(id: "p2", node: Stream.county, department: nil, implementationCode: "B002", caseID: "c5", on: day("2026-10-30"), claimDueOn: day("2026-11-02"), change: .created),
        .push(id: "p2", node: "", department: nil, implementationCode: "", caseID: "", on: day("2026-11-03"), claimDueOn: nil, change: .claimOverdue),
        .finding(pushID: "p1"),
        .licenceIssued(caseID: "c1", applicationID: "app1", implementationCode: "A001", on: day("2026-10-15"), workingDaysAfterDecision: 1),
    ]

    /// Intake, approval and supervision interleaved, so one batch holds events of every kind and
    /// several events of the same application, case and push.
    static var stream: [FactEvent] {
        let sources = [Stream.intake, Stream.approval, pushes]
        var out: [FactEvent] = []
        for index in 0..<(sources.map(\.count).max() ?? 0) {
            for source in sources where index < source.count { out.append(source[index]) }
        }
        return out
    }

    /// The store's rows at `keys`, as `FactStore.load` reads them.
    func rows(_ store: ReadModel, at keys: FactKeys) -> ReadModel {
        ReadModel(applications: store.applications.filter { keys.applications.contains($0.key) },
                  cases: store.cases.filter { keys.cases.contains($0.key) },
                  pushes: store.pushes.filter { keys.pushes.contains($0.key) })
    }

    /// Writes every fact of `model` into the store, as `FactStore.save` upserts them.
    func write(_ model: ReadModel, into store: inout ReadModel) {
        store.applications.merge(model.applications) { _, new in new }
        store.cases.merge(model.cases) { _, new in new }
        store.consultations.merge(model.consultations) { _, new in new }
        store.pushes.merge(model.pushes) { _, new in new }
    }

    /// The service's fold of one batch: load at the batch's keys, apply all, write back.
    func fold(_ batch: ArraySlice<FactEvent>, into store: inout ReadModel) {
        var model = rows(store, at: FactKeys(of: batch))
        for event in batch { model.apply(event) }
        write(model, into: &store)
    }

    @Test("every event reads and writes only the facts at its own keys")
    func eventsStayWithinTheirKeys() {
        let whole = ReadModel(folding: Self.stream)
        for event in Self.stream {
            var after = whole
            after.apply(event)
            let keys = FactKeys(of: [event])
            #expect(after.applications.filter { !keys.applications.contains($0.key) } == whole.applications.filter { !keys.applications.contains($0.key) }, "\(event)")
            #expect(after.cases.filter { !keys.cases.contains($0.key) } == whole.cases.filter { !keys.cases.contains($0.key) }, "\(event)")
            #expect(after.pushes.filter { !keys.pushes.contains($0.key) } == whole.pushes.filter { !keys.pushes.contains($0.key) }, "\(event)")
            // What it writes at its keys depends only on the rows there: applied to those rows
            // alone it gives the same facts as applied to the whole model.
            var alone = rows(whole, at: keys)
            alone.apply(event)
            #expect(rows(alone, at: keys) == rows(after, at: keys), "\(event)")
        }
    }

    @Test("batches of every size, onto an empty store and onto a half-folded one, give the rows of one-by-one folding")
    func batchesEqualOneByOne() {
        let stream = Self.stream
        #expect(stream.count == Stream.intake.count + Stream.approval.count + Self.pushes.count)
        let half = stream.count / 2
        for start in [0, half] {
            var oneByOne = ReadModel(folding: stream[..<start])
            for index in start..<stream.count { fold(stream[index...index], into: &oneByOne) }
            // The rebuild (E8) folds the whole log in one model: the same rows.
            #expect(oneByOne == ReadModel(folding: stream))
            for size in [2, 3, 5, 8, 13, stream.count] {
                var batched = ReadModel(folding: stream[..<start])
                var at = start
                while at < stream.count {
                    let end = min(at + size, stream.count)
                    fold(stream[at..<end], into: &batched)
                    at = end
                }
                #expect(batched == oneByOne, "batches of \(size) from event \(start)")
            }
        }
    }

    @Test("the lock names: one per fact, sorted, empty ids left out")
    func lockNames() {
        let keys = FactKeys(of: [
            .caseReturned(Stream.header("c2", app: "app2", item: Stream.A, officer: "o1"), on: day("2026-10-16")),
            .finding(pushID: "p1"), .applicationWithdrawn(applicationID: "app2", on: day("2026-10-17")),
            .caseReturned(Stream.header("c2", app: "app2", item: Stream.A, officer: "o1"), on: day("2026-10-19")),
            .finding(pushID: ""), .consultation(ConsultationFact(id: "q9", node: Stream.county, implementationCode: "A001", windowID: "W1", on: day("2026-10-19"))),
        ])
        #expect(keys.lockNames == ["application:app2", "case:c2", "push:p1"])
        #expect(FactKeys(of: [.other, .finding(pushID: "")]).isEmpty)
    }
}
