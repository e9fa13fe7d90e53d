import OneSealCore
import Testing

@testable import EvaluationRules

@Suite("Efficiency figures from a known stream of events (hand-computed)")
struct FiguresTests {
    let model = ReadModel(folding: Stream.intake + Stream.approval)

    func october(_ groupBy: GroupBy = .total, nodes: Set<String> = [Stream.county]) -> FiguresTable {
        Figures.table(Stream.october(groupBy, nodes: nodes), model: model, ratings: Stream.ratings, rectifications: Stream.tickets, labels: Labels(model: model))
    }

    @Test("October totals at the county")
    func totals() {
        let m = october().total
        // Submitted in October: app1, app2, app3, app4, app5, app7 (app6 was September; city1 is the city's).
        #expect(m.received == 6)
        // Accepted in October: app1, app3, app2 (10-13), app5 (deemed), app7.
        #expect(m.accepted == 5)
        #expect(m.corrections == 1)
        #expect(m.notAccepted == 1)
        // Delivered: app1 (1 visit), app2 (2 visits) → one-visit 1 of 2.
        #expect(m.delivered == 2)
        #expect(m.oneVisitCompleted == 1)
        #expect(m.oneVisitRate == 0.5)
        // Decided in October: c6 (10-10), c1 (10-14), c2 (10-23, denied), c5 (10-30, late).
        #expect(m.decided == 4)
        #expect(m.granted == 3)
        #expect(m.denied == 1)
        #expect(m.onTimeRate == 0.75)
        // Working days [6, 3, 8, 12]: mean 29/4, median (6+8)/2, p90 = the ⌈3.6⌉ = 4th smallest.
        #expect(m.workingDaysMean == 7.25)
        #expect(m.workingDaysMedian == 7)
        #expect(m.workingDaysP90 == 12)
        // Overdue: c5 decided late + c3 running past 10-20 on 10-31; c7 is suspended, so not overdue.
        #expect(m.running == 2)
        #expect(m.runningOverdue == 1)
        #expect(m.overdue == 2)
        // Redo: c2 (a CaseReturned) and c5 (returns in CaseDecided) of 4.
        #expect(m.redoRate == 0.5)
        // Ratings in October, r3 removed on appeal: r1 (5), r2 (2), r4 (4).
        #expect(m.ratings == 3)
        #expect(m.badReviews == 1)
        #expect(m.badReviewRatio == 1.0 / 3.0)
        #expect(m.satisfactionMean == 11.0 / 3.0)
        // Tickets opened in October, tv void: t2 (open, due 11-13: not settled on 10-31),
        // ta (on time), tb (overdue) → 1 of 2 settled on time.
        #expect(m.rectifications == 3)
        #expect(m.rectificationsSettled == 2)
        #expect(m.rectifiedOnTime == 1)
        #expect(m.rectificationsOverdue == 1)
        #expect(m.rectificationOnTimeRate == 0.5)
        #expect(m.consultations == 2)
    }

    @Test("by window")
    func byWindow() {
        let table = october(.window)
        #expect(table.rows.map(\.key) == ["W1", "W2"])
        let w1 = table.rows[0].metrics, w2 = table.rows[1].metrics
        #expect(w1.received == 3 && w2.received == 3)
        #expect(w1.decided == 3 && w1.onTimeRate == 1)
        #expect(w2.decided == 1 && w2.onTimeRate == 0)
        #expect(w1.overdue == 0)
        #expect(w2.overdue == 2)
        #expect(w1.ratings == 2 && w1.badReviews == 1 && w1.satisfactionMean == 3.5)
        #expect(w2.ratings == 1 && w2.badReviews == 0 && w2.satisfactionMean == 4)
        #expect(w1.consultations == 2)
        // The rows add up to the total when every fact has one window.
        #expect(w1.received + w2.received == table.total.received)
    }

    @Test("by item, officer and department, with labels from the events")
    func otherGroups() {
        let items = october(.item)
        #expect(items.rows.map(\.key) == ["A001", "B002"])
        #expect(items.rows.map(\.label) == ["食品经营许可", "药品零售许可"])
        #expect(items.rows[0].metrics.decided == 3)
        #expect(items.rows[1].metrics.workingDaysMean == 12)
        let officers = october(.officer)
        let o2 = officers.rows.first { $0.key == "o2" }
        #expect(o2?.label == "李强")
        #expect(o2?.metrics.decided == 1)
        let departments = october(.department)
        #expect(departments.rows.map(\.label) == ["市场准入科", "药品科"])
        #expect(departments.rows[0].metrics.running == 1)
        // Consultations count for the department of their item.
        #expect(departments.rows[0].metrics.consultations == 2)
    }

    @Test("node scope: the city alone, and the city with its county")
    func nodes() {
        #expect(october(nodes: ["371300"]).total.received == 1)
        #expect(october(nodes: ["371300", Stream.county]).total.received == 7)
        let byNode = october(.node, nodes: ["371300", Stream.county])
        #expect(byNode.rows.map(\.label) == ["临沂市", "兰山区"])
    }

    @Test("a filter by item keeps only that item's facts")
    func itemFilter() {
        var query = Stream.october()
        query.implementationCode = "B002"
        let m = Figures.table(query, model: model, ratings: Stream.ratings, rectifications: Stream.tickets).total
        #expect(m.received == 3)
        #expect(m.decided == 1)
        #expect(m.ratings == 1)
    }

    @Test("the fold does not depend on how the intake and approval streams interleave")
    func orderIndependent() {
        let approvalFirst = ReadModel(folding: Stream.approval + Stream.intake)
        var alternating: [FactEvent] = []
        let a = Stream.intake, b = Stream.approval
        for index in 0..<max(a.count, b.count) {
            if index < b.count { alternating.append(b[index]) }
            if index < a.count { alternating.append(a[index]) }
        }
        #expect(approvalFirst == model)
        #expect(ReadModel(folding: alternating) == model)
        #expect(Figures.table(Stream.october(.window), model: approvalFirst, ratings: Stream.ratings, rectifications: Stream.tickets)
            == Figures.table(Stream.october(.window), model: model, ratings: Stream.ratings, rectifications: Stream.tickets))
    }

    @Test("one pass over many queries gives each query the table it gets alone")
    func onePassManyQueries() {
        var queries: [FiguresQuery] = []
        for groupBy in [GroupBy.total, .window, .item, .officer, .department, .node] {
            queries.append(Stream.october(groupBy))
            queries.append(Stream.october(groupBy, nodes: []))
        }
        var filtered = Stream.october(.window)
        filtered.implementationCode = "B002"
        queries.append(filtered)
        var byDepartment = Stream.october(.item)
        byDepartment.department = "SCJG"
        queries.append(byDepartment)
        // Single days across October (the report's daily chart), each judged on its own day.
        var day = CivilDate("2026-10-01")!
        while day <= CivilDate("2026-10-31")! {
            queries.append(FiguresQuery(from: day, to: day, asOf: CivilDate("2026-11-05")!, nodes: [Stream.county]))
            day = day.next
        }
        queries.append(Stream.october(asOf: "2026-10-19"))
        let labels = Labels(model: model)
        let together = Figures.tables(queries, model: model, ratings: Stream.ratings, rectifications: Stream.tickets, labels: labels)
        #expect(together.count == queries.count)
        for (query, table) in zip(queries, together) {
            #expect(table == Figures.table(query, model: model, ratings: Stream.ratings, rectifications: Stream.tickets, labels: labels))
        }
        // The days add up to the month: nothing counted twice or lost between queries.
        let days = together[14..<(14 + 31)]
        #expect(days.map(\.total.received).reduce(0, +) == october().total.received)
        #expect(days.map(\.total.decided).reduce(0, +) == october().total.decided)
    }

    @Test("a running period is judged today; a past one on its last day")
    func judgingDay() {
        // On 10-19 c3 is not yet overdue (due 10-20).
        let early = Figures.table(Stream.october(asOf: "2026-10-19"), model: model, ratings: [], rectifications: []).total
        #expect(early.runningOverdue == 0)
        // Running on 10-19: c2 and c3 (c1, c6 decided; c5, c7 not opened yet).
        #expect(early.running == 2)
    }

    @Test("median and nearest-rank percentile")
    func statistics() {
        #expect(Statistics.median([]) == 0)
        #expect(Statistics.median([5]) == 5)
        #expect(Statistics.median([9, 1, 5]) == 5)
        #expect(Statistics.percentile(Array(1...10), 0.9) == 9)
        #expect(Statistics.percentile(Array(1...11), 0.9) == 10)
        #expect(Statistics.percentile([4], 0.9) == 4)
    }
}
