import Foundation
import OneSealTLS
import Testing

@testable import OneSealServiceKit

/// Issue #17 items 1 and 7 in the configuration: TLS is on unless plain TCP is asked for on a
/// loopback address; metrics stay off the wildcard address and can require a token.
@Suite("TLS and metrics configuration")
struct TLSConfigurationTests {
    static let files = [
        "ONESEAL_TLS_CERT_FILE": "/certs/intake-371300.pem", "ONESEAL_TLS_KEY_FILE": "/certs/intake-371300.key",
        "ONESEAL_TLS_TRUST_FILE": "/certs/trust.pem",
    ]

    @Test("without TLS files or an explicit insecure loopback, a service does not start")
    func tlsByDefault() throws {
        #expect { try NodeConfiguration.fromEnvironment(service: "intake", environment: [:]) } throws: {
            let invalid = $0 as? NodeConfiguration.Invalid
            return invalid?.variable.contains("ONESEAL_TLS_CERT_FILE") == true && invalid!.reason.contains("ONESEAL_INSECURE_LOOPBACK=1")
        }
        #expect { try NodeConfiguration.fromEnvironment(service: "intake", environment: ["ONESEAL_TLS_CERT_FILE": "/a.pem"]) } throws: {
            ($0 as? NodeConfiguration.Invalid)?.variable == "ONESEAL_TLS_KEY_FILE, ONESEAL_TLS_TRUST_FILE"
        }
        let configuration = try NodeConfiguration.fromEnvironment(service: "intake", environment: Self.files)
        #expect(configuration.tls == .files(TLSFiles(certificateFile: "/certs/intake-371300.pem", keyFile: "/certs/intake-371300.key", trustFile: "/certs/trust.pem")))
    }

    @Test("plain TCP only when asked for, and only on a loopback address")
    func insecureLoopback() throws {
        #expect(try NodeConfiguration.fromEnvironment(service: "intake", environment: ["ONESEAL_INSECURE_LOOPBACK": "1"]).tls == .insecureLoopback)
        #expect(try NodeConfiguration.fromEnvironment(service: "intake", environment: [:], arguments: ["oneseal-intake", "--insecure-loopback"]).tls == .insecureLoopback)
        #expect(try NodeConfiguration.fromEnvironment(service: "intake", environment: ["ONESEAL_INSECURE_LOOPBACK": "1", "ONESEAL_LISTEN_HOST": "127.0.0.2"]).tls == .insecureLoopback)
        for host in ["0.0.0.0", "10.1.2.3", "::", "city-intake"] {
            #expect("\(host)") { try NodeConfiguration.fromEnvironment(service: "intake", environment: ["ONESEAL_INSECURE_LOOPBACK": "1", "ONESEAL_LISTEN_HOST": host]) } throws: {
                ($0 as? NodeConfiguration.Invalid)?.variable == "ONESEAL_INSECURE_LOOPBACK"
            }
        }
        #expect(throws: NodeConfiguration.Invalid.self) {
            try NodeConfiguration.fromEnvironment(service: "intake", environment: Self.files.merging(["ONESEAL_INSECURE_LOOPBACK": "1"]) { a, _ in a })
        }
    }

    @Test("metrics listen on the RPC address, never on every interface unless told; the token file must be readable")
    func metrics() throws {
        func host(_ environment: [String: String]) throws -> String {
            try NodeConfiguration.fromEnvironment(service: "intake", environment: Self.files.merging(environment) { a, _ in a }).metricsHost
        }
        #expect(try host([:]) == "127.0.0.1")
        #expect(try host(["ONESEAL_LISTEN_HOST": "0.0.0.0"]) == "127.0.0.1")
        #expect(try host(["ONESEAL_LISTEN_HOST": "10.20.0.5"]) == "10.20.0.5")
        #expect(try host(["ONESEAL_LISTEN_HOST": "0.0.0.0", "ONESEAL_METRICS_HOST": "10.20.0.5"]) == "10.20.0.5")
        #expect(throws: NodeConfiguration.Invalid.self) { try host(["ONESEAL_METRICS_TOKEN_FILE": "/nonexistent/token"]) }
    }

    @Test("the metrics token: required when set, compared whole")
    func metricsToken() {
        #expect(MetricsHTTPHandler.authorized(nil, token: nil))
        #expect(MetricsHTTPHandler.authorized("Bearer s3cret", token: "s3cret"))
        #expect(MetricsHTTPHandler.authorized("bearer s3cret", token: "s3cret"))
        #expect(!MetricsHTTPHandler.authorized(nil, token: "s3cret"))
        #expect(!MetricsHTTPHandler.authorized("Bearer s3cre", token: "s3cret"))
        #expect(!MetricsHTTPHandler.authorized("Bearer s3cretX", token: "s3cret"))
        #expect(!MetricsHTTPHandler.authorized("Basic s3cret", token: "s3cret"))
    }
}
