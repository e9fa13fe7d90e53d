import ArgumentParser
import Foundation
import GRPCCore
import Logging
import NIOCore
import NIOPosix
import OneSealProto
import OneSealTLS
import OneSealWire

/// The command: unary echo calls through GRPCCore on OneSeal TCP, beside raw SwiftNIO moving the
/// same frames, both over one loopback connection in this process.
struct BenchWire: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oneseal-bench-wire",
        abstract: "Unary echo calls over OneSeal TCP (GRPCServer/GRPCClient) versus a raw SwiftNIO echo of the same frames."
    )

    @Option(help: "Seconds per measured run.")
    var duration: Double = 10

    @Option(help: "Seconds of warm-up before each measured run (not counted).")
    var warmup: Double = 2

    @Option(help: "Request (and response) message size in bytes.")
    var payload: Int = 64

    @Option(parsing: .upToNextOption, help: "Concurrent callers (outstanding calls) to measure.")
    var callers: [Int] = [1, 8, 64]

    @Option(help: "Event loops of the two ends: separate (one loop thread each, as two processes), same (both on one loop thread), any (NIO's round robin, as before).")
    var placement: Placement = .separate

    @Flag(help: "Skip the GRPCCore in-process run (GRPCCore's own floor, no sockets).")
    var noInProcess = false

    @Flag(help: "Skip the standard gRPC over HTTP/2 runs (grpc-swift-nio-transport, plain and TLS) on the same GRPCCore.")
    var noGrpc = false

    @Flag(help: "Also run the mixed pairs (GRPCClient -> raw server, raw client -> GRPCServer) to see which side costs what.")
    var split = false

    func runBenchmark() async throws {
        // Which loop thread each end's connection gets decides a lot: with both ends on one loop
        // nothing crosses threads (the raw echo is then fastest), with one loop each every batch
        // wakes the other thread (as between two processes). A shared group assigns them by
        // round robin, so figures used to jump between runs; here the placement is chosen.
        var loops = MultiThreadedEventLoopGroup.singleton.makeIterator()
        let serverLoop = loops.next()!
        let otherLoop = loops.next() ?? serverLoop
        let serverGroup: any EventLoopGroup = placement == .any ? MultiThreadedEventLoopGroup.singleton : serverLoop
        let clientGroup: any EventLoopGroup
        switch placement {
        case .separate: clientGroup = otherLoop
        case .same: clientGroup = serverLoop
        case .any: clientGroup = MultiThreadedEventLoopGroup.singleton
        }
        var logger = Logger(label: "oneseal.bench-wire")
        logger.logLevel = .warning
        let message = [UInt8]((0..<payload).map { UInt8(truncatingIfNeeded: $0) })

        print(runHeader())
        print("oneseal-bench-wire: unary echo, \(payload)-byte message, one connection, \(warmup) s warm-up + \(duration) s per run")
        print("event loops: \(placement.rawValue) (server side and client side connections)")
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, load average before start: \(Self.loadAverage())")

        let serverTransport = OneSealServerTransport(host: "127.0.0.1", port: 0, eventLoopGroup: serverGroup, logger: logger)
        let server = GRPCServer(transport: serverTransport, services: [BenchEchoService()])
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await server.serve() }
            let port = try await serverTransport.listeningAddress.port!

            // The frames the transport answers with become the raw server's answers.
            let response = try await probeTransportResponse(port: port, payload: message, group: clientGroup)
            guard let headers = response.first(where: { if case .headers = $0.kind { true } else { false } }),
                  let close = response.first(where: { if case .close = $0.kind { true } else { false } }),
                  case .close(let status) = close.kind, status.code == 0
            else {
                throw ValidationError("probe call to the transport failed: \(response)")
            }
            let raw = try await RawEchoServer.start(headers: headers, close: close, group: serverGroup)

            // A GRPCClient's call to the raw server shows the raw server speaks the protocol and
            // gives the exact Open frame the transport client sends, for the raw client to copy.
            let rawEcho = try await withGRPCClient(
                transport: OneSealClientTransport(host: "127.0.0.1", port: raw.port, eventLoopGroup: clientGroup, logger: logger)
            ) { client in
                try await client.unary(
                    request: ClientRequest(message: message), descriptor: BenchEchoService.unary,
                    serializer: BytesCoder(), deserializer: BytesCoder(), options: .defaults
                ) { try $0.message }
            }
            guard rawEcho == message, let openTemplate = raw.firstOpen else {
                throw ValidationError("the raw echo server did not answer a GRPCClient call correctly")
            }
            var sample = openTemplate
            sample.streamID = 1
            var messageFrame = Wire_Frame()
            messageFrame.streamID = 1
            messageFrame.message = Wire_Message()
            messageFrame.message.data = Data(message)
            var halfClose = Wire_Frame()
            halfClose.streamID = 1
            halfClose.halfClose = Wire_HalfClose()
            let requestFrames = [sample, messageFrame, halfClose]
            print("frames per call (bytes on the wire incl. 4-byte length), identical for transport and raw:")
            print("  request:  " + requestFrames.map { "\(kindName($0)) \(wireSize($0))" }.joined(separator: ", ")
                  + " = \(requestFrames.map(wireSize).reduce(0, +))")
            print("  response: " + response.map { "\(kindName($0)) \(wireSize($0))" }.joined(separator: ", ")
                  + " = \(response.map(wireSize).reduce(0, +))")
            print()

            var rows: [(callers: Int, transport: RunResult, raw: RunResult)] = []
            var floors: [(callers: Int, inProcess: RunResult)] = []
            try await withGRPCClient(
                transport: OneSealClientTransport(host: "127.0.0.1", port: port, eventLoopGroup: clientGroup, logger: logger)
            ) { client in
                for count in callers {
                    let transport = try await runTransportCalls(
                        client: client, payload: message, callers: count, warmup: warmup, duration: duration)
                    Self.printRun("transport", count, transport)
                    let baseline = try await runRawPipeline(
                        port: raw.port, openTemplate: openTemplate, payload: message, outstanding: count,
                        warmup: warmup, duration: duration, group: clientGroup)
                    Self.printRun("raw NIO  ", count, baseline)
                    rows.append((count, transport, baseline))
                    if !noInProcess {
                        let inProcess = try await runInProcessCalls(
                            payload: message, callers: count, warmup: warmup, duration: duration)
                        Self.printRun("GRPCCore in-process", count, inProcess)
                        floors.append((count, inProcess))
                    }
                    if split {
                        let clientOnly = try await withGRPCClient(
                            transport: OneSealClientTransport(host: "127.0.0.1", port: raw.port, eventLoopGroup: clientGroup, logger: logger)
                        ) { rawServerClient in
                            try await runTransportCalls(
                                client: rawServerClient, payload: message, callers: count, warmup: warmup, duration: duration)
                        }
                        Self.printRun("GRPCClient -> raw server", count, clientOnly)
                        let serverOnly = try await runRawPipeline(
                            port: port, openTemplate: openTemplate, payload: message, outstanding: count,
                            warmup: warmup, duration: duration, group: clientGroup)
                        Self.printRun("raw client -> GRPCServer", count, serverOnly)
                    }
                }
            }
            await raw.stop()

            // OneSeal TCP + TLS (TLS 1.3, ALPN oneseal/1, as every node runs it): the same echo on a
            // second server of ours with a throwaway node CA, one connection.
            var certificates: ThrowawayCertificates?
            do { certificates = try ThrowawayCertificates.make() } catch {
                print("TLS runs skipped: \(error)")
            }
            defer { certificates?.remove() }
            var oneSealTLS: [Int: RunResult] = [:]
            if let certificates {
                print()
                print("OneSeal TCP + TLS (the same echo, one connection):")
                let tlsTransport = OneSealServerTransport(
                    host: "127.0.0.1", port: 0, eventLoopGroup: serverGroup, logger: logger, tls: try certificates.oneSealServer())
                let tlsServer = GRPCServer(transport: tlsTransport, services: [BenchEchoService()])
                try await withThrowingTaskGroup(of: Void.self) { tlsTasks in
                    tlsTasks.addTask { try await tlsServer.serve() }
                    let tlsPort = try await tlsTransport.listeningAddress.port!
                    try await withGRPCClient(
                        transport: OneSealClientTransport(
                            host: "127.0.0.1", port: tlsPort, eventLoopGroup: clientGroup, logger: logger, tls: try certificates.oneSealClient())
                    ) { client in
                        for count in callers {
                            let result = try await runTransportCalls(
                                client: client, payload: message, callers: count, warmup: warmup, duration: duration)
                            Self.printRun("OneSeal TCP + TLS", count, result)
                            oneSealTLS[count] = result
                        }
                    }
                    tlsServer.beginGracefulShutdown()
                    try await tlsTasks.waitForAll()
                }
            }

            // Our transport beside the standard one, on the same GRPCCore and echo service.
            var standard: [(callers: Int, plain: RunResult, tls: RunResult?)] = []
            if !noGrpc {
                let http2Server: MultiThreadedEventLoopGroup = placement == .any ? .singleton : MultiThreadedEventLoopGroup(numberOfThreads: 1)
                let http2Client: any EventLoopGroup = placement == .same ? http2Server.next() : clientGroup
                print()
                print("gRPC over HTTP/2 (grpc-swift-nio-transport, one connection, the same GRPCCore and echo):")
                for count in callers {
                    let plain = try await runHTTP2Calls(
                        tls: nil, serverGroup: http2Server, clientGroup: http2Client, payload: message, callers: count,
                        warmup: warmup, duration: duration)
                    Self.printRun("gRPC HTTP/2      ", count, plain)
                    var secured: RunResult?
                    if let certificates {
                        secured = try await runHTTP2Calls(
                            tls: certificates, serverGroup: http2Server, clientGroup: http2Client, payload: message, callers: count,
                            warmup: warmup, duration: duration)
                        Self.printRun("gRPC HTTP/2 + TLS", count, secured!)
                    }
                    standard.append((count, plain, secured))
                }
                if placement != .any { try await http2Server.shutdownGracefully() }
            }

            print()
            print("| callers | transport calls/s | p50 µs | p99 µs | CPU µs/call | raw NIO calls/s | p50 µs | p99 µs | CPU µs/call | transport/raw |")
            print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            for row in rows {
                print(String(
                    format: "| %d | %.0f | %.0f | %.0f | %.1f | %.0f | %.0f | %.0f | %.1f | %.2f |",
                    row.callers, row.transport.callsPerSecond, row.transport.p50Micros, row.transport.p99Micros,
                    row.transport.cpuMicrosPerCall,
                    row.raw.callsPerSecond, row.raw.p50Micros, row.raw.p99Micros, row.raw.cpuMicrosPerCall,
                    row.transport.callsPerSecond / max(row.raw.callsPerSecond, 1)))
            }
            if !floors.isEmpty {
                print()
                print("GRPCCore alone (same echo service and callers on grpc-swift-2's InProcessTransport, no sockets):")
                print("| callers | in-process calls/s | p50 µs | p99 µs | CPU µs/call | in-process/raw | transport/in-process |")
                print("|---:|---:|---:|---:|---:|---:|---:|")
                for floor in floors {
                    guard let row = rows.first(where: { $0.callers == floor.callers }) else { continue }
                    print(String(
                        format: "| %d | %.0f | %.0f | %.0f | %.1f | %.2f | %.2f |",
                        floor.callers, floor.inProcess.callsPerSecond, floor.inProcess.p50Micros,
                        floor.inProcess.p99Micros, floor.inProcess.cpuMicrosPerCall,
                        floor.inProcess.callsPerSecond / max(row.raw.callsPerSecond, 1),
                        row.transport.callsPerSecond / max(floor.inProcess.callsPerSecond, 1)))
                }
            }
            if !standard.isEmpty {
                print()
                print("OneSeal TCP beside standard gRPC over HTTP/2, same GRPCCore, plain and TLS:")
                print("| callers | transport | calls/s | p50 µs | p99 µs | CPU µs/call | OneSeal TCP ÷ this (calls/s) | this ÷ OneSeal TCP (CPU/call) |")
                print("|---:|---|---:|---:|---:|---:|---:|---:|")
                for entry in standard {
                    guard let ours = rows.first(where: { $0.callers == entry.callers })?.transport else { continue }
                    let variants: [(String, RunResult?)] = [
                        ("OneSeal TCP", ours), ("OneSeal TCP + TLS", oneSealTLS[entry.callers]), ("gRPC HTTP/2", entry.plain), ("gRPC HTTP/2 + TLS", entry.tls),
                    ]
                    for case let (name, result?) in variants {
                        print(String(
                            format: "| %d | %@ | %.0f | %.0f | %.0f | %.1f | %.2f | %.2f |",
                            entry.callers, name, result.callsPerSecond, result.p50Micros, result.p99Micros, result.cpuMicrosPerCall,
                            ours.callsPerSecond / max(result.callsPerSecond, 1), result.cpuMicrosPerCall / max(ours.cpuMicrosPerCall, 0.001)))
                    }
                }
                for entry in standard {
                    guard let ours = rows.first(where: { $0.callers == entry.callers })?.transport else { continue }
                    let ratio = ours.callsPerSecond / max(entry.plain.callsPerSecond, 1)
                    print(String(format: "%d caller(s): OneSeal TCP / gRPC HTTP/2 (both plain) = %.2f calls/s (ours ahead when > 1): %@",
                                 entry.callers, ratio, ratio > 1 ? "ahead" : "NOT ahead"))
                    if let secured = oneSealTLS[entry.callers], let theirs = entry.tls {
                        let tlsRatio = secured.callsPerSecond / max(theirs.callsPerSecond, 1)
                        print(String(format: "%d caller(s): OneSeal TCP + TLS / gRPC HTTP/2 + TLS = %.2f calls/s: %@",
                                     entry.callers, tlsRatio, tlsRatio > 1 ? "ahead" : "NOT ahead"))
                    }
                }
            }
            for row in rows {
                let ratio = row.transport.callsPerSecond / max(row.raw.callsPerSecond, 1)
                print(String(format: "%d caller(s): transport/raw = %.2f (target >= 0.50): %@", row.callers, ratio,
                             ratio >= 0.5 ? "reached" : "NOT reached"))
            }
            if let wide = rows.first(where: { $0.callers == 64 }) {
                print(String(format: "64 callers: %.0f calls/s (target >= 20,000): %@", wide.transport.callsPerSecond,
                             wide.transport.callsPerSecond >= 20_000 ? "reached" : "NOT reached"))
            }
            print("load average after: \(Self.loadAverage())")

            server.beginGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    static func printRun(_ label: String, _ callers: Int, _ result: RunResult) {
        print(String(
            format: "%@ %3d caller(s): %8.0f calls/s  p50 %7.1f µs  p99 %7.1f µs  CPU %5.1f µs/call  (%d calls, %d errors)",
            label, callers, result.callsPerSecond, result.p50Micros, result.p99Micros, result.cpuMicrosPerCall,
            result.calls, result.errors))
    }

    static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?
            .split(separator: " ").prefix(3).joined(separator: " ") ?? "unknown"
    }
}

/// `--placement`: where the two ends' connections run (see `runBenchmark`).
enum Placement: String, ExpressibleByArgument, CaseIterable {
    case separate
    case same
    case any
}
