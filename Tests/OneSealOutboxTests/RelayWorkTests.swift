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
        #expect(work.next(at: at(0)) == .job(.destinations(["intake@371302"])))
        work.note("intake@371302")
        // Busy: not handed to a second worker, and it stays named.
        #expect(work.next(at: at(0)) == .idle(until: nil))
        work.finished(.destinations(["intake@371302"]))
        #expect(work.next(at: at(1)) == .job(.destinations(["intake@371302"])))
        work.finished(.destinations(["intake@371302"]))
        #expect(work.next(at: at(1)) == .idle(until: nil))
    }

    @Test("a paced destination is handed out at once the first time, then once per pace; others pass it")
    func pacedWaits() {
        let work = RelayWork(pace: paced)
        work.note("evaluation@371302")
        #expect(work.next(at: at(0)) == .job(.destinations(["evaluation@371302"])))
        work.finished(.destinations(["evaluation@371302"]))
        work.note("evaluation@371302\nintake@371302")
        // The paced one waits; the other is not held behind it.
        #expect(work.next(at: at(10)) == .job(.destinations(["intake@371302"])))
        work.finished(.destinations(["intake@371302"]))
        #expect(work.next(at: at(10)) == .idle(until: at(250)))
        work.note("evaluation@371302")  // named again meanwhile: still one pass
        #expect(work.next(at: at(249)) == .idle(until: at(250)))
        #expect(work.next(at: at(250)) == .job(.destinations(["evaluation@371302"])))
        work.finished(.destinations(["evaluation@371302"]))
        #expect(work.next(at: at(251)) == .idle(until: nil))
        // Named long after the last pass: at once.
        work.note("evaluation@371302")
        #expect(work.next(at: at(900)) == .job(.destinations(["evaluation@371302"])))
    }

    @Test("a paced pass that left rows behind is followed at once, so a backlog drains at full speed")
    func backlogDrains() {
        let work = RelayWork(pace: paced)
        work.note("evaluation@371300")
        #expect(work.next(at: at(0)) == .job(.destinations(["evaluation@371300"])))
        work.finished(.destinations(["evaluation@371300"]), more: ["evaluation@371300"])
        #expect(work.next(at: at(5)) == .job(.destinations(["evaluation@371300"])))
        work.finished(.destinations(["evaluation@371300"]))
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
        work.finished(.scan, more: ["evaluation@371300"])
        #expect(work.next(at: at(0)) == .job(.scan))
        work.finished(.scan)
        #expect(work.next(at: at(0)) == .idle(until: nil))
    }

    @Test("a NOTIFY without names asks for a scan")
    func emptyPayloadScans() {
        let work = RelayWork(pace: paced)
        work.note("")
        #expect(work.next(at: at(0)) == .job(.scan))
    }

    @Test("what NOTIFYs named goes out in one job, first named first, without busy or failing destinations")
    func namedTogether() {
        let work = RelayWork(groupLimit: 3)
        work.note("certificate@371302\nsupervision@371302")
        work.note("intake@371302\nevaluation@371302")
        #expect(work.next(at: at(0)) == .job(.destinations(["certificate@371302", "supervision@371302", "intake@371302"])))
        work.note("intake@371302")  // busy: stays named for later
        #expect(work.next(at: at(0)) == .job(.destinations(["evaluation@371302"])))
        #expect(work.next(at: at(0)) == .idle(until: nil))
        // supervision's delivery failed: until a pass of it succeeds, it goes alone.
        work.finished(.destinations(["certificate@371302", "supervision@371302", "intake@371302"]), more: ["supervision@371302"], failed: ["supervision@371302"])
        work.finished(.destinations(["evaluation@371302"]))
        work.note("certificate@371302")
        #expect(work.next(at: at(1)) == .job(.destinations(["intake@371302", "certificate@371302"])))
        #expect(work.next(at: at(1)) == .job(.destinations(["supervision@371302"])))
        work.finished(.destinations(["supervision@371302"]))
        work.finished(.destinations(["intake@371302", "certificate@371302"]))
        work.note("supervision@371302\nintake@371302")
        #expect(work.next(at: at(2)) == .job(.destinations(["supervision@371302", "intake@371302"])))
    }
}
