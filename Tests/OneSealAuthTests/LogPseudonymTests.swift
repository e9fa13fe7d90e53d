import Crypto
import Foundation
import GRPCCore
import Logging
import OneSealWire
import Synchronization
import Testing

@testable import OneSealAuth

/// Issue #15 item 10: no caller's subject reaches a log line in clear.
@Suite("Subjects are pseudonymised in logs")
struct LogPseudonymTests {
    /// Keeps every line logged through it, rendered as a log backend would (message + metadata).
    final class Capture: Sendable {
        let lines = Mutex<[String]>([])

        struct Handler: LogHandler {
            let capture: Capture
            var metadata: Logger.Metadata = [:]
            var logLevel: Logger.Level = .trace
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { self.metadata[key] }
                set { self.metadata[key] = newValue }
            }
            func log(event: LogEvent) {
                let all = self.metadata.merging(event.metadata ?? [:]) { _, new in new }
                let rendered = "\(event.message) " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                self.capture.lines.withLock { $0.append(rendered) }
            }
        }

        var logger: Logger { Logger(label: "test") { _ in Handler(capture: self) } }
    }

    /// A resident ID number: none of its digit runs may appear in a log line.
    static let idNumber = "370102199003071234"

    /// Whether `line` contains any 6 consecutive characters of `subject` (a pseudonym of 12 hex
    /// digits could share a shorter run by chance; 6 would be a 1-in-10⁷ coincidence).
    static func leaks(_ subject: String, in line: String) -> Bool {
        let characters = Array(subject)
        return (0...(characters.count - 6)).contains { line.contains(String(characters[$0..<($0 + 6)])) }
    }

    @Test("the pseudonym is stable per key, differs across keys, and shows nothing of the subject")
    func pseudonym() {
        let key = SymmetricKey(size: .bits256)
        let first = LogPseudonym.of(Self.idNumber, key: key)
        #expect(first == LogPseudonym.of(Self.idNumber, key: key))
        #expect(first.hasPrefix("sub~") && first.count == 16)
        #expect(!Self.leaks(Self.idNumber, in: first))
        #expect(LogPseudonym.of("370102199003071235", key: key) != first)
        #expect(LogPseudonym.of(Self.idNumber, key: SymmetricKey(size: .bits256)) != first)
    }

    @Test("a refused call's log line names the caller by pseudonym, not by ID number")
    func refusedCallLogLine() async throws {
        let key = TokenSigningKey.generate(issuer: "371300")
        let capture = Capture()
        let method = MethodDescriptor(fullyQualifiedService: "oneseal.test.v1.Auth", method: "OfficersOnly")
        let policy = AccessPolicy([method.fullyQualifiedMethod: MethodRule(roles: [.officer])])
        let interceptor = AuthServerInterceptor(
            verifier: TokenVerifier(trusting: [TrustedTokenKey(key.publicKey, node: "371300")]), policy: policy, localNode: "371300",
            logger: capture.logger
        )
        let token = try key.mint(subject: Self.idNumber, role: .applicant, node: "371300")
        var metadata: Metadata = [:]
        metadata.addString("Bearer \(token)", forKey: "authorization")
        let request = StreamingServerRequest<String>(metadata: metadata, messages: RPCAsyncSequence<String, any Error>(wrapping: AsyncThrowingStream<String, any Error> { $0.finish() }))
        let context = ServerContext(descriptor: method, remotePeer: "ipv4:127.0.0.1:1", localPeer: "ipv4:127.0.0.1:2", cancellation: .init())
        let response: StreamingServerResponse<String> = try await interceptor.intercept(request: request, context: context) { _, _ in
            Issue.record("the handler must not run")
            return StreamingServerResponse(error: RPCError(code: .internalError, message: ""))
        }
        guard case .failure(let error) = response.accepted else {
            Issue.record("the call was not refused")
            return
        }
        #expect(error.code == .permissionDenied)
        let lines = capture.lines.withLock { $0 }
        #expect(lines.count == 1)
        for line in lines {
            // The exact value depends on the process-wide key, which a service started in this
            // test process may reconfigure; the shape and the absence of the ID are what matter.
            #expect(line.range(of: #"subject=sub~[0-9a-f]{12}( |$)"#, options: .regularExpression) != nil, "\(line)")
            #expect(!Self.leaks(Self.idNumber, in: line), "\(line)")
        }
    }

    @Test("no service logs a caller's subject in clear")
    func noClearSubjectsInServiceLogs() throws {
        // A source check beside the runtime one above: every `"by":`/`"subject":`/`"actor":` log
        // field in the services goes through LogPseudonym, so a new handler copying an old line
        // cannot bring the clear subject back.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var offenders: [String] = []
        for folder in ["Services", "Shared"] {
            let enumerator = FileManager.default.enumerator(at: root.appendingPathComponent(folder), includingPropertiesForKeys: nil)
            while let url = enumerator?.nextObject() as? URL {
                guard url.pathExtension == "swift", let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
                for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                where line.contains("metadata") || line.contains("\": \"\\(") {
                    if line.range(of: #"\\\([^)]*(caller\??|actor)\.subject"#, options: .regularExpression) != nil {
                        offenders.append("\(url.lastPathComponent):\(number + 1)")
                    }
                }
            }
        }
        #expect(offenders.isEmpty, "subjects logged in clear at \(offenders)")
    }
}
