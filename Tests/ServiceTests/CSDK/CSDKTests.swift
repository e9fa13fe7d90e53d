import Foundation
import OneSealTestSupport
import OneSealAuth
import Testing

/// The C SDK (clients/c) built with `make` and run as a real process against a real intake
/// service: the proof that OneSeal TCP can be spoken from PROTOCOL.md alone with protobuf-c.
@Suite("C SDK")
struct CSDKTests {
    static let sdk = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("clients/c")

    static func run(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await runProgram(executable, arguments)
    }

    /// `make` runs once for the suite, so two tests never build into the same directory at once.
    static let made = Task { () -> (status: Int32, output: String) in
        do { return try await run("/usr/bin/env", ["make", "-C", sdk.path, "-j2"]) } catch { return (-1, "\(error)") }
    }

    static func build() async throws {
        let made = await made.value
        #expect(made.status == 0, "make failed:\n\(made.output)")
        if made.status != 0 { throw CancellationError() }
    }

    @Test("frame cutting and decoding byte by byte (tests/frame_test.c)")
    func frameTest() async throws {
        try await Self.build()
        let test = try await Self.run(Self.sdk.appendingPathComponent("build/frame_test").path, [])
        #expect(test.status == 0, "\(test.output)")
        #expect(test.output.contains("frame_test: all checks passed"))
    }

    @Test("the example submits idempotently and reads the named fields of a refusal from a live intake service")
    func exampleAgainstIntake() async throws {
        try await Self.build()
        try await withIntakeNode(node: "371302", today: IntakeServiceTests.monday) { node in
            try await node.publishSampleCatalogue()
            let token = try node.key.mint(subject: "county-portal", role: .integrator, node: node.node)
            let example = try await Self.run(Self.sdk.appendingPathComponent("build/submit_and_verify").path, [
                "--intake", "127.0.0.1:\(node.port)", "--item", IntakeServiceTests.food, "--token", token,
            ])
            #expect(example.status == 0, "\(example.output)")
            #expect(example.output.contains("health: intake@371302 SERVING"), "\(example.output)")
            #expect(example.output.contains("idempotent: the retry answered with the same application"), "\(example.output)")
            #expect(example.output.contains("bad USCC: INVALID_ARGUMENT"), "\(example.output)")
            #expect(example.output.contains("field applicant.id_number:"), "\(example.output)")
            // Exactly one application came of the two submits (and none of the refused one).
            let count = try await node.database.query("SELECT count(*) AS n FROM applications").one().decode("n", as: Int.self)
            #expect(count == 1)

            // A token the node does not trust: UNAUTHENTICATED, reported by status name.
            let stranger = try TokenSigningKey.generate(issuer: "elsewhere").mint(subject: "x", role: .integrator, node: node.node)
            let refused = try await Self.run(Self.sdk.appendingPathComponent("build/submit_and_verify").path, [
                "--intake", "127.0.0.1:\(node.port)", "--item", IntakeServiceTests.food, "--token", stranger,
            ])
            #expect(refused.status == 1)
            #expect(refused.output.contains("UNAUTHENTICATED"), "\(refused.output)")
        }
    }
}
