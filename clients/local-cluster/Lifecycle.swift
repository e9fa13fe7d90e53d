import Foundation
import GRPCCore
import OneSealAuth
import OneSealProto

/// Makes a change happen, whatever fails on the way, the way a hall's front-end must: ask for it
/// (`act`); if the call fails, check whether the change is there anyway (`done`: the process may
/// have been killed after COMMIT, before answering, so a retry can answer FAILED_PRECONDITION for a
/// change already made) and ask again until it is. When one successful `act` is not the whole
/// change (a case moves one step per call), pass `actCompletes: false` and `done` decides.
public func ensure(
    _ what: @autoclosure () -> String, timeout: Duration = .seconds(120), every interval: Duration = .milliseconds(200),
    actCompletes: Bool = true, done: () async throws -> Bool, act: () async throws -> Void
) async throws {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    var last = "not tried"
    while true {
        do {
            try await act()
            if actCompletes { return }
            last = "acted; not done yet"
        } catch {
            last = "\(error)"
        }
        if (try? await done()) == true { return }
        if ContinuousClock.now >= deadline { throw NotReached(what: what(), last: last) }
        if last != "acted; not done yet" { try await Task.sleep(for: interval) }
    }
}

/// One applicant's whole case, submit → accept → (forward) → decide → licence → delivery → push →
/// claim → rate, written to survive crashes, restarts and a cut link between the halls: every
/// step is `ensure`d or idempotent by key, so running it again after any failure converges.
public struct Lifecycle: Sendable {
    public enum Route: Sendable {
        /// 食品经营许可 at the county: decided by the county's sole officer.
        case countyFood
        /// 取水许可 handed in at the county, forwarded, decided (deputy director) and issued by the city.
        case cityWaterThroughCounty

        var item: String { self == .countyFood ? Hall.countyFoodItem : Hall.cityWaterItem }
        var decidingNode: String { self == .countyFood ? Hall.county : Hall.city }
        var department: String { self == .countyFood ? Hall.countyMarket : Hall.cityWater }
    }

    /// What one run measured (seconds since submit) and produced.
    public struct Outcome: Sendable {
        public var applicationID = ""
        public var caseID = ""
        public var licenceIdentifier = ""
        public var submitToLicence: Duration = .zero
        public var total: Duration = .zero
        public var steps: [(String, Duration)] = []
    }

    public let hall: Hall
    public let route: Route
    public let key: String
    public let stepTimeout: Duration

    public init(hall: Hall, route: Route, key: String = UUID().uuidString, stepTimeout: Duration = .seconds(120)) {
        self.hall = hall
        self.route = route
        self.key = key
        self.stepTimeout = stepTimeout
    }

    public func run() async throws -> Outcome {
        var outcome = Outcome()
        let clock = ContinuousClock()
        let start = clock.now
        var mark = start
        func step(_ name: String, at now: ContinuousClock.Instant = clock.now) {
            outcome.steps.append((name, now - mark))
            mark = now
        }
        let county = Hall.county
        let deciding = route.decidingNode
        let clerk = try hall.clerk(county)

        // The window: submitted with an idempotency key, so a retry is the same application.
        let submitted = try await eventually("submission \(key)", timeout: stepTimeout) {
            try await hall.submit(at: county, items: [route.item], key: key)
        }
        let id = submitted.application.applicationID
        outcome.applicationID = id
        step("submit")
        func status() async throws -> Intake_ApplicationStatus { try await hall.application(at: county, id).status }
        // The latest view of the application this applicant holds (an answer or a watch's view):
        // each wait below starts from it, so no view is sent twice.
        var seen: Intake_Application? = submitted.application
        try await ensure("application \(id) accepted", timeout: stepTimeout) {
            [.accepted, .forwarded, .readyForDelivery, .delivered].contains(try await status())
        } act: {
            seen = try await hall.accept(at: county, id)
        }
        step("accept")
        if route == .cityWaterThroughCounty {
            try await ensure("application \(id) forwarded", timeout: stepTimeout) {
                [.forwarded, .readyForDelivery, .delivered].contains(try await status())
            } act: {
                seen = try await hall.clients.intake(county).forwardToCity(.with {
                    $0.applicationID = id
                    $0.firstReviewOpinion = "经初审，取水地点位于沂河兰山段，水资源论证报告结论明确，材料齐全，建议准予"
                }, metadata: clerk).application
            }
            step("forward")
        }

        // The back office of the deciding node. The window hears of the case it opened (the
        // applicant's view names it), so the applicant's watch says when, instead of polling
        // approval; the same watch, held open through the decision, says when the licence exists.
        let (opened, openedAt, grantedAt, issued) = try await hall.following(at: county, id, after: seen ?? submitted.application, timeout: stepTimeout) { views in
            let withCase = try await views.view("a case opened") { application in
                !application.items.isEmpty && application.items.allSatisfy { !$0.caseID.isEmpty }
            }
            let opened = try await eventually("case \(withCase.items[0].caseID) at approval@\(deciding)", timeout: stepTimeout) {
                try await hall.getCase(withCase.items[0].caseID, at: deciding)
            }
            let openedAt = clock.now
            // Each move answers with the case as it now stands, and the next move starts from that
            // view, as an officer's screen would: the case is read again only after a failed call.
            var held: Approval_Case? = opened
            func view() async throws -> Approval_Case {
                if let held { return held }
                let read = try await hall.getCase(opened.caseID, at: deciding)
                held = read
                return read
            }
            try await ensure("case \(opened.caseID) granted", timeout: stepTimeout, actCompletes: false) {
                try await view().status == .granted
            } act: {
                let current = try await view()
                guard current.status == .inProgress else {
                    if current.status == .granted { return }
                    held = nil  // not movable now (e.g. suspended): look again after the pause
                    throw NotReached(what: "case \(opened.caseID) in progress", last: "\(current.status)")
                }
                // A move that fails leaves no view behind: the next attempt reads the case again.
                held = nil
                held = try await hall.advance(current, at: deciding)
            }
            let grantedAt = clock.now
            // The certificate centre issues the licence; the window (and the applicant's watch)
            // hears of it, then hands it over.
            let issued = try await views.view("every item \(Intake_ItemProgress.licenceIssued)", until: Hall.everyItem(.licenceIssued))
            return (opened, openedAt, grantedAt, issued)
        }
        outcome.caseID = opened.caseID
        step("case opened", at: openedAt)
        step("decide", at: grantedAt)
        outcome.licenceIdentifier = issued.items[0].licence.licenceIdentifier
        outcome.submitToLicence = clock.now - start
        step("licence")
        try await ensure("application \(id) delivered", timeout: stepTimeout) {
            try await status() == .delivered
        } act: {
            _ = try await hall.deliver(at: county, id)
        }
        step("deliver")

        // The supervising department claims the grant and the licence pushes, both at once.
        let pushes = try await hall.pushes(of: opened.caseID, to: route.department, at: deciding, count: 2, timeout: stepTimeout)
        step("pushed")
        // After a failed call (its claims may have committed), only what is still unclaimed is claimed again.
        var unclaimed = pushes.filter { $0.status != .claimed }
        try await ensure("pushes of case \(opened.caseID) claimed", timeout: stepTimeout) {
            unclaimed = try await hall.pushes(of: opened.caseID, to: route.department, at: deciding, count: 2, timeout: stepTimeout).filter { $0.status != .claimed }
            return unclaimed.isEmpty
        } act: {
            guard !unclaimed.isEmpty else { return }
            _ = try await hall.claim(unclaimed.map(\.pushID), by: route.department, at: deciding)
        }
        step("claim")

        // The applicant rates where they applied (the county hall knows the application and
        // hears the city's decision); idempotent by key.
        _ = try await eventually("rating of case \(opened.caseID)", timeout: stepTimeout) {
            try await hall.rate(opened.caseID, at: county, level: 5)
        }
        step("rate")
        outcome.total = clock.now - start
        return outcome
    }
}

extension Hall {
    /// One move of the case towards its grant, chosen from `current` (the caller's latest view):
    /// the active step's review or sign-off, or the decision. Answers with the case after the
    /// move. Safe to repeat after any failure: the move names `current.revision`, so a stale
    /// view is refused, not applied twice.
    public func advance(_ current: Approval_Case, at node: String) async throws -> Approval_Case {
        if current.awaitingDecision {
            return try await clients.approval(node).decide(.with {
                $0.caseID = current.caseID; $0.grant = Self.grant; $0.expectedRevision = current.revision
            }, metadata: try decider(of: current, at: node)).case
        }
        // 独任审批: the officer reviews and decides on the spot, in one call.
        if current.steps.count == 1, current.nextRole == .officer {
            return try await clients.approval(node).decide(.with {
                $0.caseID = current.caseID; $0.grant = Self.grant; $0.opinion = Self.reviewOpinion; $0.expectedRevision = current.revision
            }, metadata: try decider(of: current, at: node)).case
        }
        return try await signActiveStep(current, at: node, conclusion: .proposeGrant, expectedRevision: current.revision)
    }
}

/// The first element, or a clear error (what a window would show instead of crashing).
func requireFirst<T>(_ values: [T], _ what: String = "a value") throws -> T {
    guard let first = values.first else { throw NotReached(what: what, last: "none") }
    return first
}
