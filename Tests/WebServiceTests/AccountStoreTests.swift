import Foundation
import OneSealCore
import OneSealPrivacy
import OneSealStore
import OneSealTestSupport
import Testing
import WebRules
@testable import WebService

/// The front's own database on a real PostgreSQL: what is stored (sealed, indexed, hashed), sign-in,
/// and sessions that end. Cost 4 keeps bcrypt quick here; the front uses 12.
@Suite struct AccountStoreTests {
    static func registration(_ code: String = "37130219900101123", password: String = "correct horse battery") throws -> Registration {
        let id = code + String(ResidentID.checkCharacter(forFirst17: code)!)
        return try Registration.validate(
            ["kind": "person", "name": "张三", "identity_code": id.lowercased(), "phone": "13800001234", "password": password, "password_confirm": password],
            today: CivilDate(year: 2026, month: 12, day: 4)!).get()
    }

    static func withStore(_ body: (AccountStore, PostgresClient) async throws -> Void) async throws {
        try await withTestDatabase(prefix: "web") { client in
            try await Migrator.apply(AccountStore.migrations, on: client)
            let keyring = try DataKeyring(text: DataKeyring.generateKeyText())
            try await body(AccountStore(database: client, keyring: keyring, cost: 4), client)
        }
    }

    @Test func anAccountIsStoredSealedIndexedAndHashed() async throws {
        try await Self.withStore { store, client in
            let registration = try Self.registration()
            guard case .created(let account) = try await store.register(registration) else { Issue.record("not created"); return }
            #expect(account.person.identityCode == registration.identityCode)
            let row = try await client.query("SELECT identity_index, sealed, password_hash FROM web_accounts").one()
            let sealed: [UInt8] = try row.decode("sealed"), index: [UInt8] = try row.decode("identity_index")
            let bytes = sealed + index
            for secret in [registration.identityCode, "张三", "13800001234"] {
                let needle = Array(secret.utf8)
                #expect(!(0...(bytes.count - needle.count)).contains { Array(bytes[$0..<($0 + needle.count)]) == needle })
            }
            let hash: String = try row.decode("password_hash")
            #expect(hash.hasPrefix("$2") && !hash.contains("correct"))
            // The same code again, typed in lower case: one account per person.
            #expect(try await store.register(registration) == .alreadyRegistered)
            #expect(try await client.query("SELECT count(*) AS n FROM web_accounts").one().decode("n", as: Int.self) == 1)
        }
    }

    @Test func signInNeedsTheRightPasswordAndAKnownCode() async throws {
        try await Self.withStore { store, _ in
            let registration = try Self.registration()
            _ = try await store.register(registration)
            #expect(try await store.authenticate(identityCode: registration.identityCode, password: "correct horse battery")?.person.name == "张三")
            #expect(try await store.authenticate(identityCode: registration.identityCode, password: "wrong horse battery") == nil)
            #expect(try await store.authenticate(identityCode: try Self.registration("37130219900101124").identityCode, password: "correct horse battery") == nil)
        }
    }

    @Test func sessionsLiveUntilIdleOrSignedOutAndOnlyTheirHashIsStored() async throws {
        try await Self.withStore { store, client in
            guard case .created(let account) = try await store.register(try Self.registration()) else { Issue.record("not created"); return }
            let policy = SessionPolicy(secure: false)
            let start = Date()
            let id = try await store.startSession(for: account, policy: policy, now: start)
            #expect(try await store.session(id, policy: policy, now: start.addingTimeInterval(60))?.id == account.id)
            let keys = try await client.query("SELECT session_key FROM web_sessions").rows.map { try $0.decode("session_key", as: [UInt8].self) }
            #expect(keys == [id.storageKey])
            // A forged id of the right shape is no session.
            #expect(try await store.session(SessionID.generate(), policy: policy, now: start) == nil)
            // Idle past 30 minutes: gone, and deleted.
            #expect(try await store.session(id, policy: policy, now: start.addingTimeInterval(31 * 60 + 60)) == nil)
            #expect(try await client.query("SELECT count(*) AS n FROM web_sessions").one().decode("n", as: Int.self) == 0)
            // Signing out ends a live one.
            let second = try await store.startSession(for: account, policy: policy, now: start)
            try await store.endSession(second)
            #expect(try await store.session(second, policy: policy, now: start) == nil)
        }
    }
}
