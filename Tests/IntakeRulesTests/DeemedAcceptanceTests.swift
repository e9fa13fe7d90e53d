import OneSealCore
import Testing

@testable import IntakeRules

@Suite("Deemed acceptance (Art. 32) and the approval deadline")
struct DeemedAcceptanceTests {
    @Test("across the 2026 National Day holiday")
    func nationalDay() throws {
        // Received Tue 2026-09-29 (the day itself is not counted).
        //   1: Wed 09-30
        //      Thu 10-01 … Wed 10-07 national holiday (days off)
        //   2: Thu 10-08   3: Fri 10-09   4: Sat 10-10 (make-up working day)
        //      Sun 10-11 rest
        //   5: Mon 10-12  → the decision is due by the end of 2026-10-12.
        let received = day("2026-09-29")
        #expect(try DeemedAcceptance.deadline(receivedOn: received) == day("2026-10-12"))
        #expect(try !DeemedAcceptance.isDeemedAccepted(receivedOn: received, today: day("2026-10-12")))
        #expect(try DeemedAcceptance.isDeemedAccepted(receivedOn: received, today: day("2026-10-13")))
        #expect(DeemedAcceptance.acceptanceDate(receivedOn: received) == received)
    }

    @Test("across the 2026 Spring Festival")
    func springFestival() throws {
        // Received Thu 2026-02-12.
        //   1: Fri 02-13   2: Sat 02-14 (make-up working day)
        //      Sun 02-15 … Mon 02-23 Spring Festival (days off)
        //   3: Tue 02-24   4: Wed 02-25   5: Thu 02-26 → due by the end of 2026-02-26.
        #expect(try DeemedAcceptance.deadline(receivedOn: day("2026-02-12")) == day("2026-02-26"))
        #expect(try DeemedAcceptance.isDeemedAccepted(receivedOn: day("2026-02-12"), today: day("2026-02-27")))
        #expect(try !DeemedAcceptance.isDeemedAccepted(receivedOn: day("2026-02-12"), today: day("2026-02-26")))
    }

    @Test("a year the calendar does not know is an error, never a guess")
    func unknownYear() {
        let error = intakeError { _ = try DeemedAcceptance.deadline(receivedOn: day("2027-03-01")) }
        #expect(error == IntakeRuleError.calendar(CalendarError.yearNotLoaded(2027)))
    }

    @Test("a deemed-accepted application is accepted from the day of receipt and its approval clock runs from then")
    func deemedApplicationClock() throws {
        var application = Fixtures.application(materials: Fixtures.completeFoodMaterials, receivedOn: "2026-09-29")
        #expect(application.intakeDeadline == day("2026-10-12"))
        let early = intakeError { try application.apply(.deemAccept(today: day("2026-10-12"))) }
        #expect(early?.statusCodeName == "FAILED_PRECONDITION")
        try application.apply(.deemAccept(today: day("2026-10-13")))
        #expect(application.status == .accepted)
        #expect(application.outcome == .deemedAccepted)
        #expect(application.acceptanceKind == .deemed)
        #expect(application.acceptedOn == day("2026-09-29"))
        let clock = try #require(application.approvalClock(for: "000117005000371302001"))
        #expect(clock.actDate == day("2026-09-29"))
        #expect(clock.period.workingDays == 20)
        // 20 working days from 09-29: 09-30 (1), 10-08..10-10 (2–4), 10-12..10-16 (5–9),
        // 10-19..10-23 (10–14), 10-26..10-30 (15–19), 11-02 (20).
        #expect(try clock.deadline(in: .china) == day("2026-11-02"))
        #expect(try ApprovalDeadline.deadline(acceptedOn: day("2026-09-29"), item: Fixtures.foodLicence()) == day("2026-11-02"))
        // Promised 5: 09-30, 10-08, 10-09, 10-10, 10-12.
        #expect(try ApprovalDeadline.promisedOn(acceptedOn: day("2026-09-29"), item: Fixtures.foodLicence()) == day("2026-10-12"))
    }

    @Test("a clerk's decision after the 5 working days is refused: the law already accepted it")
    func lateDecisionRefused() {
        var application = Fixtures.application(materials: [Fixtures.paper("M01")], receivedOn: "2026-09-29")
        let problems = application.check.problems
        let error = intakeError { try application.apply(.issueCorrectionNotice(problems: problems, on: day("2026-10-13"))) }
        #expect(error?.statusCodeName == "FAILED_PRECONDITION")
        #expect(error?.description.contains("2026-10-12") == true)
        #expect(application.status == .submitted)
    }
}
