import Foundation
import OneSealCore
import OneSealPrivacy
import OneSealStore
import OneSealTestSupport
import Testing
import WebRules
@testable import WebService

/// Staff accounts on a real PostgreSQL (#19): what is stored, sign-in, the forced change, TOTP
/// once per code, and disabling that ends sessions at once. Cost 4 keeps bcrypt quick here.
@Suite struct StaffStoreTests {
    static func withStore(_ body: (StaffStore, PostgresClient) async throws -> Void) async throws {
        try await withTestDatabase(prefix: "web") { client in
            try await Migrator.apply(AccountStore.migrations, on: client)
            let keyring = try DataKeyring(text: DataKeyring.generateKeyText())
            try await body(StaffStore(database: client, keyring: keyring, cost: 4), client)
        }
    }

    static func draft(_ fields: [String: String]) throws -> StaffAccountDraft {
        try StaffAccountDraft.validate(fields).get()
    }

    static let clerk = ["staff_number": "W0012", "display_name": "李四", "role": "window_clerk", "window": "3"]

    @Test func anAccountIsStoredHashedWithItsPostAndNumbersAreUniqueWithoutCase() async throws {
        try await Self.withStore { store, client in
            guard case .created(let staff) = try await store.add(try Self.draft(Self.clerk), temporaryPassword: "Temp0rary-pass") else {
                Issue.record("not created"); return
            }
            #expect(staff.staffNumber == "W0012" && staff.role == .windowClerk && staff.windowNumber == "3" && staff.mustChangePassword && !staff.hasSecondFactor && !staff.disabled)
            let hash: String = try await client.query("SELECT password_hash FROM web_staff").one().decode("password_hash")
            #expect(hash.hasPrefix("$2") && !hash.contains("Temp0rary"))
            var other = Self.clerk
            other["staff_number"] = "w0012"
            #expect(try await store.add(try Self.draft(other), temporaryPassword: "Temp0rary-pass") == .staffNumberTaken)
            #expect(try await store.list().map(\.staffNumber) == ["W0012"])
            // The database refuses what the rules refuse, should anything bypass them.
            await #expect(throws: (any Error).self) {
                try await client.execute("INSERT INTO web_staff (staff_id, staff_number, display_name, role, password_hash) VALUES (\(UUID()), 'X1', '某', 'window_clerk', '$2b$x')")
            }
        }
    }

    @Test func signInNeedsTheRightPasswordAndStartsWithTheForcedChange() async throws {
        try await Self.withStore { store, _ in
            _ = try await store.add(try Self.draft(Self.clerk), temporaryPassword: "Temp0rary-pass")
            #expect(try await store.authenticate(staffNumber: "w0012", password: "wrong-password") == nil)
            #expect(try await store.authenticate(staffNumber: "nobody", password: "Temp0rary-pass") == nil)
            let staff = try #require(try await store.authenticate(staffNumber: "w0012", password: "Temp0rary-pass"))
            #expect(StaffStore.firstStage(staff) == .passwordChange)
            let policy = SessionPolicy(secure: false)
            let here = try await store.startSession(for: staff, stage: .passwordChange, policy: policy)
            let elsewhere = try await store.startSession(for: staff, stage: .signedIn, policy: policy)
            try await store.changePassword(staff.id, to: "my own long secret", keeping: here)
            // The session that changed it lives on; the one elsewhere is signed out.
            #expect(try await store.session(here, policy: policy) != nil)
            #expect(try await store.session(elsewhere, policy: policy) == nil)
            let again = try #require(try await store.authenticate(staffNumber: "W0012", password: "my own long secret"))
            #expect(!again.mustChangePassword && StaffStore.firstStage(again) == .signedIn)
            #expect(try await store.authenticate(staffNumber: "W0012", password: "Temp0rary-pass") == nil)
        }
    }

    @Test func aTOTPCodeIsGoodOnceAndTheSecretRestsSealed() async throws {
        try await Self.withStore { store, client in
            let secret = TOTP.generateSecret()
            let officer = ["staff_number": "G3", "display_name": "赵六", "role": "officer"]
            guard case .created(let staff) = try await store.add(try Self.draft(officer), temporaryPassword: "Temp0rary-pass", totpSecret: secret) else {
                Issue.record("not created"); return
            }
            #expect(staff.hasSecondFactor)
            let sealed: [UInt8] = try await client.query("SELECT totp_sealed FROM web_staff").one().decode("totp_sealed")
            #expect(!(0...(sealed.count - secret.count)).contains { Array(sealed[$0..<($0 + secret.count)]) == secret })
            let now = Date()
            let code = TOTP(secret: secret).code(at: now)
            #expect(try await store.verifyTOTP(staff.id, code: "000000" == code ? "111111" : "000000", now: now) == false)
            #expect(try await store.verifyTOTP(staff.id, code: code, now: now))
            #expect(try await store.verifyTOTP(staff.id, code: code, now: now) == false)
            // The next step's code is still good.
            #expect(try await store.verifyTOTP(staff.id, code: TOTP(secret: secret).code(at: now.addingTimeInterval(30)), now: now.addingTimeInterval(30)))
            // A reset with a new secret: the old secret's codes stop working.
            let newSecret = TOTP.generateSecret()
            #expect(try await store.resetPassword(staffNumber: "g3", temporaryPassword: "Another-temp-1", secondFactor: .replace(newSecret)))
            let later = now.addingTimeInterval(90)
            let oldCode = TOTP(secret: secret).code(at: later), newCode = TOTP(secret: newSecret).code(at: later)
            if oldCode != newCode { #expect(try await store.verifyTOTP(staff.id, code: oldCode, now: later) == false) }
            #expect(try await store.verifyTOTP(staff.id, code: newCode, now: later))
        }
    }

    @Test func disablingEndsEverySessionAtOnceAndStopsSignIn() async throws {
        try await Self.withStore { store, client in
            guard case .created(let staff) = try await store.add(try Self.draft(Self.clerk), temporaryPassword: "Temp0rary-pass") else {
                Issue.record("not created"); return
            }
            let policy = SessionPolicy(secure: false)
            let first = try await store.startSession(for: staff, stage: .signedIn, policy: policy)
            let second = try await store.startSession(for: staff, stage: .signedIn, policy: policy)
            #expect(try await store.session(first, policy: policy)?.staff.id == staff.id)
            #expect(try await store.disable(staffNumber: "w0012") == 2)
            #expect(try await store.session(first, policy: policy) == nil)
            #expect(try await store.session(second, policy: policy) == nil)
            #expect(try await client.query("SELECT count(*) AS n FROM web_staff_sessions").one().decode("n", as: Int.self) == 0)
            #expect(try await store.authenticate(staffNumber: "W0012", password: "Temp0rary-pass") == nil)
            #expect(try await store.disable(staffNumber: "nobody") == nil)
            // A reset alone does not re-enable; asked to, it does.
            #expect(try await store.resetPassword(staffNumber: "W0012", temporaryPassword: "Another-temp-1"))
            #expect(try await store.authenticate(staffNumber: "W0012", password: "Another-temp-1") == nil)
            #expect(try await store.resetPassword(staffNumber: "W0012", temporaryPassword: "Another-temp-2", enable: true))
            #expect(try await store.authenticate(staffNumber: "W0012", password: "Another-temp-2")?.mustChangePassword == true)
        }
    }

    @Test func sessionsExpireAdvanceWithANewIdAndEndWithARoleChange() async throws {
        try await Self.withStore { store, client in
            guard case .created(let staff) = try await store.add(try Self.draft(Self.clerk), temporaryPassword: "Temp0rary-pass") else {
                Issue.record("not created"); return
            }
            let policy = SessionPolicy(secure: false)
            let start = Date()
            let id = try await store.startSession(for: staff, stage: .passwordChange, policy: policy, now: start)
            #expect(try await store.session(id, policy: policy, now: start)?.stage == .passwordChange)
            let next = try #require(try await store.advance(id, to: .signedIn, staff: staff, now: start))
            #expect(next != id)
            #expect(try await store.session(id, policy: policy, now: start) == nil)
            #expect(try await store.session(next, policy: policy, now: start)?.stage == .signedIn)
            // Advancing a session that is gone makes none.
            #expect(try await store.advance(id, to: .signedIn, staff: staff, now: start) == nil)
            // Idle past the policy: gone.
            #expect(try await store.session(next, policy: policy, now: start.addingTimeInterval(policy.idleTimeout + 120)) == nil)
            // A role changed under a live session ends it.
            let live = try await store.startSession(for: staff, stage: .signedIn, policy: policy)
            try await client.execute("UPDATE web_staff SET role = 'officer', window_number = NULL")
            #expect(try await store.session(live, policy: policy) == nil)
        }
    }
}
