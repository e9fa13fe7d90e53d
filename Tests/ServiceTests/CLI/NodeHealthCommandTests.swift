import Foundation
import Testing

/// `oneseal node health` and `oneseal health` against the five services of a node.
extension CLICommandTests {
    static let services = ["intake", "approval", "certificate", "supervision", "evaluation"]

    @Test("all five serving → exit 0 and one table; one service stopped → exit 1, that service named, the others still serving")
    func nodeHealth() async throws {
        try await withCLINode { node in
            let json = try await node.cli(["node", "health", "--json"], token: false)
            #expect(json.status == 0, "\(json)")
            let report = try json.object()
            #expect(report["node"] as? String == node.node)
            #expect(report["serving"] as? Bool == true)
            let entries = try #require(report["services"] as? [[String: Any]])
            #expect(entries.map { $0["service"] as? String } == Self.services)
            #expect(entries.allSatisfy { $0["status"] as? String == "SERVING" && $0["serving"] as? Bool == true })
            let health = try #require(entries.first?["health"] as? [String: Any])
            #expect(health["service"] as? String == "intake")
            #expect(health["node"] as? String == node.node)

            let text = try await node.cli(["node", "health"], token: false)
            #expect(text.status == 0)
            #expect(text.stdout.contains("node \(node.node): 5 of 5 services serving"), "\(text)")
            #expect(text.stdout.split(separator: "\n").count == 7, "\(text)")  // summary, header, five rows

            let one = try await node.cli(["health", "--service", "approval", "--json"], token: false)
            #expect(one.status == 0, "\(one)")
            #expect(try one.object()["service"] as? String == "approval")

            await node.stop("certificate")
            var down = try await node.cli(["node", "health", "--json", "--timeout", "2"], token: false)
            let stopped = try await eventually {
                down = try await node.cli(["node", "health", "--json", "--timeout", "2"], token: false)
                return down.status == 1
            }
            #expect(stopped, "\(down)")
            let after = try #require(try down.object()["services"] as? [[String: Any]])
            for entry in after {
                let name = entry["service"] as? String
                #expect((entry["serving"] as? Bool) == (name != "certificate"), "\(entry)")
            }
            #expect(try down.object()["serving"] as? Bool == false)
            let table = try await node.cli(["node", "health", "--timeout", "2"], token: false)
            #expect(table.status == 1)
            #expect(table.stdout.contains("4 of 5 services serving"), "\(table)")
            #expect(table.stdout.contains("certificate") && (table.stdout.contains("UNREACHABLE") || table.stdout.contains("NOT_SERVING")), "\(table)")
        }
    }

    @Test("a node without entries in the peer list is refused before any call, naming the missing service")
    func unknownNode() async throws {
        let result = try await CLIResult.run(["node", "health", "--node", "371399", "--peers", "intake@371399=127.0.0.1:1"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("no address for approval@371399"), "\(result)")
        let bad = try await CLIResult.run(["node", "health", "--peers", "intake@371300=nowhere"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--peers: 'nowhere' is not host:port"), "\(bad)")
    }
}
