import Foundation
import OneSealServiceKit
import Testing
@testable import WebService

/// The accounts' configuration: all three of its files or none, named when one is missing (a
/// front that stores personal data must never start without its own key and database).
@Suite struct WebConfigurationTests {
    static let base = [
        "ONESEAL_NODE": "371302", "ONESEAL_INSECURE_LOOPBACK": "1",
        "ONESEAL_PEERS": "intake@371302=127.0.0.1:7201,certificate@371302=127.0.0.1:7203",
    ]

    static func problem(_ extra: [String: String]) -> String? {
        do {
            _ = try WebConfiguration.fromEnvironment(base.merging(extra) { $1 })
            return nil
        } catch let error as NodeConfiguration.Invalid {
            return error.variable
        } catch {
            return "\(error)"
        }
    }

    @Test func withoutTheApplicantKeyThereAreNoAccounts() throws {
        let configuration = try WebConfiguration.fromEnvironment(Self.base)
        #expect(configuration.accounts == nil)
        #expect(configuration.evaluation == nil)
        #expect(configuration.trustedProxies.isEmpty)
        #expect(!configuration.cookiesSecure)
    }

    @Test func accountsNeedTheFrontsOwnDatabaseAndDataKey() throws {
        #expect(Self.problem(["ONESEAL_WEB_APPLICANT_KEY_FILE": "/k"]) == "ONESEAL_DATABASE_URL")
        #expect(Self.problem(["ONESEAL_WEB_APPLICANT_KEY_FILE": "/k", "ONESEAL_DATABASE_URL": "dbname=oneseal_web_371302"]) == "ONESEAL_DATA_KEY_FILE")
        let configuration = try WebConfiguration.fromEnvironment(Self.base.merging([
            "ONESEAL_WEB_APPLICANT_KEY_FILE": "/k", "ONESEAL_DATABASE_URL": "dbname=oneseal_web_371302", "ONESEAL_DATA_KEY_FILE": "/d",
            "ONESEAL_PUBLIC_URL": "https://zwfw.lanshan.gov.cn",
            "ONESEAL_PEERS": Self.base["ONESEAL_PEERS"]! + ",evaluation@371302=127.0.0.1:7205",
        ]) { $1 })
        let accounts = try #require(configuration.accounts)
        #expect(accounts.databaseConninfo == "dbname=oneseal_web_371302")
        #expect(accounts.dataKeyFile == "/d" && accounts.applicantKeyFile == "/k")
        #expect(configuration.evaluation?.port == 7205)
        #expect(configuration.cookiesSecure, "an https public URL makes the cookies Secure")
    }

    @Test func theStaffKeyNeedsTheAccountsDatabase() throws {
        #expect(Self.problem(["ONESEAL_WEB_STAFF_KEY_FILE": "/s"]) == "ONESEAL_WEB_STAFF_KEY_FILE")
        let configuration = try WebConfiguration.fromEnvironment(Self.base.merging([
            "ONESEAL_WEB_APPLICANT_KEY_FILE": "/k", "ONESEAL_DATABASE_URL": "dbname=oneseal_web_371302", "ONESEAL_DATA_KEY_FILE": "/d",
            "ONESEAL_WEB_STAFF_KEY_FILE": "/s",
        ]) { $1 })
        #expect(configuration.accounts?.staffKeyFile == "/s")
        #expect(try WebConfiguration.fromEnvironment(Self.base.merging([
            "ONESEAL_WEB_APPLICANT_KEY_FILE": "/k", "ONESEAL_DATABASE_URL": "dbname=oneseal_web_371302", "ONESEAL_DATA_KEY_FILE": "/d",
        ]) { $1 }).accounts?.staffKeyFile == nil)
    }

    @Test func trustedProxiesAreAddresses() throws {
        #expect(Self.problem(["ONESEAL_WEB_TRUSTED_PROXIES": "10.0.0.1, proxy.lan"]) == "ONESEAL_WEB_TRUSTED_PROXIES")
        let configuration = try WebConfiguration.fromEnvironment(Self.base.merging(["ONESEAL_WEB_TRUSTED_PROXIES": "10.0.0.1, ::1"]) { $1 })
        #expect(configuration.trustedProxies == ["10.0.0.1", "::1"])
    }
}
