import Foundation
import Logging
import OneSealOutbox
import OneSealProto
import ServiceLifecycle
import Synchronization

/// Deliveries to a sink nobody waits on, applied together: the batches that arrive within
/// `window` of the first — from every relay pointed at this service, each lane with at most one
/// batch out — go into one transaction, instead of one each (#21 step 12, decision 70).
///
/// Evaluation keeps the record (ratings, monthly figures) and hears every service of both nodes;
/// its sink committed a transaction per incoming batch, ≈ 1.5 commits per case across the two
/// nodes. A batch waits at most `window` longer for its answer, so the relay behind it waits that
/// much more before its next pass; per-lane order holds (a lane's next batch is sent only after
/// this one's answer).
///
/// A batch from a `prompt` source (evaluation's: approval, whose lane is not paced because a
/// rating right after pickup needs the case's facts, decision 67) does not wait: it is applied at
/// once, together with whatever else is waiting.
///
/// Nothing is lost or applied twice: the gathered transaction is the sink's own short path
/// (`EventSinkService.applyTogether`: one inbox statement for every id, then the effects). If it
/// fails — one poison event among them, a deadlock — it rolls back whole and every caller applies
/// its own batch the usual way (its own transaction, then event by event under savepoints), so
/// one poison event fails only its own batch. When the gatherer is not running (before start,
/// after graceful shutdown) a caller is told at once to apply its batch itself.
public final class DeliveryGatherer: Service, Sendable {
    public typealias Events = [(Events_EventEnvelope, UUID)]

    private struct Waiting {
        var events: Events
        /// From a `prompt` source: applied without waiting for the window.
        var prompt: Bool
        var answer: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var running = false
        var waiting: [Waiting] = []
    }

    private let state = Mutex(State())
    private let arrived = WakeSignal()
    private let promptArrived = WakeSignal()
    let window: Duration
    /// Source services whose batches are applied at once (with whatever is waiting).
    let prompt: Set<String>
    let apply: @Sendable (Events) async throws -> Void
    let logger: Logger
    /// Transactions applied for gathered batches (for tests and the benchmark notes).
    private let transactions = Atomic<Int>(0)

    /// `apply` runs the events of every gathered batch, in arrival order, in one transaction.
    public init(
        window: Duration, prompt: Set<String> = [], logger: Logger = Logger(label: "oneseal.events"),
        apply: @escaping @Sendable (Events) async throws -> Void
    ) {
        self.window = window
        self.prompt = prompt
        self.apply = apply
        self.logger = logger
    }

    public var gatheredTransactions: Int { transactions.load(ordering: .relaxed) }

    /// Waits for the transaction `events` are gathered into: true when they were applied in it,
    /// false when the caller must apply them itself (that transaction failed, or the gatherer is
    /// not running).
    public func gathered(_ events: Events) async -> Bool {
        let isPrompt = events.contains { prompt.contains($0.0.sourceService) }
        return await withCheckedContinuation { answer in
            let queued = state.withLock { state -> Bool in
                guard state.running else { return false }
                state.waiting.append(Waiting(events: events, prompt: isPrompt, answer: answer))
                return true
            }
            guard queued else { return answer.resume(returning: false) }
            arrived.signal()
            if isPrompt { promptArrived.signal() }
        }
    }

    public func run() async throws {
        state.withLock { $0.running = true }
        await withGracefulShutdownHandler {
            await cancelWhenGracefulShutdown { await self.gather() }
        } onGracefulShutdown: {
            self.arrived.signal()
            self.promptArrived.signal()
        }
        // Whoever still waits applies their own batch.
        let left = state.withLock { state -> [Waiting] in
            state.running = false
            defer { state.waiting = [] }
            return state.waiting
        }
        for waiting in left { waiting.answer.resume(returning: false) }
    }

    private func gather() async {
        while !Task.isCancelled {
            await arrived.wait(timeout: .seconds(1))
            guard state.withLock({ !$0.waiting.isEmpty }) else { continue }
            // The first batch is here: the ones arriving within the window go with it, unless
            // a prompt one is (or comes) among them.
            // (Cleared first: a signal from a batch already here must not cut a later window.)
            promptArrived.clear()
            let promptWaiting = state.withLock { $0.waiting.contains(where: \.prompt) }
            if !promptWaiting { await promptArrived.wait(timeout: window) }
            let taken = state.withLock { state -> [Waiting] in
                defer { state.waiting = [] }
                return state.waiting
            }
            guard !taken.isEmpty else { continue }
            let together: Bool
            do {
                try await apply(taken.flatMap(\.events))
                transactions.add(1, ordering: .relaxed)
                together = true
            } catch {
                logger.debug("gathered batches failed together; each is applied alone", metadata: ["batches": "\(taken.count)", "error": "\(error)"])
                together = false
            }
            for waiting in taken { waiting.answer.resume(returning: together) }
        }
    }
}
