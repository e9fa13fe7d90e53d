import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealStore
import SupervisionRules
import Testing
@testable import SupervisionService

/// Supervision push (审管联动) through real RPC (OneSeal TCP, auth, a real PostgreSQL) on the city node
/// 371300 (临沂市), with a county department of 371302 (兰山区), on real dates.
@Suite("Supervision service", .serialized)
struct SupervisionServiceTests {
    typealias F = SupervisionFixtures
    static let friday = CivilDate(year: 2026, month: 11, day: 20)!
    static func day(_ m: Int, _ d: Int) -> CivilDate { CivilDate(year: 2026, month: m, day: d)! }

    /// City market regulation and health (pull), the county's market regulation (cross-level, pull).
    /// A city food grant and its licence, decided and issued on Friday, pushed to the city's market
    /// and health departments: the market inspector's token and the market's two pushes.
    static func grantAndLicence(_ node: SupervisionNode, case caseID: String, licence number: String) async throws -> (market: Metadata, pushes: [Supervision_Push]) {
        try await standardDepartments(node)
        try await node.setBoundary(F.foodCity, ["SCJG-371300", "WJW-371300"])
        try await node.deliver(F.grant(case: caseID, decidedOn: friday))
        try await node.deliver(F.licence(case: caseID, number: number, issuedOn: friday), from: "certificate")
        return (try node.department("SCJG-371300", subject: "inspector-9"), try await node.inbox("SCJG-371300"))
    }

    static func standardDepartments(_ node: SupervisionNode) async throws {
        try await node.addDepartment("SCJG-371300", "临沂市市场监督管理局")
        try await node.addDepartment("WJW-371300", "临沂市卫生健康委员会")
        try await node.addDepartment("SCJG-371302", "兰山区市场监督管理局", node: "371302", level: .county)
        try await node.addDepartment("JT-371300", "临沂市交通运输局")
    }

    @Test("departments and the boundary list: validation, roles, in-use departments kept, cross-level entries")
    func departmentsAndBoundary() async throws {
        try await withSupervisionNode(today: Self.friday) { node in
            try await Self.standardDepartments(node)
            var bad = Supervision_Department()
            bad.code = "x"
            bad.delivery = .endpoint
            await #expect { _ = try await node.supervision.upsertDepartment(.with { $0.department = bad }, metadata: try node.operatorToken) } throws: { error in
                let failure = rpcFailure(error)
                return failure?.code == .invalidArgument && failure!.fields == ["department.code", "department.name", "department.level", "department.node", "department.endpoint"]
            }
            var good = Supervision_Department()
            good.code = "GA-371300"
            good.name = "临沂市公安局"
            good.level = .city
            good.node = "371300"
            good.delivery = .pull
            await #expect { _ = try await node.supervision.upsertDepartment(.with { $0.department = good }, metadata: try node.sectionChief) } throws: {
                rpcFailure($0)?.code == .permissionDenied
            }
            // A county operator's token cannot manage the city's list.
            await #expect { _ = try await node.supervision.upsertDepartment(.with { $0.department = good }, metadata: try node.token(.operator, node: "371302")) } throws: {
                rpcFailure($0)?.code == .permissionDenied
            }

            let entry = try await node.setBoundary(F.foodCity, ["SCJG-371300", "WJW-371300", "SCJG-371302"])
            #expect(entry.version == 1)
            #expect(entry.departments.map(\.node) == ["371300", "371300", "371302"])
            // The same content again is no new version; a change is.
            #expect(try await node.setBoundary(F.foodCity, ["SCJG-371300", "WJW-371300", "SCJG-371302"]).version == 1)
            #expect(try await node.setBoundary(F.foodCity, ["SCJG-371302", "SCJG-371300", "WJW-371300"]).version == 2)
            try await node.setBoundary(F.foodCity, ["SCJG-371300", "WJW-371300", "SCJG-371302"])
            await #expect { _ = try await node.setBoundary(F.hygiene, ["WJW-371300", "GA-371300", "WJW-371300"]) } throws: { error in
                let failure = rpcFailure(error)
                return failure?.code == .invalidArgument && failure!.fields == ["entry.departments[1].department.code", "entry.departments[2].department.code"]
                    && failure!.reasons == ["unknown_department", "duplicate"]
            }
            await #expect { _ = try await node.supervision.removeDepartment(.with { $0.code = "WJW-371300" }, metadata: try node.operatorToken) } throws: {
                rpcFailure($0)?.code == .failedPrecondition
            }
            let removed = try await node.supervision.removeDepartment(.with { $0.code = "JT-371300" }, metadata: try node.operatorToken)
            #expect(!removed.department.active)
            let listed = try await node.supervision.listDepartments(Supervision_ListDepartmentsRequest(), metadata: try node.sectionChief)
            #expect(listed.departments.map(\.code) == ["SCJG-371300", "SCJG-371302", "WJW-371300"])
            // A department sees only its own entries.
            let own = try await node.supervision.listBoundary(Supervision_ListBoundaryRequest(), metadata: try node.department("SCJG-371302", node: "371302"))
            #expect(own.entries.map(\.implementationCode) == [F.foodCity])
            await #expect { _ = try await node.supervision.listBoundary(.with { $0.departmentCode = "WJW-371300" }, metadata: try node.department("SCJG-371302", node: "371302")) } throws: {
                rpcFailure($0)?.code == .permissionDenied
            }
            await #expect { _ = try await node.supervision.removeBoundary(.with { $0.implementationCode = F.hygiene }, metadata: try node.operatorToken) } throws: {
                rpcFailure($0)?.code == .notFound
            }
        }
    }

    @Test("a grant reaches every responsible department, across levels, once; masked holder; denials and unlisted items are kept")
    func multiDepartmentCrossLevelPush() async throws {
        try await withSupervisionNode(today: Self.friday) { node in
            try await Self.standardDepartments(node)
            try await node.setBoundary(F.foodCity, ["SCJG-371300", "WJW-371300", "SCJG-371302"])
            let grant = F.grant(case: "case-000001", decidedOn: Self.friday)
            let eventID = UUID()
            #expect(try await node.deliver(grant, id: eventID) == [eventID.uuidString])
            // Redelivered (the relay lost the acknowledgement) and re-sent under a new id: no second push.
            try await node.deliver(grant, id: eventID)
            try await node.deliver(grant)

            let created = try SupervisionOutbox.of(Supervision_PushCreated.self, in: try await node.outbox())
            #expect(created.count == 3)
            #expect(created.allSatisfy { $0.destination == "evaluation@371300" })
            #expect(Set(created.map { $0.event.push.department.code }) == ["SCJG-371300", "WJW-371300", "SCJG-371302"])

            // The county department, with its own node's token, sees its push at the city's service.
            let county = try await node.inbox("SCJG-371302", node: "371302")
            #expect(county.count == 1)
            let push = county[0]
            #expect(push.kind == .grant && push.status == .pending)
            #expect(push.caseID == "case-000001" && push.implementationCode == F.foodCity && push.sourceNode == "371300")
            #expect(push.scope == "预包装食品销售；热食类食品制售" && push.place == "临沂市兰山区解放路1号" && push.conditions == ["每年报告经营情况"])
            #expect(push.decidedOn.civilDate == Self.friday && push.validFrom.civilDate == Self.friday)
            #expect(push.holder.name == "张三" && push.holder.idNumber == "3713**********1233" && push.holder.phone == "138****5678")
            #expect(push.holder.masked && push.holder.email.isEmpty && push.holder.address == "山东省临沂市****")
            #expect(push.responsibility == "SCJG-371302 日常监管")
            // At rest the holder's name is nowhere in the clear: not in the pushes, not in the outbox.
            let leaks = try await node.database.query("""
                SELECT (SELECT count(*) FROM pushes WHERE position(convert_to('张三', 'UTF8') in record) > 0)
                     + (SELECT count(*) FROM outbox WHERE position(convert_to('张三', 'UTF8') in payload) > 0) AS n
                """).one().decode("n", as: Int.self)
            #expect(leaks == 0)
            #expect(push.licence.licenceName == "食品经营许可证")
            // Decided Friday 09:00, pushed Friday 10:00: one hour, within the 1-working-day push deadline.
            #expect(push.pushedOnTime && push.pushSeconds == 3600 && push.pushDeadline.dueOn.civilDate == Self.day(11, 23))
            #expect(push.claimDeadline.dueOn.civilDate == Self.day(11, 23) && push.claimDeadline.workingDaysTotal == 1)
            // No full ID number is stored anywhere in supervision's database.
            let stored = try await node.database.query("SELECT count(*) AS n FROM pushes WHERE position(convert_to(\(F.residentID), 'UTF8') in record) > 0").one().decode("n", as: Int.self)
            #expect(stored == 0)

            // Claiming: own push only, once; a department token must match the department's node.
            let claimed = try await node.supervision.claimPush(.with { $0.pushID = push.pushID; $0.note = "已安排辖区所核查" }, metadata: try node.department("SCJG-371302", node: "371302"))
            #expect(claimed.push.status == .claimed && claimed.push.claimedOnTime && claimed.push.claimedBy.subject == "inspector-1")
            await #expect { _ = try await node.supervision.claimPush(.with { $0.pushID = push.pushID }, metadata: try node.department("SCJG-371302", node: "371302")) } throws: {
                rpcFailure($0)?.code == .failedPrecondition
            }
            let health = try await node.inbox("WJW-371300")
            await #expect { _ = try await node.supervision.claimPush(.with { $0.pushID = health[0].pushID }, metadata: try node.department("SCJG-371302", node: "371302")) } throws: {
                rpcFailure($0)?.code == .permissionDenied
            }
            await #expect { _ = try await node.supervision.claimPush(.with { $0.pushID = health[0].pushID }, metadata: try node.department("WJW-371300", node: "371302")) } throws: {
                rpcFailure($0)?.code == .permissionDenied
            }
            await #expect { _ = try await node.supervision.listPushes(.with { $0.departmentCode = "WJW-371300" }, metadata: try node.department("SCJG-371302", node: "371302")) } throws: {
                rpcFailure($0)?.code == .permissionDenied
            }
            await #expect { _ = try await node.supervision.claimPush(.with { $0.pushID = "not-an-id" }, metadata: try node.department("WJW-371300")) } throws: {
                rpcFailure($0)?.fields == ["push_id"]
            }
            await #expect { _ = try await node.supervision.getPush(.with { $0.pushID = UUID().uuidString }, metadata: try node.sectionChief) } throws: {
                rpcFailure($0)?.code == .notFound
            }
            let claimedEvents = try SupervisionOutbox.of(Supervision_PushClaimed.self, in: try await node.outbox())
            #expect(claimedEvents.map { $0.event.push.pushID } == [push.pushID])

            // The bureau sees every push of the case.
            let all = try await node.supervision.listPushes(.with { $0.caseID = "case-000001" }, metadata: try node.sectionChief)
            #expect(all.pushes.count == 3 && all.page.totalSize == 3)
            // Pages of one (keyset, decision 58) give the same three in the same order, each once;
            // an offset (the old token) or a made-up one is refused by field.
            var paged: [String] = []
            var token = ""
            repeat {
                let page = try await node.supervision.listPushes(.with { $0.caseID = "case-000001"; $0.page = .with { $0.pageSize = 1; $0.pageToken = token } }, metadata: try node.sectionChief)
                #expect(page.page.totalSize == 3 && page.pushes.count == 1)
                paged += page.pushes.map(\.pushID)
                token = page.page.nextPageToken
            } while !token.isEmpty
            #expect(paged == all.pushes.map(\.pushID))
            for bad in ["1", "t1.5.x"] {
                await #expect { _ = try await node.supervision.listPushes(.with { $0.page = .with { $0.pageToken = bad } }, metadata: try node.sectionChief) } throws: {
                    rpcFailure($0)?.fields == ["page.page_token"]
                }
            }

            // A revocation reported by approval and by certificate: one revocation push per department.
            try await node.deliver(F.revoked(case: "case-000001", licenceNumber: "JY13713000000001", on: Self.friday))
            try await node.deliver(F.licenceRevoked(case: "case-000001", licenceNumber: "JY13713000000001", on: Self.friday), from: "certificate")
            let revocations = try await node.supervision.listPushes(.with { $0.kinds = [.revocation] }, metadata: try node.sectionChief)
            #expect(revocations.pushes.count == 3)
            #expect(revocations.pushes.allSatisfy { $0.reason.hasPrefix("撤销") && $0.licence.licenceNumber == "JY13713000000001" })

            // A denial pushes nothing; an item without a boundary entry is listed for the bureau.
            try await node.deliver(F.denial(case: "case-000002", decidedOn: Self.friday))
            try await node.deliver(F.grant(case: "case-000003", item: F.forestry, decidedOn: Self.friday))
            let outcomes = try await node.database.query("SELECT outcome FROM source_events ORDER BY at, event_id").map { try $0.decode("outcome", as: String.self) }
            #expect(outcomes.filter { $0 == "not_pushed" }.count == 1 && outcomes.filter { $0 == "no_boundary" }.count == 1)
            let boundary = try await node.supervision.listBoundary(Supervision_ListBoundaryRequest(), metadata: try node.operatorToken)
            #expect(boundary.itemsWithoutBoundary == [F.forestry])
            // An event type supervision does not consume is kept, not dropped.
            try await node.deliver(Approval_CaseOpened.with { $0.header = F.header(case: "case-000004") })
            let kept = try await node.database.query("SELECT count(*) AS n FROM source_events WHERE outcome = 'unknown_type' AND payload IS NOT NULL").one().decode("n", as: Int.self)
            #expect(kept == 1)
            // A payload that does not decode, and a grant naming no case: acknowledged and kept, never blocking.
            let garbage = UUID()
            #expect(try await node.deliver(Common_LicenceRef.with { $0.licenceNumber = "x" }, id: garbage, asType: Approval_CaseDecided.protoMessageName, payload: [0xFF, 0xFF, 0xFF]) == [garbage.uuidString])
            try await node.deliver(F.grant(case: "", decidedOn: Self.friday))
            let unfileable = try await node.database.query("SELECT count(*) AS n FROM source_events WHERE outcome = 'unfileable' AND payload IS NOT NULL").one().decode("n", as: Int.self)
            #expect(unfileable == 2)
        }
    }

    @Test("a Friday push unclaimed over the weekend is overdue from Tuesday, reported once; pushed = claimed nodes claim on arrival")
    func claimOverdueAcrossWeekend() async throws {
        try await withSupervisionNode(today: Self.friday) { node in
            try await Self.standardDepartments(node)
            try await node.setBoundary(F.foodCity, ["SCJG-371300"])
            try await node.deliver(F.grant(case: "case-000010", decidedOn: Self.friday))
            // Saturday, Sunday, and Monday evening: not yet overdue (due Monday 2026-11-23).
            for (day, hour) in [(21, 10), (22, 20), (23, 23)] {
                node.clock.set(Self.day(11, day), hour: hour)
                #expect(try await node.sweeper.sweepOnce() == 0)
            }
            node.clock.set(Self.day(11, 24), hour: 0, minute: 30)
            // Two replicas sweep at once: the push is reported once.
            async let first = node.sweeper.sweepOnce()
            async let second = node.sweeper.sweepOnce()
            #expect(try await first + second == 1)
            #expect(try await node.sweeper.sweepOnce() == 0)
            let overdue = try SupervisionOutbox.of(Supervision_PushClaimOverdue.self, in: try await node.outbox())
            #expect(overdue.count == 1 && overdue[0].destination == "evaluation@371300")
            #expect(overdue[0].event.push.claimDeadline.overdue && overdue[0].event.push.claimDeadline.overdueWorkingDays == 1)
            let listed = try await node.supervision.listPushes(.with { $0.claimOverdueOnly = true }, metadata: try node.department("SCJG-371300"))
            #expect(listed.pushes.count == 1 && listed.pushes[0].claimOverdueReported)
            node.clock.set(Self.day(11, 24), hour: 9)
            let late = try await node.supervision.claimPush(.with { $0.pushID = listed.pushes[0].pushID }, metadata: try node.department("SCJG-371300"))
            #expect(!late.push.claimedOnTime)

            // This node switches to "pushed = claimed".
            try await node.setting("supervision.pushed_is_claimed", "true")
            try await node.deliver(F.grant(case: "case-000011", decidedOn: Self.day(11, 24)))
            let auto = try await node.supervision.listPushes(.with { $0.caseID = "case-000011" }, metadata: try node.sectionChief).pushes
            #expect(auto.count == 1 && auto[0].status == .claimed && auto[0].autoClaimed && auto[0].claimedOnTime)
            #expect(try SupervisionOutbox.of(Supervision_PushClaimed.self, in: try await node.outbox()).count == 2)

            // Q4 2026: two pushes, both claimed, one on time; latencies 47 working hours (Fri 10:00 →
            // Tue 09:00: 14 h Fri + 24 h Mon + 9 h Tue = 47 h) and 0.
            let figures = try await node.supervision.quarterlyFigures(.with { $0.year = 2026; $0.quarter = 4 }, metadata: try node.token(.leader))
            let market = try #require(figures.departments.first { $0.department.code == "SCJG-371300" })
            #expect(market.pushed == 2 && market.claimed == 2 && market.claimedOnTime == 1 && market.claimOnTimeRate == 0.5)
            #expect(market.claimLatencyWorstHours == 47 && market.claimLatencyMedianHours == 23.5 && market.department.name == "临沂市市场监督管理局")
            #expect(figures.total.pushed == 2)
            await #expect { _ = try await node.supervision.quarterlyFigures(.with { $0.year = 2026; $0.quarter = 5 }, metadata: try node.token(.leader)) } throws: {
                rpcFailure($0)?.fields == ["quarter"]
            }
            await #expect { _ = try await node.supervision.quarterlyFigures(.with { $0.year = 2026; $0.quarter = 4; $0.departmentCode = "WJW-371300" }, metadata: try node.department("SCJG-371300")) } throws: {
                rpcFailure($0)?.code == .permissionDenied
            }
        }
    }

    @Test("a wrong department rejects with a reason; the bureau re-routes and fixes the boundary list")
    func rejectionAndRerouting() async throws {
        try await withSupervisionNode(today: Self.friday) { node in
            try await Self.standardDepartments(node)
            try await node.setBoundary(F.foodCity, ["JT-371300", "WJW-371300"])
            try await node.deliver(F.grant(case: "case-000020", decidedOn: Self.friday))
            let wrong = try await node.inbox("JT-371300")[0]
            let transport = try node.department("JT-371300")
            await #expect { _ = try await node.supervision.rejectPush(.with { $0.pushID = wrong.pushID; $0.reason = "" }, metadata: transport) } throws: {
                rpcFailure($0)?.fields == ["reason"]
            }
            await #expect { _ = try await node.supervision.rejectPush(.with { $0.pushID = wrong.pushID; $0.reason = "不属于交通运输部门监管"; $0.suggestedDepartment.code = "NOPE" }, metadata: transport) } throws: {
                rpcFailure($0)?.fields == ["suggested_department.code"]
            }
            let rejected = try await node.supervision.rejectPush(.with {
                $0.pushID = wrong.pushID
                $0.reason = "食品经营许可不属于交通运输部门监管职责"
                $0.suggestedDepartment.code = "SCJG-371300"
            }, metadata: transport)
            #expect(rejected.push.status == .rejected && rejected.push.suggestedDepartment.name == "临沂市市场监督管理局")
            await #expect { _ = try await node.supervision.claimPush(.with { $0.pushID = wrong.pushID }, metadata: transport) } throws: {
                rpcFailure($0)?.code == .failedPrecondition
            }
            #expect(try SupervisionOutbox.of(Supervision_PushRejected.self, in: try await node.outbox()).map { $0.event.push.rejectionReason } == ["食品经营许可不属于交通运输部门监管职责"])
            // Departments cannot re-route; the bureau can.
            await #expect { _ = try await node.supervision.reroutePush(.with { $0.pushID = wrong.pushID; $0.departments = [.with { $0.code = "SCJG-371300" }]; $0.reason = "改派市场监管" }, metadata: transport) } throws: {
                rpcFailure($0)?.code == .permissionDenied
            }
            await #expect { _ = try await node.supervision.reroutePush(.with { $0.pushID = wrong.pushID; $0.departments = [.with { $0.code = "" }]; $0.reason = "" }, metadata: try node.sectionChief) } throws: {
                rpcFailure($0)?.fields == ["departments[0].code", "reason"]
            }
            let rerouted = try await node.supervision.reroutePush(.with {
                $0.pushID = wrong.pushID
                $0.departments = [.with { $0.code = "SCJG-371300" }]
                $0.reason = "食品经营日常监管"
                $0.updateBoundary = true
            }, metadata: try node.sectionChief)
            #expect(rerouted.original.status == .rerouted && rerouted.original.reroutedToPushIds == rerouted.pushes.map(\.pushID))
            #expect(rerouted.pushes.count == 1 && rerouted.pushes[0].department.code == "SCJG-371300" && rerouted.pushes[0].reroutedFromPushID == wrong.pushID)
            #expect(rerouted.pushes[0].status == .pending && rerouted.pushes[0].caseID == "case-000020" && rerouted.pushes[0].holder.idNumber == "3713**********1233")
            await #expect { _ = try await node.supervision.reroutePush(.with { $0.pushID = wrong.pushID; $0.departments = [.with { $0.code = "WJW-371300" }]; $0.reason = "再次改派" }, metadata: try node.sectionChief) } throws: {
                rpcFailure($0)?.code == .failedPrecondition
            }
            let market = try await node.inbox("SCJG-371300")
            #expect(market.map(\.pushID) == rerouted.pushes.map(\.pushID))

            // The boundary list was fixed: the next grant goes to market regulation and health only.
            let entry = try await node.supervision.listBoundary(.with { $0.implementationCode = F.foodCity }, metadata: try node.operatorToken).entries[0]
            #expect(entry.departments.map(\.department.code) == ["WJW-371300", "SCJG-371300"] && entry.version == 2)
            try await node.deliver(F.grant(case: "case-000021", decidedOn: Self.friday))
            let next = try await node.supervision.listPushes(.with { $0.caseID = "case-000021" }, metadata: try node.sectionChief).pushes
            #expect(Set(next.map(\.department.code)) == ["WJW-371300", "SCJG-371300"])

            let figures = try await node.supervision.quarterlyFigures(.with { $0.year = 2026; $0.quarter = 4 }, metadata: try node.sectionChief)
            let jt = try #require(figures.departments.first { $0.department.code == "JT-371300" })
            #expect(jt.pushed == 1 && jt.rejected == 1 && jt.rerouted == 1 && jt.accuracy == 0)
            #expect(figures.total.pushed == 5 && figures.total.rejected == 1)
        }
    }

    @Test("ClaimPushes: a grant and its licence claimed in one transaction, all or none; each bad id named by its place")
    func claimSeveralAtOnce() async throws {
        try await withSupervisionNode(today: Self.friday) { node in
            let (market, pushes) = try await Self.grantAndLicence(node, case: "case-000040", licence: "JY13713000000040")
            let health = try await node.inbox("WJW-371300")
            #expect(pushes.count == 2 && !health.isEmpty)
            let ids = pushes.map(\.pushID)
            func claiming(_ ids: [String], by metadata: Metadata) async throws -> [Supervision_Push] {
                try await node.supervision.claimPushes(.with { $0.pushIds = ids; $0.note = "一并认领" }, metadata: metadata).pushes
            }

            // Checked at the edge, each id by its place.
            await #expect { _ = try await claiming([], by: market) } throws: { rpcFailure($0)?.fields == ["push_ids"] }
            await #expect { _ = try await claiming(Array(repeating: ids[0], count: 101), by: market) } throws: { rpcFailure($0)?.fields == ["push_ids"] }
            await #expect { _ = try await claiming([ids[0], "not-an-id"], by: market) } throws: { rpcFailure($0)?.fields == ["push_ids[1]"] }
            await #expect { _ = try await claiming([ids[0], ids[1], ids[0]], by: market) } throws: { rpcFailure($0)?.fields == ["push_ids[2]"] }
            // Another department's push among them: refused, and none of the caller's is claimed.
            await #expect { _ = try await claiming([ids[0], health[0].pushID], by: market) } throws: {
                rpcFailure($0)?.code == .permissionDenied && (rpcFailure($0)?.message.hasPrefix("push_ids[1]: ") ?? false)
            }
            #expect(try await node.inbox("SCJG-371300").allSatisfy { $0.status == .pending })
            #expect(try SupervisionOutbox.of(Supervision_PushClaimed.self, in: try await node.outbox()).isEmpty)

            let claimed = try await claiming(ids.reversed(), by: market)
            #expect(claimed.map(\.pushID) == ids.reversed(), "in the order asked")
            #expect(claimed.allSatisfy { $0.status == .claimed && $0.claimedOnTime && $0.claimedBy.subject == "inspector-9" && $0.claimNote == "一并认领" })
            let events = try SupervisionOutbox.of(Supervision_PushClaimed.self, in: try await node.outbox())
            #expect(Set(events.map { $0.event.push.pushID }) == Set(ids))
            // Both rows written by one transaction.
            let writers = try await node.database.query("SELECT count(DISTINCT xmin::text)::int8 AS n FROM pushes WHERE status = 'claimed'").one().decode("n", as: Int.self)
            #expect(writers == 1)
            // Claimed already: the whole call is refused, naming the push.
            await #expect { _ = try await claiming([ids[1]], by: market) } throws: {
                rpcFailure($0)?.code == .failedPrecondition && (rpcFailure($0)?.message.hasPrefix("push_ids[0]: ") ?? false)
            }
        }
    }

    @Test("findings: a withdrawal becomes a cancellation and a bad grant a revocation review at approval@; unknown licences, unclaimed pushes refused")
    func findingsReachApproval() async throws {
        try await withSupervisionNode(today: Self.friday) { node in
            let (market, pushes) = try await Self.grantAndLicence(node, case: "case-000030", licence: "JY13713000000030")
            #expect(pushes.map(\.kind).sorted { $0.rawValue < $1.rawValue } == [.grant, .licence])
            let licencePush = try #require(pushes.first { $0.kind == .licence })
            #expect(licencePush.holder.idNumber == "3713**********1233" && licencePush.licenceVersion == "001")

            var withdrawal = Supervision_Finding()
            withdrawal.kind = .licenceWithdrawn
            withdrawal.licence.licenceNumber = "JY13713000000030"
            withdrawal.penalty = Supervision_Penalty.with { $0.decisionNumber = "临市监罚〔2026〕88号"; $0.penaltyType = "吊销许可证"; $0.decidedOn = Common_CivilDate(Self.friday) }
            withdrawal.facts = "经营者使用过期原料生产食品，情节严重，依法吊销食品经营许可证"
            withdrawal.occurredOn = Common_CivilDate(Self.friday)
            // Not claimed yet: claim first.
            await #expect { _ = try await node.supervision.submitFinding(.with { $0.finding = withdrawal }, metadata: market) } throws: {
                rpcFailure($0)?.code == .failedPrecondition
            }
            _ = try await node.supervision.claimPush(.with { $0.pushID = licencePush.pushID }, metadata: market)
            // A licence never pushed to this department.
            var unknown = withdrawal
            unknown.licence.licenceNumber = "JY13713009999999"
            await #expect { _ = try await node.supervision.submitFinding(.with { $0.finding = unknown }, metadata: market) } throws: {
                rpcFailure($0)?.code == .notFound
            }
            // Another department cannot report on this push; bad drafts list every field.
            var foreign = withdrawal
            foreign.pushID = licencePush.pushID
            await #expect { _ = try await node.supervision.submitFinding(.with { $0.finding = foreign }, metadata: try node.department("WJW-371300")) } throws: {
                rpcFailure($0)?.code == .permissionDenied
            }
            await #expect { _ = try await node.supervision.submitFinding(.with { $0.finding = Supervision_Finding.with { $0.kind = .penalty; $0.facts = "x" } }, metadata: market) } throws: { error in
                rpcFailure(error)?.fields == ["finding.push_id", "finding.facts", "finding.occurred_on", "finding.penalty.decision_number", "finding.penalty.penalty_type"]
            }
            // Bureau staff do not submit findings.
            await #expect { _ = try await node.supervision.submitFinding(.with { $0.finding = withdrawal }, metadata: try node.sectionChief) } throws: {
                rpcFailure($0)?.code == .permissionDenied
            }

            let submitted = try await node.supervision.submitFinding(.with { $0.finding = withdrawal; $0.idempotencyKey = "scjg-2026-88" }, metadata: market).finding
            let again = try await node.supervision.submitFinding(.with { $0.finding = withdrawal; $0.idempotencyKey = "scjg-2026-88" }, metadata: market).finding
            #expect(again.findingID == submitted.findingID)
            #expect(submitted.effect == .cancellation && submitted.caseID == "case-000030" && submitted.pushID == licencePush.pushID)

            // The grant push: "should not have been granted" → a revocation review, a minute later
            // (findings list oldest first; at one instant, by id).
            node.clock.advance(seconds: 60)
            let grantPush = try #require(pushes.first { $0.kind == .grant })
            _ = try await node.supervision.claimPush(.with { $0.pushID = grantPush.pushID }, metadata: market)
            var recommendation = Supervision_Finding()
            recommendation.kind = .revocationRecommended
            recommendation.pushID = grantPush.pushID
            recommendation.facts = "核查发现申请人提交的经营场所租赁合同系伪造，不具备法定条件"
            recommendation.occurredOn = Common_CivilDate(Self.friday)
            let review = try await node.supervision.submitFinding(.with { $0.finding = recommendation }, metadata: market).finding
            #expect(review.effect == .revocationReview)

            let events = try SupervisionOutbox.of(Supervision_FindingSubmitted.self, in: try await node.outbox())
            #expect(events.count == 2)
            #expect(events.allSatisfy { $0.destination == "approval@371300" })
            let cancellation = events[0].event.finding
            #expect(cancellation.kind == .licenceWithdrawn && cancellation.effect == .cancellation)
            #expect(cancellation.caseID == "case-000030" && cancellation.caseNumber == "371300-20261120-000030" && cancellation.decidingNode == "371300")
            #expect(cancellation.licence.licenceNumber == "JY13713000000030" && cancellation.department.code == "SCJG-371300")
            #expect(cancellation.penalty.decisionNumber == "临市监罚〔2026〕88号" && cancellation.submittedBy.subject == "inspector-9")
            #expect(cancellation.occurredOn.civilDate == Self.friday && cancellation.findingID == submitted.findingID)
            let revocation = events[1].event.finding
            #expect(revocation.kind == .revocationRecommended && revocation.effect == .revocationReview && revocation.caseID == "case-000030")
            #expect(revocation.facts == "核查发现申请人提交的经营场所租赁合同系伪造，不具备法定条件")
            let envelopeAggregate = try await node.database.query("SELECT DISTINCT aggregate_id FROM outbox WHERE type = 'oneseal.supervision.v1.FindingSubmitted'").map { try $0.decode("aggregate_id", as: String.self) }
            #expect(envelopeAggregate == ["case-000030"])

            // Visible on the case, to the bureau.
            let onCase = try await node.supervision.listFindings(.with { $0.caseID = "case-000030" }, metadata: try node.sectionChief)
            #expect(onCase.findings.map(\.effect) == [.cancellation, .revocationReview])
            // Page by key, oldest first: one at a time, the token names the last one shown; an
            // offset (what an earlier release answered) is refused, not read as a position.
            let first = try await node.supervision.listFindings(.with { $0.departmentCode = "SCJG-371300"; $0.page.pageSize = 1 }, metadata: try node.sectionChief)
            #expect(first.findings.map(\.findingID) == [submitted.findingID] && first.page.totalSize == 2)
            #expect(first.page.nextPageToken.hasPrefix("t1."))
            let second = try await node.supervision.listFindings(
                .with { $0.departmentCode = "SCJG-371300"; $0.page.pageSize = 1; $0.page.pageToken = first.page.nextPageToken }, metadata: try node.sectionChief)
            #expect(second.findings.map(\.findingID) == [review.findingID] && second.page.nextPageToken.isEmpty)
            let mine = try await node.supervision.listFindings(.with { $0.page.pageSize = 5 }, metadata: market)
            #expect(mine.findings.map(\.findingID) == [submitted.findingID, review.findingID] && mine.page.nextPageToken.isEmpty)
            await #expect { _ = try await node.supervision.listFindings(.with { $0.page.pageToken = "1" }, metadata: try node.sectionChief) } throws: {
                rpcFailure($0)?.fields == ["page.page_token"]
            }
            let detail = try await node.supervision.getPush(.with { $0.pushID = grantPush.pushID }, metadata: market)
            #expect(detail.findings.map(\.findingID) == [review.findingID])
            await #expect { _ = try await node.supervision.listFindings(.with { $0.departmentCode = "SCJG-371300" }, metadata: try node.department("WJW-371300")) } throws: {
                rpcFailure($0)?.code == .permissionDenied
            }
            let figures = try await node.supervision.quarterlyFigures(.with { $0.year = 2026; $0.quarter = 4; $0.departmentCode = "SCJG-371300" }, metadata: market)
            #expect(figures.departments.map(\.findings) == [2])
        }
    }

    @Test("a 告知承诺 grant is pushed for verification and a false commitment opens a revocation review; a re-issued licence is a change")
    func commitmentAndChange() async throws {
        try await withSupervisionNode(today: Self.friday) { node in
            try await Self.standardDepartments(node)
            try await node.setBoundary(F.foodCity, ["SCJG-371300"])
            try await node.deliver(F.grant(case: "case-000040", decidedOn: Self.friday, commitment: true))
            try await node.deliver(F.grant(case: "case-000041", decidedOn: Self.friday))
            let market = try node.department("SCJG-371300")
            let commitment = try #require(try await node.supervision.listPushes(.with { $0.caseID = "case-000040" }, metadata: market).pushes.first)
            #expect(commitment.kind == .commitment && commitment.acceptanceKind == .commitment)
            let plain = try #require(try await node.supervision.listPushes(.with { $0.caseID = "case-000041" }, metadata: market).pushes.first)
            #expect(plain.kind == .grant)
            _ = try await node.supervision.claimPush(.with { $0.pushID = commitment.pushID }, metadata: market)
            _ = try await node.supervision.claimPush(.with { $0.pushID = plain.pushID }, metadata: market)

            var falseCommitment = Supervision_Finding()
            falseCommitment.kind = .commitmentFalse
            falseCommitment.caseID = "case-000040"
            falseCommitment.facts = "现场核查：申请人承诺已具备的冷藏设施并不存在"
            falseCommitment.occurredOn = Common_CivilDate(Self.friday)
            let finding = try await node.supervision.submitFinding(.with { $0.finding = falseCommitment }, metadata: market).finding
            #expect(finding.effect == .revocationReview && finding.pushID == commitment.pushID)
            var misplaced = falseCommitment
            misplaced.caseID = "case-000041"
            misplaced.kind = .commitmentVerified
            await #expect { _ = try await node.supervision.submitFinding(.with { $0.finding = misplaced }, metadata: market) } throws: {
                rpcFailure($0)?.code == .failedPrecondition
            }
            // An inspection result is recorded only.
            var inspection = Supervision_Finding()
            inspection.kind = .inspectionResult
            inspection.inspectionResult = .compliant
            inspection.pushID = plain.pushID
            inspection.facts = "现场检查符合要求"
            inspection.occurredOn = Common_CivilDate(Self.friday)
            #expect(try await node.supervision.submitFinding(.with { $0.finding = inspection }, metadata: market).finding.effect == .record)
            let events = try SupervisionOutbox.of(Supervision_FindingSubmitted.self, in: try await node.outbox())
            #expect(events.map { $0.event.finding.effect } == [.revocationReview, .record])

            // The first issue is a licence push, a re-issue (version 002) a change push; each once.
            try await node.deliver(F.licence(case: "case-000041", number: "JY13713000000041", issuedOn: Self.friday), from: "certificate")
            try await node.deliver(F.licence(case: "case-000041", number: "JY13713000000041", issuedOn: Self.friday, version: "002"), from: "certificate")
            try await node.deliver(F.licence(case: "case-000041", number: "JY13713000000041", issuedOn: Self.friday, version: "002"), from: "certificate")
            let kinds = try await node.supervision.listPushes(.with { $0.caseID = "case-000041"; $0.kinds = [.licence, .change] }, metadata: market).pushes.map(\.kind)
            #expect(kinds.sorted { $0.rawValue < $1.rawValue } == [.licence, .change])
        }
    }
}
