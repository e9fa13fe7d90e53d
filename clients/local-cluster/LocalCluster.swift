import CertificateRules
import Foundation
import Logging
import OneSealAuth
import OneSealPrivacy
import OneSealStore
import OneSealTLS
import OneSealWire
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One of the five executables of a node.
public enum ServiceName: String, CaseIterable, Sendable, Hashable {
    case intake, approval, certificate, supervision, evaluation

    public var executable: String { "oneseal-\(rawValue)" }
    /// The SwiftPM resource bundle (its migrations) the executable looks for beside itself.
    public var resourceBundle: String { "OneSeal_\(rawValue.prefix(1).uppercased() + rawValue.dropFirst())Service.resources" }
}

/// Where one service of one node is: the key of everything the cluster starts.
public struct ServiceAddress: Hashable, Sendable, CustomStringConvertible {
    public var service: ServiceName
    public var node: String
    public init(_ service: ServiceName, _ node: String) {
        self.service = service
        self.node = node
    }
    public var description: String { "\(service.rawValue)@\(node)" }
}

/// One process of a service: replica 0 is the only one unless the cluster runs replicas.
public struct ReplicaAddress: Hashable, Sendable, CustomStringConvertible {
    public var address: ServiceAddress
    public var replica: Int
    public init(_ address: ServiceAddress, _ replica: Int) {
        self.address = address
        self.replica = replica
    }
    public var description: String { replica == 0 ? "\(address)" : "\(address)#\(replica)" }
}

/// A city and its counties running as real processes on this machine: each node's five executables,
/// each with its own database on one PostgreSQL server, wired to each other through `ONESEAL_PEERS`.
///
/// The end-to-end tests and `oneseal-bench` use it instead of `scripts/cluster` so they can pick free
/// ports, kill and restart single processes (the "nothing lost" test) and clean up after themselves.
/// Keys are generated fresh per cluster into its directory and never leave it.
public final class LocalCluster: Sendable {
    public let nodes: [String]
    public let directory: URL
    public let binDirectory: URL
    /// Each node's token key, as in a real deployment: a node's services sign their calls with it,
    /// every service trusts each node's key for that node only (`NODE=KEY`), and tests mint a
    /// node's staff tokens with it. One key for all nodes would hide a missing node binding.
    public let signingKeys: [String: TokenSigningKey]
    public let ports: [ServiceAddress: Int]
    /// Each service's standard gRPC over HTTP/2 port (`ONESEAL_GRPC_PORT`), for integrators' runtimes.
    public let grpcPorts: [ServiceAddress: Int]
    /// Each service's database name (on `server(of:)` of its node).
    public let databases: [ServiceAddress: String]
    /// Each web front's own database (accounts and sessions, #18 item 3), when started with `web: true`.
    public let webDatabases: [String: String]
    /// The key each node's web front mints applicant tokens with (W16); that node's services trust
    /// it for role applicant only.
    public let applicantKeys: [String: TokenSigningKey]
    /// The key each node's web front mints staff tokens with (#19, W31); that node's services trust
    /// it for the staff roles only.
    public let webStaffKeys: [String: TokenSigningKey]
    /// Extra variables of the web fronts (e.g. ONESEAL_WEB_TRUSTED_PROXIES for the web benchmark).
    private let webEnvironment: [String: String]
    private let adminConninfo: String
    private let logLevel: String
    private let extraEnvironment: [String: String]
    private let processes = Mutex<[ReplicaAddress: Process]>([:])
    /// Processes per service (issue #22 item 2: replicas on one database). With more than one,
    /// `ports` are balancers (a `LinkProxy` over the replicas, as a Kubernetes Service would be) and
    /// each replica listens on a port of its own.
    public let replicas: Int
    private let replicaPorts: [ReplicaAddress: (rpc: Int, grpc: Int)]
    private let balancers: [ServiceAddress: LinkProxy]
    /// A node moved to another PostgreSQL server (a restore into a fresh server): its services'
    /// databases are looked up there from their next start on.
    private let movedNodes = Mutex<[String: String]>([:])
    /// Services started from another build since the cluster started (a rolling upgrade).
    private let upgradedBinaries = Mutex<[ServiceAddress: URL]>([:])
    /// Calls from one node to another go through these relays (one per service), so the link
    /// between the halls can be cut and restored while each hall keeps working on its own.
    private let links: [ServiceAddress: LinkProxy]
    /// Each node's CA (issued in process into the cluster's directory); empty when the cluster was
    /// started with `tls: false`. Tests issue extra certificates with them (a county certificate
    /// for a city token, an expired one).
    public let certificateAuthorities: [String: NodeCertificateAuthority]
    /// The trust bundle every process and client of the cluster uses: every node's CA (a local
    /// cluster's nodes are all configured as each other's peers).
    public var trustFile: URL { directory.appendingPathComponent("trust.pem") }
    /// TLS of a client of this cluster: the trust bundle, no client certificate (staff and
    /// applicants authenticate by token), and the service it must reach. nil without TLS.
    public func clientTLS(_ address: ServiceAddress) -> OneSealClientTransport.ClientTLS? {
        self.clientMaterial.map { .init(material: $0, expectedNode: address.node, expectedService: address.service.rawValue) }
    }
    private let clientMaterial: TLSMaterialSource?
    /// oneseal-web per node when started with `web: true` (#18), on these ports; its certificate
    /// service writes QR codes under that front's URL (ONESEAL_PUBLIC_URL).
    public let webPorts: [String: Int]
    private let webProcesses = Mutex<[String: Process]>([:])

    /// A fresh tag for a cluster's database names (eight lower-case hex digits).
    public static func newDatabaseTag() -> String {
        String(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(8))
    }

    /// What every database name of the cluster tagged `tag` starts with: `<prefix>_<service>_<node>`.
    public static func databasePrefix(tag: String) -> String { "c\(tag)" }

    /// Builds the cluster's key files and databases and starts every process, then waits until each
    /// answers its health check. `admin` is a libpq conninfo of a role that may create databases.
    /// The databases are named `c<tag>_<service>_<node>` (`databasePrefix(tag:)`), `tag` random
    /// unless given (a loader that filled a node's databases beforehand names them the same way;
    /// an existing one is used).
    public static func start(
        nodes: [String] = ["371300", "371302"],
        adminConninfo admin: String,
        binDirectory: URL,
        logLevel: String = "notice",
        calendar: String? = LocalCluster.provisional2027,
        environment: [String: String] = [:],
        tls: Bool = true,
        web: Bool = false,
        webEnvironment: [String: String] = [:],
        replicas: Int = 1,
        databaseTag: String? = nil
    ) async throws -> LocalCluster {
        precondition(replicas >= 1, "at least one process per service")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-cluster-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var environment = environment
        if let calendar {
            let file = directory.appendingPathComponent("calendar.txt")
            try calendar.write(to: file, atomically: true, encoding: .utf8)
            environment["ONESEAL_CALENDAR_FILE"] = file.path
        }
        var ports: [ServiceAddress: Int] = [:]
        var grpcPorts: [ServiceAddress: Int] = [:]
        var databases: [ServiceAddress: String] = [:]
        let tag = databaseTag ?? newDatabaseTag()
        for node in nodes {
            for service in ServiceName.allCases {
                let address = ServiceAddress(service, node)
                ports[address] = try freeLoopbackPort()
                grpcPorts[address] = try freeLoopbackPort()
                databases[address] = "\(databasePrefix(tag: tag))_\(service.rawValue)_\(node)"
            }
        }
        var replicaPorts: [ReplicaAddress: (rpc: Int, grpc: Int)] = [:]
        var balancers: [ServiceAddress: LinkProxy] = [:]
        if replicas > 1 {
            for address in ports.keys {
                for replica in 0..<replicas { replicaPorts[ReplicaAddress(address, replica)] = (try freeLoopbackPort(), try freeLoopbackPort()) }
                let balancer = try await LinkProxy.start(targetPorts: (0..<replicas).map { replicaPorts[ReplicaAddress(address, $0)]!.rpc })
                balancers[address] = balancer
                ports[address] = balancer.port
            }
        }
        var links: [ServiceAddress: LinkProxy] = [:]
        for (address, port) in ports { links[address] = try await LinkProxy.start(targetPorts: [port]) }
        var webPorts: [String: Int] = [:]
        var webDatabases: [String: String] = [:]
        if web {
            for node in nodes {
                webPorts[node] = try freeLoopbackPort()
                webDatabases[node] = "\(databasePrefix(tag: tag))_web_\(node)"
            }
        }
        // TLS as in production: a CA per node, a certificate per service, every node's CA trusted.
        var authorities: [String: NodeCertificateAuthority] = [:]
        var clientMaterial: TLSMaterialSource?
        if tls {
            for node in nodes { authorities[node] = try NodeCertificateAuthority.create(node: node) }
            let trust = directory.appendingPathComponent("trust.pem")
            try nodes.map { try authorities[$0]!.certificatePEM }.joined().write(to: trust, atomically: true, encoding: .utf8)
            for node in nodes {
                for service in ServiceName.allCases {
                    let issued = try authorities[node]!.issue(service: service.rawValue, hosts: ["localhost", "127.0.0.1"])
                    try issued.certificatePEM.write(to: directory.appendingPathComponent("tls-\(node)-\(service.rawValue).pem"), atomically: true, encoding: .utf8)
                    try Self.writeSecret(issued.keyPEM, to: directory.appendingPathComponent("tls-\(node)-\(service.rawValue).key"))
                }
            }
            clientMaterial = try TLSMaterialSource(files: TLSFiles(certificateFile: nil, keyFile: nil, trustFile: trust.path))
        }
        let cluster = LocalCluster(
            nodes: nodes, directory: directory, binDirectory: binDirectory, signingKeys: Dictionary(uniqueKeysWithValues: nodes.map { ($0, TokenSigningKey.generate(issuer: $0)) }),
            ports: ports, grpcPorts: grpcPorts, databases: databases, adminConninfo: admin, logLevel: logLevel, extraEnvironment: environment, links: links,
            certificateAuthorities: authorities, clientMaterial: clientMaterial, webPorts: webPorts, webDatabases: webDatabases, webEnvironment: webEnvironment,
            applicantKeys: Dictionary(uniqueKeysWithValues: webPorts.keys.map { ($0, TokenSigningKey.generate(issuer: $0)) }),
            webStaffKeys: Dictionary(uniqueKeysWithValues: webPorts.keys.map { ($0, TokenSigningKey.generate(issuer: $0)) }),
            replicas: replicas, replicaPorts: replicaPorts, balancers: balancers)
        try cluster.writeKeys()
        try await cluster.createDatabases()
        do {
            for address in cluster.allAddresses { for replica in 0..<replicas { try cluster.launch(ReplicaAddress(address, replica)) } }
            for address in cluster.allAddresses { try await cluster.waitUntilHealthy(address) }
            for node in webPorts.keys.sorted() { try cluster.launchWeb(node) }
            for node in webPorts.keys.sorted() { try await cluster.waitUntilWebAnswers(node) }
        } catch {
            await cluster.stop()
            throw error
        }
        return cluster
    }

    private init(
        nodes: [String], directory: URL, binDirectory: URL, signingKeys: [String: TokenSigningKey], ports: [ServiceAddress: Int],
        grpcPorts: [ServiceAddress: Int], databases: [ServiceAddress: String], adminConninfo: String, logLevel: String, extraEnvironment: [String: String],
        links: [ServiceAddress: LinkProxy], certificateAuthorities: [String: NodeCertificateAuthority], clientMaterial: TLSMaterialSource?,
        webPorts: [String: Int], webDatabases: [String: String], webEnvironment: [String: String], applicantKeys: [String: TokenSigningKey],
        webStaffKeys: [String: TokenSigningKey], replicas: Int, replicaPorts: [ReplicaAddress: (rpc: Int, grpc: Int)], balancers: [ServiceAddress: LinkProxy]
    ) {
        self.replicas = replicas
        self.replicaPorts = replicaPorts
        self.balancers = balancers
        self.certificateAuthorities = certificateAuthorities
        self.clientMaterial = clientMaterial
        self.links = links
        self.webPorts = webPorts
        self.webDatabases = webDatabases
        self.webEnvironment = webEnvironment
        self.applicantKeys = applicantKeys
        self.webStaffKeys = webStaffKeys
        self.nodes = nodes
        self.directory = directory
        self.binDirectory = binDirectory
        self.signingKeys = signingKeys
        self.ports = ports
        self.grpcPorts = grpcPorts
        self.databases = databases
        self.adminConninfo = adminConninfo
        self.logLevel = logLevel
        self.extraEnvironment = extraEnvironment
    }

    /// A local cluster runs on today's date, and a 45-working-day city item decided from late 2026
    /// runs into 2027, whose State Council notice is not built in (the calendar refuses unknown
    /// years rather than guess). Local clusters load what the law already fixes — 元旦, 1 January
    /// (全国年节及纪念日放假办法 Art. 2) — through ONESEAL_CALENDAR_FILE, exactly as an operator loads
    /// the real notice. A fixture for tests and benchmarks, not a calendar to run a hall on.
    public static let provisional2027 = """
        # Local clusters only: 2027 as far as the law fixes it before the notice (New Year's Day).
        2027 off 2027-01-01

        """

    /// Every service of every node, city first.
    public var allAddresses: [ServiceAddress] {
        nodes.flatMap { node in ServiceName.allCases.map { ServiceAddress($0, node) } }
    }

    public func port(_ service: ServiceName, _ node: String) -> Int { ports[ServiceAddress(service, node)]! }

    /// Every TCP port the cluster's traffic uses on loopback: the services' and the link relays'
    /// (a capture filtered to these sees every call of the cluster and nothing else).
    public var trafficPorts: [Int] { (Array(ports.values) + links.values.map(\.port)).sorted() }

    /// libpq conninfo of one service's own database (for checks a test makes after the run).
    public func conninfo(_ address: ServiceAddress) throws -> String {
        try PostgresConnInfo.replacingDatabase(in: server(of: address.node), with: databases[address]!)
    }

    /// The admin conninfo of the PostgreSQL server holding `node`'s databases.
    public func server(of node: String) -> String { movedNodes.withLock { $0[node] } ?? adminConninfo }

    /// From now on `node`'s services find their databases (same names) on the server at
    /// `adminConninfo`: restart them to use it. The caller has put the databases there.
    public func moveNode(_ node: String, toServer adminConninfo: String) {
        movedNodes.withLock { $0[node] = adminConninfo }
    }

    /// The build a service's processes start from: the cluster's, or the one it was upgraded to.
    public func binDirectory(of address: ServiceAddress) -> URL { upgradedBinaries.withLock { $0[address] } ?? binDirectory }

    /// A rolling upgrade of one service (issue #22 item 3): its processes stop as an operator stops
    /// them (SIGTERM, they drain; SIGKILL after `grace`), and start again from `binDirectory`,
    /// which applies that build's migrations before serving. The rest of the cluster keeps working
    /// meanwhile; events for the stopped service wait in the outboxes.
    public func upgrade(_ address: ServiceAddress, to binDirectory: URL, grace: Duration = .seconds(15)) async throws {
        let running = processes.withLock { all in replicaKeys(address, nil).compactMap { all[$0] } }
        for process in running where Self.isAlive(process) { process.terminate() }
        let deadline = ContinuousClock.now.advanced(by: grace)
        while running.contains(where: Self.isAlive), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        for process in running where Self.isAlive(process) { Glibc.kill(process.processIdentifier, SIGKILL) }
        upgradedBinaries.withLock { $0[address] = binDirectory }
        try await restart(address)
    }

    /// The secret files a node's services read — what an operator keeps with a backup: the token
    /// signing key, the personal-data key ring and the seal key.
    public func secretFiles(_ node: String) -> [String: URL] {
        ["token-key": keyFile(node), "data-key": dataKeyFile(node), "seal-key": sealKeyFile(node)]
    }

    /// The log file of one process (appended to across restarts).
    public func logFile(_ address: ServiceAddress) -> URL { logFile(ReplicaAddress(address, 0)) }

    /// The log file of one replica (replica 0's is the service's).
    public func logFile(_ replica: ReplicaAddress) -> URL {
        let suffix = replica.replica == 0 ? "" : "-r\(replica.replica)"
        return directory.appendingPathComponent("\(replica.address.node)-\(replica.address.service.rawValue)\(suffix).log")
    }

    /// Every process of the cluster's services.
    public var allReplicas: [ReplicaAddress] { allAddresses.flatMap { address in (0..<replicas).map { ReplicaAddress(address, $0) } } }

    /// The last lines of a process's log, for failure messages (every replica's, when several).
    public func logTail(_ address: ServiceAddress, lines: Int = 30) -> String {
        (0..<replicas).map { replica in
            let text = (try? String(contentsOf: logFile(ReplicaAddress(address, replica)), encoding: .utf8)) ?? ""
            let tail = text.split(separator: "\n").suffix(lines).joined(separator: "\n")
            return replicas == 1 ? tail : "[replica \(replica)]\n\(tail)"
        }.joined(separator: "\n")
    }

    // MARK: Faults

    /// SIGKILL: the process gets no chance to drain (crash, OOM kill, power cut of one machine).
    /// Every replica of the service, unless `replica` names one.
    public func kill(_ address: ServiceAddress, replica: Int? = nil) async {
        for key in replicaKeys(address, replica) {
            guard let process = processes.withLock({ $0[key] }) else { continue }
            Glibc.kill(process.processIdentifier, SIGKILL)
            for _ in 0..<500 where Self.isAlive(process) { try? await Task.sleep(for: .milliseconds(20)) }
        }
    }

    private func replicaKeys(_ address: ServiceAddress, _ replica: Int?) -> [ReplicaAddress] {
        replica.map { [ReplicaAddress(address, $0)] } ?? (0..<replicas).map { ReplicaAddress(address, $0) }
    }

    /// Whether the child still runs, from /proc (a zombie or a missing entry is not running):
    /// Foundation's `Process.isRunning` does not always learn of a child's exit on Linux.
    static func isAlive(_ process: Process) -> Bool { isAlive(pid: process.processIdentifier) }

    /// The same for any child by its pid (a test's own helper process, e.g. tcpdump).
    public static func isAlive(pid: Int32) -> Bool {
        guard pid > 0, let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return false }
        let state = text[text.index(after: close)...].drop { $0 == " " }.first
        return state != "Z" && state != "X"
    }

    /// Starts a killed or stopped process again on the same port and database, and waits for health.
    public func restart(_ address: ServiceAddress, replica: Int? = nil) async throws {
        for key in replicaKeys(address, replica) where !isRunning(key) {
            try launch(key)
            try await waitUntilHealthy(key)
        }
    }

    /// Cuts the network between the nodes: every cross-node connection drops, new ones fail, until
    /// `restoreLinks()`. Each node's own services still reach each other.
    public func cutLinks() { for link in links.values { link.cut() } }

    public func restoreLinks() { for link in links.values { link.restore() } }

    /// Process ids of the running services (for CPU accounting by the benchmark).
    public func processIDs() -> [ServiceAddress: Int32] {
        processes.withLock { all in
            Dictionary(uniqueKeysWithValues: all.compactMap { key, process in
                key.replica == 0 && Self.isAlive(process) ? (key.address, process.processIdentifier) : nil
            })
        }
    }

    /// Whether the process is running now.
    /// Whether every process of the service runs now.
    public func isRunning(_ address: ServiceAddress) -> Bool { replicaKeys(address, nil).allSatisfy(isRunning) }

    public func isRunning(_ replica: ReplicaAddress) -> Bool { processes.withLock { $0[replica].map(Self.isAlive) ?? false } }

    /// SIGTERM to every process (they drain), SIGKILL to any still running after `grace`, then the
    /// databases are dropped and the key directory removed unless `keepFiles`.
    public func stop(grace: Duration = .seconds(15), keepFiles: Bool = false) async {
        let running = webProcesses.withLock { Array($0.values) } + processes.withLock { Array($0.values) }
        for process in running where Self.isAlive(process) { process.terminate() }
        let deadline = ContinuousClock.now.advanced(by: grace)
        while running.contains(where: Self.isAlive), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        for process in running where Self.isAlive(process) { Glibc.kill(process.processIdentifier, SIGKILL) }
        for link in links.values { await link.stop() }
        for balancer in balancers.values { await balancer.stop() }
        if !keepFiles {
            for server in Set(nodes.map(server(of:))) {
                let client = PostgresClient(conninfo: server, maxConnections: 1, logger: Self.quietLogger)
                for (address, name) in databases where self.server(of: address.node) == server { try? await client.dropDatabaseIfExists(name: name, force: true) }
                for (node, name) in webDatabases where self.server(of: node) == server { try? await client.dropDatabaseIfExists(name: name, force: true) }
                await client.shutdown()
            }
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// How many processes exited on their own since they were started (a crash is a defect).
    public func exitedProcesses() -> [(ServiceAddress, Int32)] {
        processes.withLock { all in all.compactMap { Self.isAlive($0.value) ? nil : ($0.key.address, $0.value.isRunning ? -1 : $0.value.terminationStatus) } }
    }

    // MARK: Starting

    /// The certificate file a service process serves with (replace it and send SIGHUP to rotate).
    public func certificateFile(_ address: ServiceAddress) -> URL {
        directory.appendingPathComponent("tls-\(address.node)-\(address.service.rawValue).pem")
    }
    public func certificateKeyFile(_ address: ServiceAddress) -> URL {
        directory.appendingPathComponent("tls-\(address.node)-\(address.service.rawValue).key")
    }

    /// Sends a signal (SIGHUP: reload TLS material) to one running process.
    public func signal(_ address: ServiceAddress, _ signal: Int32) {
        let keys = replicaKeys(address, nil)
        processes.withLock { all in
            for key in keys { if let process = all[key], Self.isAlive(process) { Glibc.kill(process.processIdentifier, signal) } }
        }
    }

    private func keyFile(_ node: String) -> URL { directory.appendingPathComponent("tokens-\(node).key") }
    private func dataKeyFile(_ node: String) -> URL { directory.appendingPathComponent("data-\(node).key") }
    private func sealKeyFile(_ node: String) -> URL { directory.appendingPathComponent("seal-\(node).key") }
    private func applicantKeyFile(_ node: String) -> URL { directory.appendingPathComponent("applicant-\(node).key") }
    private func webStaffKeyFile(_ node: String) -> URL { directory.appendingPathComponent("web-staff-\(node).key") }
    /// The web front's own data key (its accounts' personal data), not the services'.
    private func webDataKeyFile(_ node: String) -> URL { directory.appendingPathComponent("web-data-\(node).key") }

    private func writeKeys() throws {
        for node in nodes {
            try Self.writeSecret(signingKeys[node]!.base64 + "\n", to: keyFile(node))
            try Self.writeSecret(DataKeyring.generateKeyText() + "\n", to: dataKeyFile(node))
            try Self.writeSecret(SealKey.generate().fileLine + "\n", to: sealKeyFile(node))
        }
        for (node, key) in applicantKeys {
            try Self.writeSecret(key.base64 + "\n", to: applicantKeyFile(node))
            try Self.writeSecret(DataKeyring.generateKeyText() + "\n", to: webDataKeyFile(node))
        }
        for (node, key) in webStaffKeys { try Self.writeSecret(key.base64 + "\n", to: webStaffKeyFile(node)) }
    }

    private static func writeSecret(_ text: String, to url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw LocalClusterError.cannotWrite(url.path)
        }
    }

    private static var quietLogger: Logger {
        var logger = Logger(label: "oneseal.local-cluster")
        logger.logLevel = .error
        return logger
    }

    private func createDatabases() async throws {
        let client = PostgresClient(conninfo: adminConninfo, maxConnections: 1, logger: Self.quietLogger)
        do {
            for name in (Array(databases.values) + Array(webDatabases.values)).sorted() { _ = try await client.createDatabaseIfMissing(name: name) }
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }

    /// `ONESEAL_PEERS` of a process at `node`: its own node's services directly, the other nodes'
    /// through the link relays.
    private func peers(from node: String) -> String {
        allAddresses.map { "\($0)=127.0.0.1:\($0.node == node ? ports[$0]! : links[$0]!.port)" }.joined(separator: ",")
    }

    /// The halls' names and codes, as the sample catalogue names them (the codes are made up, with
    /// correct GB 32100 check characters).
    static let halls: [String: (name: String, uscc: String)] = [
        "371300": ("临沂市行政审批服务局", "11371300MB2850143Q"),
        "371302": ("临沂市兰山区行政审批服务局", "11371302MB2850286Q"),
    ]

    private func environment(_ replica: ReplicaAddress) throws -> [String: String] {
        let address = replica.address
        let (rpcPort, grpcPort) = replicas == 1 ? (ports[address]!, grpcPorts[address]!) : replicaPorts[replica]!
        var environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "ONESEAL_NODE": address.node,
            "ONESEAL_LISTEN_HOST": "127.0.0.1",
            "ONESEAL_PORT": String(rpcPort),
            "ONESEAL_GRPC_PORT": String(grpcPort),
            "ONESEAL_METRICS_PORT": "off",
            "ONESEAL_LOG_LEVEL": logLevel,
            "ONESEAL_DATABASE_URL": try conninfo(address),
            "ONESEAL_DB_POOL_SIZE": "4",
            // Each node's staff key, and its web front's key for role applicant only (W16).
            "ONESEAL_TOKEN_PUBLIC_KEYS": (nodes.map { "\($0)=\(signingKeys[$0]!.publicKey.rawRepresentation.base64EncodedString())" }
                + applicantKeys.keys.sorted().map { "\($0):applicant=\(applicantKeys[$0]!.publicKey.rawRepresentation.base64EncodedString())" }
                // The front's staff key for the staff roles only (W31).
                + webStaffKeys.keys.sorted().map { "\($0):\(Self.webStaffRoles)=\(webStaffKeys[$0]!.publicKey.rawRepresentation.base64EncodedString())" }).joined(separator: ","),
            "ONESEAL_PEERS": peers(from: address.node),
            "ONESEAL_SERVICE_KEY_FILE": keyFile(address.node).path,
            "ONESEAL_DATA_KEY_FILE": dataKeyFile(address.node).path,
            "ONESEAL_SEAL_KEY_FILE": sealKeyFile(address.node).path,
        ]
        if certificateAuthorities.isEmpty {
            environment["ONESEAL_INSECURE_LOOPBACK"] = "1"
        } else {
            environment["ONESEAL_TLS_CERT_FILE"] = certificateFile(address).path
            environment["ONESEAL_TLS_KEY_FILE"] = directory.appendingPathComponent("tls-\(address.node)-\(address.service.rawValue).key").path
            environment["ONESEAL_TLS_TRUST_FILE"] = trustFile.path
        }
        // Certificate writes QR codes under the front's URL; intake prints the rating link (W40).
        if [.certificate, .intake].contains(address.service), let port = webPorts[address.node] {
            environment["ONESEAL_PUBLIC_URL"] = "http://127.0.0.1:\(port)"
        }
        if let hall = Self.halls[address.node] {
            environment["ONESEAL_NODE_NAME"] = hall.name
            environment["ONESEAL_NODE_USCC"] = hall.uscc
        }
        for (key, value) in extraEnvironment { environment[key] = value }
        return environment
    }

    private func launch(_ replica: ReplicaAddress) throws {
        let address = replica.address
        let executable = binDirectory(of: address).appendingPathComponent(address.service.executable)
        guard FileManager.default.isExecutableFile(atPath: executable.path) else { throw LocalClusterError.missingExecutable(executable.path) }
        let log = logFile(replica)
        if !FileManager.default.fileExists(atPath: log.path), !FileManager.default.createFile(atPath: log.path, contents: nil) {
            throw LocalClusterError.cannotWrite(log.path)
        }
        // Appended to across restarts: the log of a killed process stays readable after it.
        let handle = try FileHandle(forWritingTo: log)
        try handle.seekToEnd()
        let process = Process()
        process.executableURL = executable
        process.environment = try environment(replica)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try? handle.close()
        processes.withLock { $0[replica] = process }
    }

    /// The roles the web front's staff key is trusted for: the staff roles (`StaffRole`), never
    /// node, integrator or applicant.
    static let webStaffRoles = "window_clerk+officer+section_chief+deputy_director+director+certificate_operator+department+evaluator+leader+operator"

    /// `node`'s web front database (libpq conninfo), where `oneseal staff` and the tests add staff.
    public func webDatabaseConninfo(_ node: String) throws -> String {
        try PostgresConnInfo.replacingDatabase(in: server(of: node), with: webDatabases[node]!)
    }

    /// The base URL of `node`'s web front (started with `web: true`).
    public func webURL(_ node: String) -> String { "http://127.0.0.1:\(webPorts[node]!)" }

    public func webLogFile(_ node: String) -> URL { directory.appendingPathComponent("\(node)-web.log") }

    /// oneseal-web of `node`, calling that node's intake and certificate services directly.
    private func launchWeb(_ node: String) throws {
        let executable = binDirectory.appendingPathComponent("oneseal-web")
        guard FileManager.default.isExecutableFile(atPath: executable.path) else { throw LocalClusterError.missingExecutable(executable.path) }
        let log = webLogFile(node)
        guard FileManager.default.createFile(atPath: log.path, contents: nil) else { throw LocalClusterError.cannotWrite(log.path) }
        let handle = try FileHandle(forWritingTo: log)
        var environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "ONESEAL_NODE": node, "ONESEAL_LISTEN_HOST": "127.0.0.1", "ONESEAL_PORT": String(webPorts[node]!),
            "ONESEAL_LOG_LEVEL": logLevel == "notice" ? "info" : logLevel, "ONESEAL_PUBLIC_URL": webURL(node),
            "ONESEAL_PEERS": ["intake", "certificate", "evaluation", "approval", "supervision"].map { "\($0)@\(node)=127.0.0.1:\(ports[ServiceAddress(ServiceName(rawValue: $0)!, node)]!)" }.joined(separator: ","),
        ]
        if let hall = Self.halls[node] { environment["ONESEAL_NODE_NAME"] = hall.name }
        if let database = webDatabases[node] {
            // Accounts: the front's own database, data key and applicant key.
            environment["ONESEAL_DATABASE_URL"] = try PostgresConnInfo.replacingDatabase(in: server(of: node), with: database)
            environment["ONESEAL_DB_POOL_SIZE"] = "2"
            environment["ONESEAL_DATA_KEY_FILE"] = webDataKeyFile(node).path
            environment["ONESEAL_WEB_APPLICANT_KEY_FILE"] = applicantKeyFile(node).path
            environment["ONESEAL_WEB_STAFF_KEY_FILE"] = webStaffKeyFile(node).path
        }
        if let authority = certificateAuthorities[node] {
            // The front calls its node's services over TLS as web@<node>, like any client.
            let issued = try authority.issue(service: "web", hosts: ["localhost", "127.0.0.1"])
            let certificate = directory.appendingPathComponent("tls-\(node)-web.pem"), key = directory.appendingPathComponent("tls-\(node)-web.key")
            try issued.certificatePEM.write(to: certificate, atomically: true, encoding: .utf8)
            try Self.writeSecret(issued.keyPEM, to: key)
            environment["ONESEAL_TLS_CERT_FILE"] = certificate.path
            environment["ONESEAL_TLS_KEY_FILE"] = key.path
            environment["ONESEAL_TLS_TRUST_FILE"] = trustFile.path
        } else {
            environment["ONESEAL_INSECURE_LOOPBACK"] = "1"
        }
        for (key, value) in webEnvironment { environment[key] = value }
        let process = Process()
        process.executableURL = executable
        process.environment = environment
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try? handle.close()
        webProcesses.withLock { $0[node] = process }
    }

    /// Waits until the web front accepts connections on its port (it binds once it is ready).
    private func waitUntilWebAnswers(_ node: String, timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        let address = ServiceAddress(.certificate, node)
        while ContinuousClock.now < deadline {
            if let process = webProcesses.withLock({ $0[node] }), !Self.isAlive(process) {
                throw LocalClusterError.exited(address, log: (try? String(contentsOf: webLogFile(node), encoding: .utf8)) ?? "")
            }
            if !LoopbackPorts.isFree(webPorts[node]!) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw LocalClusterError.unhealthy(address, last: "oneseal-web did not listen", log: (try? String(contentsOf: webLogFile(node), encoding: .utf8)) ?? "")
    }

    /// Polls the health method until it answers SERVING (up to `timeout`); a process that exits
    /// meanwhile fails at once with the tail of its log.
    public func waitUntilHealthy(_ address: ServiceAddress, timeout: Duration = .seconds(60)) async throws {
        for key in replicaKeys(address, nil) { try await waitUntilHealthy(key, timeout: timeout) }
    }

    /// Waits for one process, asked on its own port (not through a balancer).
    public func waitUntilHealthy(_ replica: ReplicaAddress, timeout: Duration = .seconds(60)) async throws {
        let address = replica.address
        let port = replicas == 1 ? ports[address]! : replicaPorts[replica]!.rpc
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var last = "no answer"
        while ContinuousClock.now < deadline {
            if !isRunning(replica) {
                throw LocalClusterError.exited(address, log: logTail(address))
            }
            switch await HealthProbe.check(host: "127.0.0.1", port: port, tls: clientTLS(address)) {
            case .serving: return
            case .notServing(let why): last = why
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw LocalClusterError.unhealthy(address, last: last, log: logTail(address))
    }
}

public enum LocalClusterError: Error, CustomStringConvertible {
    case missingExecutable(String)
    case cannotWrite(String)
    case exited(ServiceAddress, log: String)
    case unhealthy(ServiceAddress, last: String, log: String)

    public var description: String {
        switch self {
        case .missingExecutable(let path): "no executable at \(path): build the five services first (swift build)"
        case .cannotWrite(let path): "cannot write \(path)"
        case .exited(let address, let log): "\(address) exited while starting; its log ends:\n\(log)"
        case .unhealthy(let address, let last, let log): "\(address) did not become healthy (\(last)); its log ends:\n\(log)"
        }
    }
}

/// A TCP port free right now on 127.0.0.1, so every service can be told every other's address
/// before any starts. It is taken from below the kernel's ephemeral range
/// (`/proc/sys/net/ipv4/ip_local_port_range`): a socket bound to port 0 anywhere else on the machine —
/// the in-process servers of the tests running beside a cluster, every outgoing connection — comes
/// from that range, so it cannot take the port between this check and the service's own bind (the
/// full test run once lost a process to exactly that with ports from the ephemeral range). No port
/// is handed out twice in one process.
public func freeLoopbackPort() throws -> Int {
    let range = LoopbackPorts.candidates
    for _ in 0..<200 {
        let port = Int.random(in: range)
        guard LoopbackPorts.handedOut.withLock({ $0.insert(port).inserted }) else { continue }
        if LoopbackPorts.isFree(port) { return port }
    }
    throw LocalClusterError.cannotWrite("no free loopback port in \(range)")
}

enum LoopbackPorts {
    static let handedOut = Mutex<Set<Int>>([])

    /// Ports below the ephemeral range (Linux default 32768–60999 → 20000–32767).
    static let candidates: ClosedRange<Int> = {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let low = text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32768
        let upper = max(low - 1, 11_024)
        return max(upper - 12_767, 10_000)...upper
    }()

    /// Binds `port` on 127.0.0.1 and closes it again: true if nothing holds it now.
    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } } == 0
    }
}
