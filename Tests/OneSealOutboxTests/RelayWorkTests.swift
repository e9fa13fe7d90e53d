@testable import OneSealOutbox
import Testing

/// The relay's work list, step by step at chosen instants: what a NOTIFY names is handed out
/// once, a busy destination is not handed to a second worker, and a paced destination waits for
/// its pace unless its last pass left rows behind.
@Suite("Relay work list")
struct RelayWorkTests {
    let start = ContinuousClock.now
    let paced = OutboxRelay.pacing(["evaluation": .milliseconds(250)])

    func at(_ milliseconds: Int) -> ContinuousClock.Instant { start + .milliseconds(milliseconds) }

    @Test("pacing goes by the destination's service")
    func pacingByService() {
        #expect(paced("evaluation@371300") == .milliseconds(250))
        #expect(paced("evaluation@371302") == .milliseconds(250))
        #expect(paced("intake@371302") == .zero)
        #expect(paced("evaluation") == .milliseconds(250))
        #expect(paced("") == .zero)
    }

    @Test("without a pace, a destination named again is handed out as soon as its worker is done")
    func unpacedAtOnce() {
        let work = RelayWork()
        work.note("intake@371302\nintake@371302")
        #expect(work.next(at: at(0)) == .job(.destination("intake@371302")))
        work.note("intake@371302")
        // Busy: not handed to a second worker, and it stays named.
        #expect(work.next(at: at(0)) == .idle(until: nil))
        work.finished(.destination("intake@371302"), more: false)
        #expect(work.next(at: at(1)) == .job(.destination("intake@371302")))
        work.finished(.destination("intake@371302"), more: false)
        #expect(work.next(at: at(1)) == .idle(until: nil))
    }

    @Test("a paced destination is handed out at once the first time, then once per pace; others pass it")
    func pacedWaits() {
        let work = RelayWork(pace: paced)
        work.note("evaluation@371302")
        #expect(work.next(at: at(0)) == .job(.destination("evaluation@371302")))
        work.finished(.destination("evaluation@371302"), more: false)
        work.note("evaluation@371302\nintake@371302")
        // The paced one waits; the other is not held behind it.
        #expect(work.next(at: at(10)) == .job(.destination("intake@371302")))
        #expect(work.next(at: at(10)) == .idle(until: at(250)))
        work.note("evaluation@371302")  // named again meanwhile: still one pass
        #expect(work.next(at: at(249)) == .idle(until: at(250)))
        #expect(work.next(at: at(250)) == .job(.destination("evaluation@371302")))
        work.finished(.destination("evaluation@371302"), more: false)
        #expect(work.next(at: at(251)) == .idle(until: nil))
        // Named long after the last pass: at once.
        work.note("evaluation@371302")
        #expect(work.next(at: at(900)) == .job(.destination("evaluation@371302")))
    }

    @Test("a paced pass that left rows behind is followed at once, so a backlog drains at full speed")
    func backlogDrains() {
        let work = RelayWork(pace: paced)
        work.note("evaluation@371300")
        #expect(work.next(at: at(0)) == .job(.destination("evaluation@371300")))
        work.finished(.destination("evaluation@371300"), more: true)
        #expect(work.next(at: at(5)) == .job(.destination("evaluation@371300")))
        work.finished(.destination("evaluation@371300"), more: false)
        // Drained: the pace counts from the last start again.
        work.note("evaluation@371300")
        #expect(work.next(at: at(6)) == .idle(until: at(255)))
    }

    @Test("a scan is not paced, and runs one at a time")
    func scans() {
        let work = RelayWork(pace: paced)
        work.requestScan()
        work.requestScan()
        #expect(work.next(at: at(0)) == .job(.scan))
        #expect(work.next(at: at(0)) == .idle(until: nil))
        work.finished(.scan, more: true)
        #expect(work.next(at: at(0)) == .job(.scan))
        work.finished(.scan, more: false)
        #expect(work.next(at: at(0)) == .idle(until: nil))
    }

    @Test("a NOTIFY without names asks for a scan")
    func emptyPayloadScans() {
        let work = RelayWork(pace: paced)
        work.note("")
        #expect(work.next(at: at(0)) == .job(.scan))
    }
}
