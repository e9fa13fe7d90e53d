import Foundation
import OneSealCore
import Testing
@testable import SupervisionRules

@Suite("Push and claim life cycle on the real calendar")
struct PushLifeCycleTests {
    typealias D = Dates

    func schedule(source: CivilDate, pushed: CivilDate, _ policy: SupervisionPolicy = .default) throws -> PushSchedule {
        try PushSchedule(sourceOn: source, pushedOn: pushed, policy: policy, calendar: D.calendar)
    }

    @Test("claim deadline: 1 working day; a Friday push is due Monday and overdue from Tuesday 00:00")
    func overdueAcrossWeekend() throws {
        let plan = try schedule(source: D.day(2026, 11, 20), pushed: D.day(2026, 11, 20))
        #expect(plan.claimDue == D.day(2026, 11, 23))
        #expect(plan.pushDue == D.day(2026, 11, 23))
        #expect(!plan.isClaimOverdue(now: D.at(2026, 11, 22, 23, 59)))
        #expect(!plan.isClaimOverdue(now: D.at(2026, 11, 23, 23, 59)))
        #expect(plan.isClaimOverdue(now: D.at(2026, 11, 24, 0, 0)))
        var push = PushState(departmentCode: "SCJG-371302", schedule: plan)
        try push.claim(at: D.at(2026, 11, 23, 17, 30))
        #expect(push.claimedOnTime)
        var late = PushState(departmentCode: "SCJG-371302", schedule: plan)
        try late.claim(at: D.at(2026, 11, 24, 8, 30))
        #expect(!late.claimedOnTime)
    }

    @Test("holidays and make-up days: National Day 2026 and 2025, Spring Festival 2026's Saturday make-up day")
    func holidays() throws {
        // 2026-09-30 (Wed): 10-01…10-07 off, so the next working day is Thursday 10-08.
        #expect(try schedule(source: D.day(2026, 9, 30), pushed: D.day(2026, 9, 30)).claimDue == D.day(2026, 10, 8))
        // 2025-09-30 (Tue): 10-01…10-08 off → 10-09.
        #expect(try schedule(source: D.day(2025, 9, 30), pushed: D.day(2025, 9, 30)).claimDue == D.day(2025, 10, 9))
        // 2026-02-13 (Fri): Saturday 02-14 is a make-up working day, so the claim is due that Saturday.
        #expect(try schedule(source: D.day(2026, 2, 13), pushed: D.day(2026, 2, 13)).claimDue == D.day(2026, 2, 14))
        // 2 working days from Saturday 02-14: 02-15…02-23 off → 02-24, 02-25.
        #expect(try schedule(source: D.day(2026, 2, 14), pushed: D.day(2026, 2, 14), SupervisionPolicy(claimWorkingDays: 2)).claimDue == D.day(2026, 2, 25))
        // A year the calendar does not know is refused, not guessed.
        #expect(throws: SupervisionRuleError.calendar(.yearNotLoaded(2027))) {
            _ = try schedule(source: D.day(2026, 12, 31), pushed: D.day(2026, 12, 31))
        }
    }

    @Test("push deadline counts from the decision; a push on time reaches the department by its due day")
    func pushDeadline() throws {
        // Decided Friday 2026-05-08; Saturday 05-09 is a make-up working day (push due that day).
        let plan = try schedule(source: D.day(2026, 5, 8), pushed: D.day(2026, 5, 11))
        #expect(plan.pushDue == D.day(2026, 5, 9))
        #expect(!plan.pushedOnTime(arrivedOn: D.day(2026, 5, 11)))
        #expect(plan.pushedOnTime(arrivedOn: D.day(2026, 5, 9)))
    }

    @Test("claiming twice, rejecting a claimed push, claiming a rejected one are refused; wrong department is denied")
    func transitions() throws {
        let plan = try schedule(source: D.day(2026, 11, 23), pushed: D.day(2026, 11, 23))
        var push = PushState(departmentCode: "SCJG-371302", schedule: plan)
        #expect(throws: SupervisionRuleError.self) { try push.checkOwner("WJW-371300") }
        #expect(throws: SupervisionRuleError.self) { try push.checkOwner(nil) }
        try push.checkOwner("SCJG-371302")
        try push.claim(at: D.at(2026, 11, 23, 10))
        #expect(throws: SupervisionRuleError.self) { try push.claim(at: D.at(2026, 11, 23, 11)) }
        #expect(throws: SupervisionRuleError.self) { try push.reject(reason: "不属于本部门职责", suggested: nil, at: D.at(2026, 11, 23, 11)) }
        #expect(throws: SupervisionRuleError.self) { try push.reroute(to: ["WJW-371300"]) }

        var wrong = PushState(departmentCode: "JT-371302", schedule: plan)
        #expect(violations { try wrong.reject(reason: " ", suggested: nil, at: D.at(2026, 11, 23, 9)) } == ["reason"])
        #expect(violations { try wrong.reject(reason: "不属于本部门职责", suggested: "JT-371302", at: D.at(2026, 11, 23, 9)) } == ["suggested_department.code"])
        try wrong.reject(reason: "食品经营不属于交通运输部门监管", suggested: "SCJG-371302", at: D.at(2026, 11, 23, 9))
        #expect(wrong.status == .rejected)
        #expect(wrong.suggestedDepartment == "SCJG-371302")
        #expect(throws: SupervisionRuleError.self) { try wrong.claim(at: D.at(2026, 11, 23, 10)) }
        #expect(violations { try wrong.reroute(to: []) } == ["departments"])
        #expect(violations { try wrong.reroute(to: ["JT-371302"]) } == ["departments"])
        try wrong.reroute(to: ["SCJG-371302"])
        #expect(wrong.status == .rerouted)
        #expect(throws: SupervisionRuleError.self) { try wrong.reroute(to: ["SCJG-371302"]) }
    }

    @Test("an endpoint push that arrives late gets its claim period from the day it arrived; the push deadline stays")
    func lateArrival() throws {
        let plan = try schedule(source: D.day(2026, 11, 20), pushed: D.day(2026, 11, 20))
        var push = PushState(departmentCode: "WJW-EP", schedule: plan)
        // The department's system was down until Wednesday.
        try push.arrived(on: D.day(2026, 11, 25), policy: .default, calendar: D.calendar)
        #expect(push.schedule.claimDue == D.day(2026, 11, 26))
        #expect(push.schedule.pushDue == D.day(2026, 11, 23))
        #expect(!push.schedule.pushedOnTime(arrivedOn: D.day(2026, 11, 25)))
        try push.arrived(on: D.day(2026, 11, 20), policy: .default, calendar: D.calendar)
        #expect(push.schedule.claimDue == D.day(2026, 11, 26))
        try push.claim(at: D.at(2026, 11, 26, 9))
        #expect(push.claimedOnTime)
    }

    @Test("pushed = claimed: claimed on arrival, always on time")
    func autoClaim() throws {
        let plan = try schedule(source: D.day(2026, 11, 20), pushed: D.day(2026, 11, 24))
        var push = PushState(departmentCode: "SCJG-371302", schedule: plan)
        try push.autoClaim(at: D.at(2026, 11, 24, 9))
        #expect(push.status == .claimed && push.autoClaimed && push.claimedOnTime)
    }

    @Test("node settings: defaults, overrides, bad values named")
    func policy() throws {
        #expect(try SupervisionPolicy.from(settings: [:]) == SupervisionPolicy(pushWorkingDays: 1, claimWorkingDays: 1, pushedIsClaimed: false))
        #expect(try SupervisionPolicy.from(settings: ["supervision.claim_working_days": "3", "supervision.pushed_is_claimed": "true"]) == SupervisionPolicy(pushWorkingDays: 1, claimWorkingDays: 3, pushedIsClaimed: true))
        #expect(violations { _ = try SupervisionPolicy.from(settings: ["supervision.push_working_days": "0", "supervision.pushed_is_claimed": "maybe"]) } == ["supervision.push_working_days", "supervision.pushed_is_claimed"])
    }

    @Test("delivery backoff doubles from 1 s and stops growing at 5 minutes")
    func backoff() {
        #expect(DeliveryBackoff.delay(afterFailures: 1, jitter: 0) == .seconds(1))
        #expect(DeliveryBackoff.delay(afterFailures: 4, jitter: 0) == .seconds(8))
        #expect(DeliveryBackoff.delay(afterFailures: 30, jitter: 0) == .seconds(300))
        #expect(DeliveryBackoff.delay(afterFailures: 2, jitter: 0.2) == .milliseconds(2400))
    }
}
