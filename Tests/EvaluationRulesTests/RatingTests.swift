import OneSealCore
import Testing

@testable import EvaluationRules

@Suite("Ratings: levels, indicators per channel, one per case per visit")
struct RatingTests {
    @Test("an online rating with its five indicators")
    func online() throws {
        let checked = try RatingRules.check(RatingSubmission(
            channel: .online, level: 0,
            indicators: [(.overall, 4), (.efficiency, 5), (.guideAccuracy, 4), (.convenience, 3), (.platformUsability, 4)],
            comment: "办得快", raterName: "张三", raterPhone: "13800138000"))
        #expect(checked.level == .satisfied)  // taken from the overall indicator
        #expect(checked.indicators[.convenience] == .basicallySatisfied)
        #expect(!checked.isBad)
        #expect(checked.visitKey == "")
    }

    @Test("levels outside 1–5 are INVALID_ARGUMENT, every bad field listed")
    func levels() {
        for level in [6, -1, 9] {
            let error = ruleError { _ = try RatingRules.check(RatingSubmission(channel: .online, level: level, indicators: [(.efficiency, 0)])) }
            #expect(reasons(error) == ["indicators[0].level=level.range", "level=level.range"])
        }
        #expect(reasons(ruleError { _ = try RatingRules.check(RatingSubmission(channel: .online, level: 0)) }) == ["level=required"])
        #expect(reasons(ruleError { _ = try RatingRules.check(RatingSubmission(channel: nil, level: 7)) }) == ["channel=required", "level=level.range"])
    }

    @Test("indicators belong to their channel, once each, and overall equals the level")
    func indicators() {
        // Skill is on-site only; guide accuracy is online only.
        let error = ruleError {
            _ = try RatingRules.check(RatingSubmission(channel: .onSite, level: 5, indicators: [(.skill, 5), (.guideAccuracy, 5), (.skill, 4), (nil, 3), (.overall, 4)], visitID: "v1"))
        }
        #expect(reasons(error) == [
            "indicators[1].indicator=indicator.channel", "indicators[2].indicator=indicator.duplicate", "indicators[3].indicator=required",
            "indicators=overall.mismatch",
        ])
    }

    @Test("on-site ratings name the visit; others do not")
    func visits() throws {
        #expect(reasons(ruleError { _ = try RatingRules.check(RatingSubmission(channel: .onSite, level: 5)) }) == ["visit_id=required"])
        #expect(reasons(ruleError { _ = try RatingRules.check(RatingSubmission(channel: .online, level: 5, visitID: "v1")) }) == ["visit_id=visit.channel"])
        #expect(try RatingRules.check(RatingSubmission(channel: .onSite, level: 5, indicators: [(.attitude, 5)], visitID: " v1 ")).visitKey == "v1")
    }

    @Test("a bad review says why; a named one gives a phone to call back; an anonymous one names nobody")
    func badReviews() throws {
        #expect(reasons(ruleError { _ = try RatingRules.check(RatingSubmission(channel: .online, level: 2, anonymous: true)) }) == ["comment=bad_review.reason"])
        #expect(reasons(ruleError { _ = try RatingRules.check(RatingSubmission(channel: .online, level: 1, comment: "窗口推诿", raterName: "张三")) }) == ["rater_phone=required"])
        #expect(reasons(ruleError { _ = try RatingRules.check(RatingSubmission(channel: .online, level: 1, comment: "x", anonymous: true, raterName: "张三")) }) == ["rater_name=anonymous"])
        #expect(reasons(ruleError { _ = try RatingRules.check(RatingSubmission(channel: .online, level: 5, raterPhone: "12345")) }) == ["rater_phone=phone.format"])
        let named = try RatingRules.check(RatingSubmission(channel: .online, level: 1, tags: ["态度差", " 态度差 "], raterName: "张三", raterPhone: "0539-8123456"))
        #expect(named.isBad && named.callBackRequired)
        #expect(named.tags == ["态度差"])
        let anonymous = try RatingRules.check(RatingSubmission(channel: .publicComment, level: 2, comment: "排队太久", anonymous: true))
        #expect(anonymous.isBad && !anonymous.callBackRequired)
        // A comment is stored exactly as written (escaped only when rendered).
        let hostile = try RatingRules.check(RatingSubmission(channel: .online, level: 5, comment: "<script>alert(1)</script>"))
        #expect(hostile.comment == "<script>alert(1)</script>")
    }

    @Test("one rating per case per channel visit; one late rating after completion; removed ratings keep their slot")
    func slots() throws {
        let before = RatingRules.Existing(visitKey: "", late: false, ratedOn: day("2026-10-14"))
        // First rating while the case runs: not late.
        #expect(try !RatingRules.slot(channel: .online, visitKey: "", existing: [], completedOn: nil, subject: "case c1"))
        // First rating after completion: late (追评 allowed).
        #expect(try RatingRules.slot(channel: .online, visitKey: "", existing: [], completedOn: day("2026-10-16"), subject: "case c1"))
        // Second online rating while running: ALREADY_EXISTS.
        let taken = ruleError { _ = try RatingRules.slot(channel: .online, visitKey: "", existing: [before], completedOn: nil, subject: "case c1") }
        #expect(taken == .alreadyExists("case c1 was already rated on the online channel on 2026-10-14"))
        // After completion the slot takes one late rating …
        #expect(try RatingRules.slot(channel: .online, visitKey: "", existing: [before], completedOn: day("2026-10-16"), subject: "case c1"))
        // … and no second one.
        let late = RatingRules.Existing(visitKey: "", late: true, ratedOn: day("2026-10-20"))
        let again = ruleError { _ = try RatingRules.slot(channel: .online, visitKey: "", existing: [before, late], completedOn: day("2026-10-16"), subject: "case c1") }
        #expect(again == .alreadyExists("case c1 was already rated on the online channel on 2026-10-14; its one late rating (追评) is used too"))
        // An applicant who first rates only after completion (that rating is late) may still add
        // the one 追评 — real dates: decided 2026-10-16, first rated 10-19, 追评 10-26, a third refused.
        let afterCompletion = RatingRules.Existing(visitKey: "", late: true, ratedOn: day("2026-10-19"))
        #expect(try RatingRules.slot(channel: .online, visitKey: "", existing: [afterCompletion], completedOn: day("2026-10-16"), subject: "case c2"))
        let followUp = RatingRules.Existing(visitKey: "", late: true, ratedOn: day("2026-10-26"))
        let third = ruleError { _ = try RatingRules.slot(channel: .online, visitKey: "", existing: [afterCompletion, followUp], completedOn: day("2026-10-16"), subject: "case c2") }
        #expect(third == .alreadyExists("case c2 was already rated on the online channel on 2026-10-19; its one late rating (追评) is used too"))
        // On-site: a different visit is a different slot.
        let visit1 = RatingRules.Existing(visitKey: "v1", late: false, ratedOn: day("2026-10-09"))
        #expect(try !RatingRules.slot(channel: .onSite, visitKey: "v2", existing: [visit1], completedOn: nil, subject: "case c1"))
        let sameVisit = ruleError { _ = try RatingRules.slot(channel: .onSite, visitKey: "v1", existing: [visit1], completedOn: nil, subject: "case c1") }
        #expect(sameVisit == .alreadyExists("case c1 was already rated on the on_site channel (visit v1) on 2026-10-09"))
    }

    @Test("phone numbers")
    func phones() {
        #expect(PhoneNumber.isValid("13800138000"))
        #expect(PhoneNumber.isValid("0539-8123456"))
        #expect(PhoneNumber.isValid("010-12345678"))
        #expect(PhoneNumber.isValid("05398123456"))
        #expect(!PhoneNumber.isValid("12800138000"))
        #expect(!PhoneNumber.isValid("1380013800"))
        #expect(!PhoneNumber.isValid("abc"))
    }
}
