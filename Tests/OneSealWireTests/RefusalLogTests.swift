import Foundation
import GRPCCore
import MetricsTestKit
import NIOCore
import OneSealProto
@testable import OneSealWire
import Testing

/// Refused frames can no longer fill the disk (#15, item 4): wire text is escaped wherever it is
/// logged or sent back, refusal lines are rate-limited per connection, and every refusal is counted.
@Suite("Refusal logging")
struct RefusalLogTests {
    @Test("WireText escapes control bytes, DEL, backslashes and non-ASCII, and cuts long text")
    func escaping() {
        #expect(WireText.escaped("plain /a.B/C") == "plain /a.B/C")
        #expect(WireText.escaped("a\u{0}b\u{7F}c\u{1B}[31m") == "a\\x00b\\x7Fc\\x1B[31m")
        #expect(WireText.escaped("line\nfake=entry\r") == "line\\x0Afake=entry\\x0D")
        #expect(WireText.escaped("back\\slash") == "back\\\\slash")
        #expect(WireText.escaped("办") == "\\xE5\\x8A\\x9E")
        let long = WireText.escaped(String(repeating: "x", count: 1_000), maximumBytes: 10)
        #expect(long == "xxxxxxxxxx...(+990 bytes)")
        // Every byte value comes out printable ASCII.
        let all = WireText.escaped(bytes: (0...255).map { UInt8($0) }, maximumBytes: 256)
        #expect(all.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F })
    }

    @Test("limiter: the first refusal is logged, then at most one per interval with the count left out; finish returns the rest")
    func limiter() {
        var limiter = RefusalLogLimiter(interval: .seconds(10))
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        let first = limiter.admit(at: start)
        #expect(first.log && first.suppressedBefore == 0)
        for second in 1...9 {
            #expect(limiter.admit(at: start + .seconds(Int64(second))).log == false)
        }
        let next = limiter.admit(at: start + .seconds(10))
        #expect(next.log && next.suppressedBefore == 9)
        #expect(limiter.admit(at: start + .seconds(11)).log == false)
        #expect(limiter.admit(at: start + .seconds(12)).log == false)
        #expect(limiter.finish() == 2)
        #expect(limiter.finish() == 0)
    }

    @Test("over TCP: 500 refused frames give one log line, one summary, no raw wire bytes, and 500 in the metric")
    func rateLimitedOverTCP() async throws {
        let log = CapturedLog()
        let metrics = TestMetrics()
        try await withEchoServerTransport(logger: log.logger, metricsFactory: metrics) { port, _, _ in
            let peer = try await RawWirePeer.connect(port: port)
            try await peer.converse { next, send in
                // Messages for never-opened streams: each answered with Close{13}.
                try await send((1...499).map { .message(UInt32($0), [0]) })
                // A method path and a metadata key full of what must never reach a log raw.
                // (Well-formed as /service/method, so only the byte check refuses it.)
                let hostile = "/\u{0}\u{7F}\u{1B}[2J\nlevel=critical msg=forged/x"
                try await send([.open(1_000, method: hostile, metadata: [], timeoutMicros: 0)])
                var closes: [Wire_Close] = []
                while closes.count < 500, let frame = try await next() {
                    if case .close(let close) = frame.kind { closes.append(close) }
                }
                #expect(closes.count == 500)
                let methodRefusal = closes.last
                #expect(methodRefusal?.code == Int32(Status.Code.unimplemented.rawValue))
                #expect(methodRefusal?.message.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } == true, "\(String(describing: methodRefusal?.message.debugDescription))")
            }
            #expect(await eventually { log.all.contains { $0.contains("refused frames not logged one by one") } })
        }
        let lines = log.all
        let refusalLines = lines.filter { $0.contains("refused a frame") }
        #expect(refusalLines.count == 1, "\(refusalLines)")
        let summary = lines.first { $0.contains("refused frames not logged one by one") }
        #expect(summary?.contains("count=499") == true, "\(String(describing: summary))")
        for line in lines {
            #expect(line.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }, "raw bytes in \(line.debugDescription)")
        }
        #expect(metrics.counters(label: "oneseal_wire_refused_total", dimensions: [("reason", "protocol")]).map(\.totalValue).reduce(0, +) == 499)
        #expect(metrics.counters(label: "oneseal_wire_refused_total", dimensions: [("reason", "method")]).map(\.totalValue).reduce(0, +) == 1)
    }
}
