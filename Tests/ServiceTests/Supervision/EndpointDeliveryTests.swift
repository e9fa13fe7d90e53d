import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GRPCCore
import OneSealCore
import OneSealLocalCluster
import OneSealProto
import OneSealServiceKit
import OneSealWire
import Synchronization
import Testing
@testable import SupervisionService

/// A department's own system: a real `DepartmentInbox` on OneSeal TCP that keeps each push once by
/// id (its side of "at least once"), and can lose its first acknowledgement to test redelivery.
final class TestDepartmentInbox: Supervision_DepartmentInbox.SimpleServiceProtocol, Sendable {
    struct State {
        var received: [String: Int] = [:]  // push id → times its effect was applied (must stay 1)
        var deliveries: [String: Int] = [:] // push id → times it arrived
        var calls = 0
        var loseNextAcknowledgement = false
    }
    let state = Mutex(State())

    func receive(request: Supervision_ReceivePushesRequest, context: ServerContext) async throws -> Supervision_ReceivePushesResponse {
        let lose = state.withLock { state -> Bool in
            state.calls += 1
            for push in request.pushes {
                state.deliveries[push.pushID, default: 0] += 1
                if state.received[push.pushID] == nil { state.received[push.pushID] = 1 }
            }
            defer { state.loseNextAcknowledgement = false }
            return state.loseNextAcknowledgement
        }
        if lose { throw RPCError(code: .unavailable, message: "stored, but the acknowledgement is lost") }
        return Supervision_ReceivePushesResponse.with { $0.acceptedPushIds = request.pushes.map(\.pushID) }
    }

    var snapshot: State { state.withLock { $0 } }
}

/// Runs the department's endpoint on `port` (0 = a free one) for the duration of `body`.
func withDepartmentEndpoint<T: Sendable>(_ inbox: TestDepartmentInbox, port: Int = 0, _ body: (Int) async throws -> T) async throws -> T {
    let transport = OneSealServerTransport(host: "127.0.0.1", port: port)
    let server = GRPCServer(transport: transport, services: [inbox])
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.serve() }
        let bound = try await transport.listeningAddress.port!
        do {
            let result = try await body(bound)
            server.beginGracefulShutdown()
            try await group.waitForAll()
            return result
        } catch {
            server.beginGracefulShutdown()
            group.cancelAll()
            throw error
        }
    }
}

@Suite("Supervision endpoint delivery", .serialized)
struct EndpointDeliveryTests {
    typealias F = SupervisionFixtures
    static let friday = CivilDate(year: 2026, month: 11, day: 20)!

    @Test("an endpoint department that is down, then up, then loses an acknowledgement gets every push exactly once in effect")
    func downThenUp() async throws {
        let inbox = TestDepartmentInbox()
        // The department's system is down: nothing listens on its address yet.
        let port = try freeLoopbackPort()
        try await withSupervisionNode(today: Self.friday) { node in
            try await node.addDepartment("SCJG-371300", "临沂市市场监督管理局")
            try await node.addDepartment("WJW-EP", "临沂市卫生健康委员会", endpoint: "127.0.0.1:\(port)")
            try await node.setBoundary(F.foodCity, ["WJW-EP", "SCJG-371300"])
            for index in 1...3 {
                try await node.deliver(F.grant(case: "case-00010\(index)", decidedOn: Self.friday))
            }
            let pushes = try await node.supervision.listPushes(.with { $0.departmentCode = "WJW-EP" }, metadata: try node.sectionChief).pushes
            #expect(pushes.count == 3 && pushes.allSatisfy { $0.delivery == .endpoint && !$0.hasDeliveredAt })

            // Down: nothing delivered, each attempt recorded with its error, retried after the backoff only.
            #expect(try await node.worker.deliverOnce() == 0)
            #expect(try await node.worker.deliverOnce() == 0)  // within the 1 s backoff: not even tried
            node.clock.advance(seconds: 2)
            #expect(try await node.worker.deliverOnce() == 0)
            let waiting = try await node.supervision.getPush(.with { $0.pushID = pushes[0].pushID }, metadata: try node.sectionChief).push
            #expect(waiting.deliveryAttempts == 2 && waiting.lastDeliveryError.contains("127.0.0.1:\(port)") && !waiting.pushedOnTime)
            #expect(inbox.snapshot.calls == 0)

            // Up again on the same address, but the first acknowledgement is lost on the way back.
            inbox.state.withLock { $0.loseNextAcknowledgement = true }
            try await withDepartmentEndpoint(inbox, port: port) { _ in
                node.clock.advance(seconds: 5)
                #expect(try await node.worker.deliverOnce() == 0)
                node.clock.advance(seconds: 10)
                #expect(try await node.worker.deliverOnce() == 3)
                node.clock.advance(seconds: 600)
                #expect(try await node.worker.deliverOnce() == 0)

                // Two replicas racing over new pushes send each one once.
                try await node.deliver(F.grant(case: "case-000104", decidedOn: Self.friday))
                try await node.deliver(F.grant(case: "case-000105", decidedOn: Self.friday))
                async let first = node.worker.deliverOnce()
                async let second = node.worker.deliverOnce()
                #expect(try await first + second == 2)
            }
            let seen = inbox.snapshot
            #expect(seen.received.count == 5 && seen.received.values.allSatisfy { $0 == 1 })
            // The three old pushes arrived twice (the lost acknowledgement), the racing two once each.
            #expect(seen.deliveries.values.sorted() == [1, 1, 2, 2, 2])
            let delivered = try await node.supervision.listPushes(.with { $0.departmentCode = "WJW-EP" }, metadata: try node.sectionChief).pushes
            #expect(delivered.count == 5 && delivered.allSatisfy { $0.hasDeliveredAt && $0.lastDeliveryError.isEmpty && $0.pushedOnTime })
            let first = try #require(delivered.first { $0.pushID == pushes[0].pushID })
            #expect(first.deliveryAttempts == 4)
            // The pull department was never affected.
            #expect(try await node.inbox("SCJG-371300").count == 5)
        }
    }
}
