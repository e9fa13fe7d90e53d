import Foundation
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
        let configuration = try NodeConfiguration.fromEnvironment(service: "intake", environment: [
            "ONESEAL_NODE": "371302", "ONESEAL_DATABASE_URL": "host=db dbname=oneseal_intake_371302 user=oneseal_intake",
            "ONESEAL_DATABASE_PASSWORD_FILE": file,
        ])
        #expect(configuration.databaseConninfo == #"host=db dbname=oneseal_intake_371302 user=oneseal_intake password='s3cr\'et\\x'"#)
    }

    @Test("an unreadable or empty password file, or a URI with a password file, stops the start naming the variable")
    func passwordFileErrors() throws {
        #expect { try NodeConfiguration.fromEnvironment(service: "intake", environment: ["ONESEAL_DATABASE_PASSWORD_FILE": "/nonexistent/pw"]) } throws: {
            ($0 as? NodeConfiguration.Invalid)?.variable == "ONESEAL_DATABASE_PASSWORD_FILE"
        }
        let empty = try Self.passwordFile("\n")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect { try NodeConfiguration.fromEnvironment(service: "intake", environment: ["ONESEAL_DATABASE_PASSWORD_FILE": empty]) } throws: {
            ($0 as? NodeConfiguration.Invalid)?.reason.contains("empty") == true
        }
        let file = try Self.passwordFile("pw")
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect { try NodeConfiguration.fromEnvironment(service: "intake", environment: [
            "ONESEAL_DATABASE_URL": "postgresql://db/oneseal", "ONESEAL_DATABASE_PASSWORD_FILE": file,
        ]) } throws: {
            ($0 as? NodeConfiguration.Invalid)?.variable == "ONESEAL_DATABASE_URL"
        }
    }
}
