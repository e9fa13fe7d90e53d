import Foundation
import GRPCCore
import OneSealAuth
import OneSealLocalCluster
import OneSealProto
import OneSealTLS
import OneSealWire
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue #17 on the real processes: the ten executables run with TLS (LocalCluster's default).
@Suite("TLS between the real processes", .serialized)
struct TLSEndToEndTests {
    static let tcpdump = ["/usr/bin/tcpdump", "/usr/sbin/tcpdump"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs tcpdump on `lo` for `ports` into a pcap file until `stop()`.
    final class Capture: Sendable {
        let process: Process
        let file: URL
        let log: URL

        init(ports: [Int], file: URL) async throws {
            self.file = file
            self.log = file.appendingPathExtension("log")
            FileManager.default.createFile(atPath: self.log.path, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: TLSEndToEndTests.tcpdump!)
            // -U: each packet written as it arrives; -s 0: whole packets.
            process.arguments = ["-i", "lo", "-U", "-s", "0", "-w", file.path] + ports.map { "tcp port \($0)" }.joined(separator: " or ").split(separator: " ").map(String.init)
            let handle = try FileHandle(forWritingTo: self.log)
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            self.process = process
            // tcpdump says "listening on lo" once it captures.
            for _ in 0..<100 {
                if let text = try? String(contentsOf: self.log, encoding: .utf8), text.contains("listening on") { return }
                try await Task.sleep(for: .milliseconds(100))
            }
            process.terminate()
            throw CaptureFailed(log: (try? String(contentsOf: self.log, encoding: .utf8)) ?? "")
        }

        struct CaptureFailed: Error { var log: String }

        /// Stops tcpdump and returns the captured bytes.
        /// SIGTERM, then SIGKILL if it still runs: tcpdump keeps ignoring SIGINT when its parent
        /// ignored it (the test runner does), and Foundation's `isRunning` does not always learn of
        /// a child's exit on Linux, so /proc says whether it is gone. Every packet is already in the
        /// file (-U), so a killed tcpdump loses nothing; a left-over one would capture for ever.
        func stop() async throws -> Data {
            try await Task.sleep(for: .milliseconds(500))
            let pid = self.process.processIdentifier
            kill(pid, SIGTERM)
            for _ in 0..<60 where LocalCluster.isAlive(pid: pid) { try await Task.sleep(for: .milliseconds(50)) }
            if LocalCluster.isAlive(pid: pid) { kill(pid, SIGKILL) }
            for _ in 0..<60 where LocalCluster.isAlive(pid: pid) { try await Task.sleep(for: .milliseconds(50)) }
            #expect(!LocalCluster.isAlive(pid: pid), "tcpdump \(pid) still runs after SIGKILL")
            return try Data(contentsOf: self.file)
        }

    }

    static func contains(_ data: Data, _ text: String) -> Bool {
        data.range(of: Data(text.utf8)) != nil
    }

    /// Sends `secrets` over one plain loopback TCP connection on `port`: the control proving that
    /// this capture and search would find them if they crossed the wire in clear.
    static func sendInClear(_ secrets: [String], port: Int) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var reuse: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(listener, 1) == 0 else { throw CaptureFailedToSend() }
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 else { throw CaptureFailedToSend() }
        let accepted = accept(listener, nil, nil)
        defer { close(accepted) }
        let bytes = Array(secrets.joined(separator: "|").utf8)
        _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, 0) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        _ = recv(accepted, &buffer, buffer.count, 0)
    }

    struct CaptureFailedToSend: Error {}

    /// Submits an application of a fresh company at the county while tcpdump captures the
    /// cluster's ports; returns the capture and the secrets the submission carried (the clerk's
    /// token, the USCC, the company's and the legal representative's names).
    static func captureSubmission(_ cluster: LocalCluster, _ hall: Hall, name: String) async throws -> (Data, [String]) {
        let capture = try await Capture(ports: cluster.trafficPorts, file: cluster.directory.appendingPathComponent("\(name).pcap"))
        var applicant = Hall.company
        applicant.name = "临沂市兰山区\(UUID().uuidString.prefix(6))餐饮有限公司"
        applicant.legalRepresentative = "赵\(["明", "华", "强", "伟"].randomElement()!)\(["一", "二", "三"].randomElement()!)"
        let submitted = try await hall.submit(at: "371302", items: [Hall.countyFoodItem], applicant: applicant)
        _ = try await hall.application(at: "371302", submitted.application.applicationID)
        let token = try #require(try hall.clerk("371302")[stringValues: "authorization"].first(where: { _ in true })).dropFirst("Bearer ".count)
        return (try await capture.stop(), [String(token), applicant.idNumber, applicant.name, applicant.legalRepresentative])
    }

    /// (a) With TLS on, a loopback capture of the cluster's ports during a submission holds no
    /// token, no ID number and no name; the same search finds all of them when they are sent in
    /// clear on a captured port (the apparatus works) — and see `captureControl`.
    @Test("a capture during a submission shows no token, ID number or name", .enabled(if: TLSEndToEndTests.tcpdump != nil && geteuid() == 0))
    func capture() async throws {
        try await withTwoNodes { cluster, hall in
            let (encrypted, secrets) = try await Self.captureSubmission(cluster, hall, name: "tls")
            #expect(encrypted.count > 4096, "the capture saw the submission's traffic (\(encrypted.count) bytes)")
            for secret in secrets {
                #expect(!Self.contains(encrypted, secret), "found in the TLS capture: \(secret.prefix(12))…")
            }
            let controlPort = try freeLoopbackPort()
            let control = try await Capture(ports: [controlPort], file: cluster.directory.appendingPathComponent("control.pcap"))
            try Self.sendInClear(secrets, port: controlPort)
            let clear = try await control.stop()
            for secret in secrets {
                #expect(Self.contains(clear, secret), "the control capture should show \(secret.prefix(12))…")
            }
        }
    }

    /// The control that proves the capture test can fail: the same submission on a cluster
    /// started with `--insecure-loopback` (plain TCP) shows the token, the ID number and the names.
    @Test("the same capture of a plain-TCP cluster shows them all", .enabled(if: TLSEndToEndTests.tcpdump != nil && geteuid() == 0))
    func captureControl() async throws {
        try await withTwoNodes(tls: false) { cluster, hall in
            let (clear, secrets) = try await Self.captureSubmission(cluster, hall, name: "plain")
            for secret in secrets {
                #expect(Self.contains(clear, secret), "not found in the plain-TCP capture: \(secret.prefix(12))…")
            }
        }
    }

    /// (b) A service token replayed without the service's client certificate is UNAUTHENTICATED
    /// at both nodes, and so is a city token under a county certificate; the genuine pair is
    /// accepted (the refusal is the certificate, not the token).
    @Test("replayed service tokens without the right client certificate are refused at both nodes")
    func replayedServiceToken() async throws {
        try await withTwoNodes { cluster, hall in
            let directory = cluster.directory.appendingPathComponent("replay")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            func material(_ node: String?, service: String) throws -> TLSMaterialSource {
                guard let node else {
                    return try TLSMaterialSource(files: TLSFiles(certificateFile: nil, keyFile: nil, trustFile: cluster.trustFile.path))
                }
                let issued = try cluster.certificateAuthorities[node]!.issue(service: service)
                let certificate = directory.appendingPathComponent("\(service)-\(node).pem"), key = directory.appendingPathComponent("\(service)-\(node).key")
                try issued.certificatePEM.write(to: certificate, atomically: true, encoding: .utf8)
                try issued.keyPEM.write(to: key, atomically: true, encoding: .utf8)
                return try TLSMaterialSource(files: TLSFiles(certificateFile: certificate.path, keyFile: key.path, trustFile: cluster.trustFile.path))
            }
            func deliver(to node: String, with material: TLSMaterialSource, token: String) async throws {
                let port = cluster.port(.approval, node)
                let tls = OneSealClientTransport.ClientTLS(material: material, expectedNode: node, expectedService: "approval")
                var metadata = Metadata()
                metadata.addString("Bearer \(token)", forKey: "authorization")
                try await withGRPCClient(transport: OneSealClientTransport(host: "127.0.0.1", port: port, tls: tls)) { client in
                    _ = try await Events_EventSink.Client(wrapping: client).deliver(Events_DeliverRequest(), metadata: metadata)
                }
            }
            func isUnauthenticated(_ error: any Error) -> Bool { (error as? RPCError)?.code == .unauthenticated }
            for node in cluster.nodes {
                let token = try cluster.signingKeys[node]!.mint(subject: "intake@\(node)", role: .peerNode, node: node)
                await #expect("no client certificate at \(node)") { try await deliver(to: node, with: try material(nil, service: "intake"), token: token) } throws: { isUnauthenticated($0) }
                // The genuine pair gets past authentication (an empty delivery is then the handler's business).
                do { try await deliver(to: node, with: try material(node, service: "intake"), token: token) } catch {
                    #expect(!isUnauthenticated(error), "the genuine certificate and token at \(node): \(error)")
                }
            }
            let cityToken = try cluster.signingKeys["371300"]!.mint(subject: "intake@371300", role: .peerNode, node: "371300")
            await #expect("a county certificate with a city token") {
                try await deliver(to: "371300", with: try material("371302", service: "intake"), token: cityToken)
            } throws: { isUnauthenticated($0) }
            _ = hall
        }
    }

    /// (d) at process level: a service's certificate file replaced and SIGHUP sent while calls
    /// run; no call fails and the process logs the reload.
    @Test("SIGHUP rotation under load loses no call")
    func sighupRotation() async throws {
        try await withTwoNodes { cluster, hall in
            let address = ServiceAddress(.intake, "371302")
            final class Failures: Sendable {
                let list = Mutex<[String]>([])
                func withLock<T>(_ body: (inout [String]) -> T) -> T { self.list.withLock { body(&$0) } }
            }
            let failures = Failures()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for index in 0..<60 {
                        do { _ = try await hall.clients.intake("371302").listItems(.init(), metadata: try hall.clerk("371302")) } catch {
                            failures.withLock { $0.append("\(error)") }
                        }
                        // Every fifth call on a new connection: a handshake with whatever is current.
                        if index % 5 == 0 {
                            do {
                                _ = try await withGRPCClient(
                                    transport: OneSealClientTransport(host: "127.0.0.1", port: cluster.port(.intake, "371302"), tls: cluster.clientTLS(address))
                                ) { try await Health_Health.Client(wrapping: $0).check(Health_CheckRequest()) }
                            } catch { failures.withLock { $0.append("new connection: \(error)") } }
                        }
                    }
                }
                group.addTask {
                    for _ in 0..<3 {
                        let issued = try cluster.certificateAuthorities["371302"]!.issue(service: "intake", hosts: ["localhost", "127.0.0.1"])
                        let key = cluster.certificateKeyFile(address), certificate = cluster.certificateFile(address)
                        try issued.keyPEM.write(to: key, atomically: true, encoding: .utf8)
                        try issued.certificatePEM.write(to: certificate, atomically: true, encoding: .utf8)
                        cluster.signal(address, SIGHUP)
                        try await Task.sleep(for: .milliseconds(300))
                    }
                }
                try await group.waitForAll()
            }
            #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
            try await eventually("the reload is logged", timeout: .seconds(10)) {
                cluster.logTail(address, lines: 200).contains("TLS material reloaded") ? true : nil
            }
            // New connections after the rotation still work.
            try await cluster.waitUntilHealthy(address)
        }
    }
}
