// swift-tools-version:6.2
//
// OneSeal: one SwiftPM package holding the shared libraries (Shared/), the five service
// executables (Services/), the operator CLI and the benchmark driver (clients/), and the tests.
import PackageDescription

let swift6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

/// The five services of a node. Each is a library (rules, handlers, SQL, migrations) plus a thin
/// executable, so the library can be tested in-process and the executable stays a few lines.
let services: [(folder: String, library: String, executable: String)] = [
    ("Intake", "IntakeService", "oneseal-intake"),
    ("Approval", "ApprovalService", "oneseal-approval"),
    ("Certificate", "CertificateService", "oneseal-certificate"),
    ("Supervision", "SupervisionService", "oneseal-supervision"),
    ("Evaluation", "EvaluationService", "oneseal-evaluation"),
]

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
]
let log: Target.Dependency = .product(name: "Logging", package: "swift-log")
let grpcCore: Target.Dependency = .product(name: "GRPCCore", package: "grpc-swift-2")
let protobuf: Target.Dependency = .product(name: "SwiftProtobuf", package: "swift-protobuf")
let lifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let nioSSL: Target.Dependency = .product(name: "NIOSSL", package: "swift-nio-ssl")
let x509: Target.Dependency = .product(name: "X509", package: "swift-certificates")
/// Standard gRPC over HTTP/2 (issue #17 item 4): the second port of every service, and its benchmark.
let grpcHTTP2: Target.Dependency = .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport")

var targets: [Target] = [
    // MARK: Shared libraries
    .systemLibrary(
        name: "CLibPQ",
        path: "Shared/CLibPQ",
        pkgConfig: "libpq",
        providers: [.apt(["libpq-dev"])]
    ),
    .target(name: "OneSealCore", path: "Shared/OneSealCore", swiftSettings: swift6),
    .target(
        name: "OneSealProto",
        dependencies: [protobuf, grpcCore, .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf")],
        path: "Shared/OneSealProto",
        swiftSettings: swift6
    ),
    // TLS for OneSeal TCP (#17): the node CA, issuance, trust bundles, reloadable key material and
    // the service identity a certificate names (oneseal://<node>/<service>).
    .target(
        name: "OneSealTLS",
        dependencies: nio + [
            "OneSealCore", nioSSL, x509, grpcCore, log, .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ],
        path: "Shared/OneSealTLS",
        swiftSettings: swift6
    ),
    .target(
        name: "OneSealWire",
        dependencies: nio + [grpcCore, protobuf, log, "OneSealProto", "OneSealTLS", nioSSL, x509, .product(name: "Metrics", package: "swift-metrics")],
        path: "Shared/OneSealWire",
        swiftSettings: swift6
    ),
    .target(
        name: "OneSealStore",
        dependencies: nio + ["CLibPQ", "OneSealCore", log, lifecycle],
        path: "Shared/OneSealStore",
        swiftSettings: swift6
    ),
    .target(
        name: "OneSealAuth",
        dependencies: ["OneSealCore", grpcCore, log, "OneSealTLS", x509, .product(name: "Crypto", package: "swift-crypto")],
        path: "Shared/OneSealAuth",
        swiftSettings: swift6
    ),
    // Personal data at rest: sealing, blind indexes, masking (个人信息保护法).
    .target(
        name: "OneSealPrivacy",
        dependencies: ["OneSealCore", .product(name: "Crypto", package: "swift-crypto"), .product(name: "_CryptoExtras", package: "swift-crypto")],
        path: "Shared/OneSealPrivacy",
        swiftSettings: swift6
    ),
    // W3C trace context carried through calls, events and log lines.
    .target(name: "OneSealTrace", dependencies: [log], path: "Shared/OneSealTrace", swiftSettings: swift6),
    .target(
        name: "OneSealOutbox",
        dependencies: nio + ["OneSealCore", "OneSealStore", "OneSealTrace", log, lifecycle],
        path: "Shared/OneSealOutbox",
        swiftSettings: swift6
    ),
    // Test-only helpers (a fresh database per test on the throwaway cluster scripts/test starts).
    .target(
        name: "OneSealTestSupport",
        dependencies: ["OneSealStore", log],
        path: "Shared/OneSealTestSupport",
        swiftSettings: swift6
    ),
    .target(
        name: "OneSealServiceKit",
        dependencies: nio + [
            "OneSealCore", "OneSealProto", "OneSealWire", "OneSealStore", "OneSealAuth", "OneSealOutbox", "OneSealTrace",
            "OneSealPrivacy", "OneSealTLS", nioSSL, grpcCore, protobuf, log, lifecycle,
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            grpcHTTP2,
        ],
        path: "Shared/OneSealServiceKit",
        swiftSettings: swift6
    ),

    // MARK: Clients: the operator/integrator CLI and the benchmark driver
    .executableTarget(
        name: "oneseal",
        dependencies: [
            "OneSealCore", "OneSealProto", "OneSealWire", "OneSealAuth", "OneSealServiceKit", "OneSealPrivacy", "OneSealStore", "OneSealOutbox",
            "OneSealTLS", x509,
            // #19: `oneseal staff` works on the web front's database with the front's own code.
            "WebRules", "WebService",
            grpcCore, log, protobuf, .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Crypto", package: "swift-crypto"),
        ] + services.map { .target(name: "\($0.folder)Contracts") } + services.map { .target(name: "\($0.folder)Rules") },
        path: "clients/oneseal",
        swiftSettings: swift6
    ),
    // #8: the full life cycle on a local two-node cluster, cases/s beside pgbench on the same server.
    .executableTarget(
        name: "oneseal-bench",
        dependencies: [
            "OneSealLocalCluster", "OneSealBenchSupport", "OneSealProto", log,
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Histogram", package: "hdrhistogram-swift"),
        ],
        path: "clients/bench-lifecycle",
        swiftSettings: swift6
    ),
    // A city and its counties as real processes on this machine, and the hall's work as RPC steps:
    // used by the end-to-end tests and the lifecycle benchmark (#8).
    .target(
        name: "OneSealLocalCluster",
        dependencies: [
            "OneSealAuth", "OneSealPrivacy", "OneSealStore", "OneSealProto", "OneSealWire", "CertificateRules", "IntakeRules", "IntakeService",
            "OneSealTLS", grpcCore, log, protobuf, .product(name: "Crypto", package: "swift-crypto"),
        ] + nio,
        path: "clients/local-cluster",
        swiftSettings: swift6
    ),
    .executableTarget(
        name: "oneseal-bench-wire",
        dependencies: nio + [
            "OneSealWire", "OneSealTLS", grpcCore, log, grpcHTTP2,
            .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Histogram", package: "hdrhistogram-swift"),
        ],
        path: "clients/bench-wire",
        swiftSettings: swift6
    ),
    // #18: oneseal-web's verification page and progress look-up per second beside the same look-ups over OneSeal TCP.
    .executableTarget(
        name: "oneseal-bench-web",
        dependencies: [
            "OneSealLocalCluster", "OneSealBenchSupport", "OneSealProto", grpcCore,
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ],
        path: "clients/bench-web",
        swiftSettings: swift6
    ),
    // certificate (#5): licences issued and verified per second beside raw Ed25519.
    .executableTarget(
        name: "oneseal-bench-certificate",
        dependencies: [
            "CertificateService", "CertificateRules", "OneSealCore", "OneSealServiceKit", "OneSealStore", "OneSealTestSupport",
            "OneSealProto", "OneSealWire", "OneSealAuth", "OneSealPrivacy", grpcCore, log,
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ],
        path: "clients/bench-certificate",
        swiftSettings: swift6
    ),
    // #19/#21: the director's board's figures over a made-up read model, without database or network.
    .executableTarget(
        name: "oneseal-bench-figures",
        dependencies: [
            "EvaluationRules", "OneSealCore", "OneSealBenchSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ],
        path: "clients/bench-figures",
        swiftSettings: swift6
    ),
    // pgbench beside our figures, shared by the store and lifecycle benchmarks.
    .target(name: "OneSealBenchSupport", path: "clients/bench-support", swiftSettings: swift6),
    .executableTarget(
        name: "oneseal-bench-store",
        dependencies: [
            "OneSealStore", "OneSealBenchSupport", log,
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Histogram", package: "hdrhistogram-swift"),
        ],
        path: "clients/bench-store",
        swiftSettings: swift6
    ),

    // MARK: Tests (Swift Testing)
    .testTarget(name: "OneSealCoreTests", dependencies: ["OneSealCore"], path: "Tests/OneSealCoreTests", swiftSettings: swift6),
    .testTarget(
        name: "OneSealWireTests",
        dependencies: nio + [
            "OneSealWire", "OneSealProto", grpcCore, protobuf, log,
            .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
            .product(name: "MetricsTestKit", package: "swift-metrics"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ],
        path: "Tests/OneSealWireTests",
        swiftSettings: swift6
    ),
    .testTarget(name: "OneSealStoreTests", dependencies: ["OneSealStore", "OneSealTestSupport", log], path: "Tests/OneSealStoreTests", swiftSettings: swift6),
    .testTarget(name: "OneSealTraceTests", dependencies: ["OneSealTrace", log], path: "Tests/OneSealTraceTests", swiftSettings: swift6),
    .testTarget(name: "OneSealPrivacyTests", dependencies: ["OneSealPrivacy"], path: "Tests/OneSealPrivacyTests", swiftSettings: swift6),
    .testTarget(name: "OneSealAuthTests", dependencies: ["OneSealAuth", "OneSealCore", "OneSealWire", "OneSealTLS", x509, grpcCore, log], path: "Tests/OneSealAuthTests", swiftSettings: swift6),
    .testTarget(
        name: "OneSealTLSTests",
        dependencies: nio + ["OneSealTLS", "OneSealWire", "OneSealAuth", "OneSealProto", x509, nioSSL, grpcCore, protobuf, log, .product(name: "Crypto", package: "swift-crypto")],
        path: "Tests/OneSealTLSTests",
        swiftSettings: swift6
    ),
    .testTarget(
        name: "OneSealOutboxTests",
        dependencies: ["OneSealOutbox", "OneSealStore", "OneSealTestSupport", log],
        path: "Tests/OneSealOutboxTests",
        swiftSettings: swift6
    ),
    // Both nodes' ten executables as real processes on a throwaway PostgreSQL (#8).
    .testTarget(
        name: "EndToEndTests",
        dependencies: ["OneSealLocalCluster", "OneSealBenchSupport", "OneSealTestSupport", "OneSealProto", "OneSealAuth", "OneSealStore", "OneSealTLS", "OneSealWire", "OneSealCore", grpcCore, protobuf],
        path: "Tests/EndToEndTests",
        swiftSettings: swift6
    ),
    .testTarget(
        name: "ServiceTests",
        dependencies: ["OneSealServiceKit", "OneSealProto", "OneSealWire", "OneSealAuth", "OneSealStore", "OneSealOutbox", "OneSealTestSupport", "OneSealPrivacy", "OneSealCore", "OneSealTrace", "OneSealLocalCluster", "OneSealTLS", grpcCore, protobuf,
            .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf")]
            + services.map { .target(name: $0.library) } + services.map { .target(name: "\($0.folder)Rules") }
            + services.map { .target(name: "\($0.folder)Contracts") }
            + [lifecycle, .product(name: "Prometheus", package: "swift-prometheus"), grpcHTTP2, .product(name: "Crypto", package: "swift-crypto")],
        path: "Tests/ServiceTests",
        swiftSettings: swift6
    ),
]

// Pure domain rules of each service (state machines, checks, calendars of its own), tested without
// a database: Services/<Folder>/<Folder>Rules and Tests/<Folder>RulesTests.
for service in services {
    targets += [
        .target(name: "\(service.folder)Rules", dependencies: ["OneSealCore", .product(name: "Crypto", package: "swift-crypto")], path: "Services/\(service.folder)/\(service.folder)Rules", swiftSettings: swift6),
        .testTarget(name: "\(service.folder)RulesTests", dependencies: [.target(name: "\(service.folder)Rules"), "OneSealCore"], path: "Tests/\(service.folder)RulesTests", swiftSettings: swift6),
    ]
}

/// What a service library needs beyond the common set (system libraries, extra packages).
/// One line per service; each service's owner edits only its own line.
let extraServiceDependencies: [String: [Target.Dependency]] = [
    "ApprovalService": [.product(name: "Metrics", package: "swift-metrics")],
    "IntakeService": [.product(name: "Metrics", package: "swift-metrics")],
    "CertificateService": ["CCairo", "CQREncode"],
    "SupervisionService": [.product(name: "Metrics", package: "swift-metrics")],
    "EvaluationService": [],
]
/// System libraries (pkg-config) a service links, e.g. cairo for the certificate PDF. Edit your own entries.
targets += [
    // certificate (#5): the printable licence (cairo, with a CJK font through fontconfig) and its QR code.
    .systemLibrary(name: "CCairo", path: "Services/Certificate/CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),
    .systemLibrary(name: "CQREncode", path: "Services/Certificate/CQREncode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),
]

for service in services {
    // The service's domain values in their contract (proto) form, and its verifiers' inputs: what
    // clients (the CLI) need without linking the server library (issue #16 item 4).
    targets.append(
        .target(
            name: "\(service.folder)Contracts",
            dependencies: [.target(name: "\(service.folder)Rules"), "OneSealCore", "OneSealProto", "OneSealServiceKit", protobuf],
            path: "Services/\(service.folder)/\(service.folder)Contracts",
            swiftSettings: swift6
        )
    )
    targets.append(
        .target(
            name: service.library,
            dependencies: [
                "OneSealCore", "OneSealProto", "OneSealStore", "OneSealAuth", "OneSealOutbox", "OneSealServiceKit", "OneSealPrivacy",
                grpcCore, protobuf, log, lifecycle, "OneSealWire", .product(name: "Crypto", package: "swift-crypto"),
                .target(name: "\(service.folder)Rules"), .target(name: "\(service.folder)Contracts"),
            ] + (extraServiceDependencies[service.library] ?? []),
            path: "Services/\(service.folder)/\(service.library)",
            resources: [.copy("Migrations")],
            swiftSettings: swift6
        )
    )
    targets.append(
        .executableTarget(
            name: service.executable,
            dependencies: [.target(name: service.library), "OneSealServiceKit"],
            path: "Services/\(service.folder)/Main",
            swiftSettings: swift6
        )
    )
}

// #18: the node's public web front (oneseal-web): HTML for browsers, calling the services over
// OneSeal TCP as any client does. Its own database holds applicant accounts and sessions only;
// it owns no business rules.
targets += [
    .target(name: "WebRules", dependencies: ["OneSealCore", "OneSealPrivacy", "CertificateRules", .product(name: "Crypto", package: "swift-crypto")], path: "Services/Web/WebRules", swiftSettings: swift6),
    .target(
        name: "WebService",
        dependencies: nio + [
            "WebRules", "CertificateRules", "EvaluationRules", "IntakeRules", "IntakeContracts", "OneSealCore", "OneSealProto", "OneSealWire", "OneSealServiceKit", "OneSealTrace", "OneSealTLS",
            "OneSealStore", "OneSealPrivacy", "OneSealAuth", .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            grpcCore, protobuf, log, lifecycle, .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"), nioSSL, .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ],
        path: "Services/Web/WebService",
        swiftSettings: swift6
    ),
    .executableTarget(name: "oneseal-web", dependencies: ["WebService", "OneSealServiceKit", "OneSealTLS", lifecycle, log], path: "Services/Web/Main", swiftSettings: swift6),
    .testTarget(name: "WebRulesTests", dependencies: ["WebRules", "CertificateRules", "OneSealCore"], path: "Tests/WebRulesTests", swiftSettings: swift6),
    // The web front in-process on port 0, its services absent or faked: pages, limits, error pages.
    .testTarget(name: "WebServiceTests", dependencies: ["WebService", "WebRules", "OneSealProto", "OneSealTLS", "OneSealTestSupport", "OneSealStore", "OneSealPrivacy", "OneSealAuth", lifecycle, log], path: "Tests/WebServiceTests", swiftSettings: swift6),
]

let package = Package(
    name: "OneSeal",
    platforms: [.macOS(.v15)],
    products: services.map { .executable(name: $0.executable, targets: [$0.executable]) } + [
        .executable(name: "oneseal", targets: ["oneseal"]),
        .executable(name: "oneseal-bench-wire", targets: ["oneseal-bench-wire"]),
        .executable(name: "oneseal-bench-store", targets: ["oneseal-bench-store"]),
        .executable(name: "oneseal-bench-certificate", targets: ["oneseal-bench-certificate"]),
        .executable(name: "oneseal-bench", targets: ["oneseal-bench"]),
        .executable(name: "oneseal-web", targets: ["oneseal-web"]),
        .executable(name: "oneseal-bench-web", targets: ["oneseal-bench-web"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        // oneseal-web (#18); no traits: swift-configuration is not needed (configuration is by environment).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        // oneseal-web applicant accounts (#18): bcrypt password hashes (HummingbirdBcrypt), never a hand-rolled hash.
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
    ],
    targets: targets
)
