import Foundation
import OneSealAuth
import OneSealCore
import OneSealServiceKit
import Testing

@Suite("Node configuration")
struct NodeConfigurationTests {
    static func passwordFile(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-pw-\(UUID().uuidString)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("a database password file is quoted into the conninfo, whatever it contains")
    func passwordFile() throws {
        let file = try Self.passwordFile("s3cr'et\\x\n")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let configuration = try NodeConfiguration.fromEnvironment(service: "intake", environment: ["ONESEAL_INSECURE_LOOPBACK": "1",
            "ONESEAL_NODE": "371302", "ONESEAL_DATABASE_URL": "host=db dbname=oneseal_intake_371302 user=oneseal_intake",
            "ONESEAL_DATABASE_PASSWORD_FILE": file,
        ])
        #expect(configuration.databaseConninfo == #"host=db dbname=oneseal_intake_371302 user=oneseal_intake password='s3cr\'et\\x'"#)
    }

    @Test("an unreadable or empty password file, or a URI with a password file, stops the start naming the variable")
    func passwordFileErrors() throws {
        #expect { try NodeConfiguration.fromEnvironment(service: "intake", environment: ["ONESEAL_INSECURE_LOOPBACK": "1", "ONESEAL_DATABASE_PASSWORD_FILE": "/nonexistent/pw"]) } throws: {
            ($0 as? NodeConfiguration.Invalid)?.variable == "ONESEAL_DATABASE_PASSWORD_FILE"
        }
        let empty = try Self.passwordFile("\n")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect { try NodeConfiguration.fromEnvironment(service: "intake", environment: ["ONESEAL_INSECURE_LOOPBACK": "1", "ONESEAL_DATABASE_PASSWORD_FILE": empty]) } throws: {
            ($0 as? NodeConfiguration.Invalid)?.reason.contains("empty") == true
        }
        let file = try Self.passwordFile("pw")
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect { try NodeConfiguration.fromEnvironment(service: "intake", environment: ["ONESEAL_INSECURE_LOOPBACK": "1",
            "ONESEAL_DATABASE_URL": "postgresql://db/oneseal", "ONESEAL_DATABASE_PASSWORD_FILE": file,
        ]) } throws: {
            ($0 as? NodeConfiguration.Invalid)?.variable == "ONESEAL_DATABASE_URL"
        }
    }

    @Test("ONESEAL_NODE_NAME / ONESEAL_NODE_USCC name the hall: the code as typed is normalised and must pass GB 32100; a bad one stops the start naming the variable")
    func hallIdentity() throws {
        func load(_ extra: [String: String]) throws -> NodeConfiguration {
            try NodeConfiguration.fromEnvironment(service: "certificate", environment: ["ONESEAL_INSECURE_LOOPBACK": "1", "ONESEAL_NODE": "371302"].merging(extra) { $1 })
        }
        let named = try load(["ONESEAL_NODE_NAME": "临沂市兰山区行政审批服务局", "ONESEAL_NODE_USCC": "11371302mb2850286q"])
        #expect(named.nodeName == "临沂市兰山区行政审批服务局" && named.nodeUSCC == "11371302MB2850286Q")
        #expect(try load([:]).nodeUSCC == nil)
        #expect { try load(["ONESEAL_NODE_USCC": "11371302MB2850286R"]) } throws: {
            ($0 as? NodeConfiguration.Invalid)?.variable == "ONESEAL_NODE_USCC"
        }
        #expect { try load(["ONESEAL_NODE_NAME": String(repeating: "局", count: 101)]) } throws: {
            ($0 as? NodeConfiguration.Invalid)?.variable == "ONESEAL_NODE_NAME"
        }
    }

    @Test("ONESEAL_CALENDAR_FILE adds next year's notice to the built-in years; a bad line stops the start naming file and line")
    func calendarFile() throws {
        let file = try Self.passwordFile("# 2027 notice\n2027 off 2027-01-01..2027-01-03\n2027 workday 2027-02-07\n")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let configuration = try NodeConfiguration.fromEnvironment(service: "approval", environment: ["ONESEAL_INSECURE_LOOPBACK": "1", "ONESEAL_CALENDAR_FILE": file])
        let newYear = try CivilDate(parsing: "2027-01-04")
        #expect(try configuration.calendar.isWorkingDay(newYear))
        #expect(try !configuration.calendar.isWorkingDay(try CivilDate(parsing: "2027-01-01")))
        #expect(try configuration.calendar.isWorkingDay(try CivilDate(parsing: "2027-02-07")))  // a Sunday worked
        #expect(try configuration.calendar.isWorkingDay(try CivilDate(parsing: "2026-10-10")))  // built-in 2026 make-up Saturday kept
        #expect(throws: CalendarError.self) { try NodeConfiguration.fromEnvironment(service: "approval", environment: ["ONESEAL_INSECURE_LOOPBACK": "1"]).calendar.isWorkingDay(newYear) }

        let bad = try Self.passwordFile("2027 workday 2027-02-09\n")
        defer { try? FileManager.default.removeItem(atPath: bad) }
        #expect { try NodeConfiguration.fromEnvironment(service: "approval", environment: ["ONESEAL_INSECURE_LOOPBACK": "1", "ONESEAL_CALENDAR_FILE": bad]) } throws: {
            let invalid = $0 as? NodeConfiguration.Invalid
            return invalid?.variable == "ONESEAL_CALENDAR_FILE" && invalid!.reason.contains("2027-02-09")
        }
    }

    @Test("trusted token keys are NODE=KEY or NODE:role+role=KEY; a bare key or bad entry stops the start naming the variable")
    func trustedTokenKeys() throws {
        let city = TokenSigningKey.generate(issuer: "371300").publicKey.rawRepresentation.base64EncodedString()
        let county = TokenSigningKey.generate(issuer: "371302").publicKey.rawRepresentation.base64EncodedString()
        let file = try Self.passwordFile("# trusted\n371302:node+operator=\(county)\n\n")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let configuration = try NodeConfiguration.fromEnvironment(service: "intake", environment: ["ONESEAL_INSECURE_LOOPBACK": "1",
            "ONESEAL_TOKEN_PUBLIC_KEYS": "371300=\(city), 371302=\(county)", "ONESEAL_TOKEN_PUBLIC_KEYS_FILE": file,
        ])
        #expect(configuration.trustedTokenKeys.map(\.node) == ["371300", "371302", "371302"])
        #expect(configuration.trustedTokenKeys.map(\.roles) == [nil, nil, [.peerNode, .operator]])

        for bad in [city, "37130=\(city)", "371300:root=\(city)", "371300=AAAA"] {
            #expect("\(bad.prefix(16))") { try NodeConfiguration.fromEnvironment(service: "intake", environment: ["ONESEAL_INSECURE_LOOPBACK": "1", "ONESEAL_TOKEN_PUBLIC_KEYS": bad]) } throws: {
                ($0 as? NodeConfiguration.Invalid)?.variable == "ONESEAL_TOKEN_PUBLIC_KEYS"
            }
        }
        let bare = try Self.passwordFile("\(city)\n")
        defer { try? FileManager.default.removeItem(atPath: bare) }
        #expect { try NodeConfiguration.fromEnvironment(service: "intake", environment: ["ONESEAL_INSECURE_LOOPBACK": "1", "ONESEAL_TOKEN_PUBLIC_KEYS_FILE": bare]) } throws: {
            let invalid = $0 as? NodeConfiguration.Invalid
            return invalid?.variable == "ONESEAL_TOKEN_PUBLIC_KEYS_FILE" && invalid!.reason.contains("NODE=KEY")
        }
    }

    @Test("ONESEAL_OUTBOX_EVALUATION_PACE_MS paces the evaluation feed (default 250 ms, 0 = none); out of 0–10000 it stops the start naming the variable")
    func evaluationPace() throws {
        let base = ["ONESEAL_INSECURE_LOOPBACK": "1"]
        #expect(try NodeConfiguration.fromEnvironment(service: "intake", environment: base).outboxEvaluationPace == .milliseconds(250))
        #expect(try NodeConfiguration.fromEnvironment(service: "intake", environment: base.merging(["ONESEAL_OUTBOX_EVALUATION_PACE_MS": "0"]) { $1 }).outboxEvaluationPace == .zero)
        #expect(try NodeConfiguration.fromEnvironment(service: "intake", environment: base.merging(["ONESEAL_OUTBOX_EVALUATION_PACE_MS": "1000"]) { $1 }).outboxEvaluationPace == .seconds(1))
        for bad in ["-1", "10001", "quarter second"] {
            #expect("\(bad)") { try NodeConfiguration.fromEnvironment(service: "intake", environment: base.merging(["ONESEAL_OUTBOX_EVALUATION_PACE_MS": bad]) { $1 }) } throws: {
                ($0 as? NodeConfiguration.Invalid)?.variable == "ONESEAL_OUTBOX_EVALUATION_PACE_MS"
            }
        }
    }
}
