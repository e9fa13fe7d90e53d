import Foundation
import HummingbirdBcrypt
import NIOPosix
import OneSealCore
import OneSealPrivacy
import OneSealStore
import WebRules

/// The front's own database (#18 item 3): applicant accounts and their sessions, nothing else —
/// applications, materials and decisions stay in the services (W17). Personal data rests sealed
/// with the front's data key (name, ID/USCC, legal representative, phone in one sealed record per
/// account, bound to the account id), found by a keyed blind index of the identity code; the
/// password as a bcrypt hash; a session as the SHA-256 of its cookie id.
public struct AccountStore: Sendable {
    let database: PostgresClient
    let keyring: DataKeyring
    /// bcrypt's cost (log2 rounds): 12 is ≈ 0.25 s a hash on one core of the dev machine.
    let cost: UInt8

    public init(database: PostgresClient, keyring: DataKeyring, cost: UInt8 = 12) {
        self.database = database
        self.keyring = keyring
        self.cost = cost
    }

    /// The migrations of the front's database (applicants, then staff), in the executable (the front has no resource
    /// bundle to ship; see decisions W20). Version numbers never change once released.
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "web_accounts", sql: """
            CREATE TABLE web_accounts (
                account_id uuid PRIMARY KEY,
                kind text NOT NULL CHECK (kind IN ('person', 'company')),
                -- HMAC of the normalised resident ID / USCC under the front's data key (blind index).
                identity_index bytea NOT NULL UNIQUE,
                -- AES-GCM sealed JSON {name, identityCode, legalRepresentative, phone}, bound to account_id.
                sealed bytea NOT NULL,
                password_hash text NOT NULL CHECK (password_hash LIKE '$2%'),
                created_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE TABLE web_sessions (
                -- SHA-256 of the cookie's random id: the id itself is never stored.
                session_key bytea PRIMARY KEY CHECK (octet_length(session_key) = 32),
                account_id uuid NOT NULL REFERENCES web_accounts ON DELETE CASCADE,
                created_at timestamptz NOT NULL,
                last_seen timestamptz NOT NULL
            );
            CREATE INDEX web_sessions_last_seen ON web_sessions (last_seen);
            CREATE INDEX web_sessions_account ON web_sessions (account_id);
            """),
        // #19: staff accounts and their sessions (`StaffStore`), kept apart from the applicants'.
        Migration(version: 2, name: "web_staff", sql: StaffStore.migrationSQL),
    ]

    /// What the sealed record holds.
    public struct Person: Codable, Sendable, Hashable {
        public var name: String
        public var identityCode: String
        public var legalRepresentative: String?
        public var phone: String
    }

    public struct Account: Sendable, Hashable {
        public var id: UUID
        public var kind: AccountKind
        public var person: Person
    }

    static let indexPurpose = "web account identity"
    static func sealContext(_ id: UUID) -> String { "web account \(id.uuidString.lowercased())" }

    public enum RegisterOutcome: Sendable, Hashable {
        case created(Account)
        /// An account with this identity code exists already (the page says so and offers sign-in).
        case alreadyRegistered
    }

    /// Creates the account; the password is hashed off the event loops (bcrypt is slow on purpose).
    public func register(_ registration: Registration) async throws -> RegisterOutcome {
        let hash = try await Self.offload { Bcrypt.hash(registration.password, cost: cost) }
        let id = UUID()
        let person = Person(name: registration.name, identityCode: registration.identityCode, legalRepresentative: registration.legalRepresentative, phone: registration.phone)
        let sealed = try keyring.seal(json: person, context: Self.sealContext(id))
        let index = keyring.blindIndex(registration.identityCode, purpose: Self.indexPurpose)
        let inserted = try await database.execute("""
            INSERT INTO web_accounts (account_id, kind, identity_index, sealed, password_hash)
            VALUES (\(id), \(registration.kind.rawValue), \(index), \(sealed), \(hash))
            ON CONFLICT (identity_index) DO NOTHING
            """)
        return inserted == 1 ? .created(Account(id: id, kind: registration.kind, person: person)) : .alreadyRegistered
    }

    /// The account whose password this is, or nil (no such account, or the wrong password). An
    /// unknown code costs a bcrypt check too, against a fixed hash, so the time taken does not tell
    /// which codes have accounts.
    public func authenticate(identityCode: String, password: String) async throws -> Account? {
        let index = keyring.blindIndex(identityCode, purpose: Self.indexPurpose)
        let rows = try await database.query("SELECT account_id, kind, sealed, password_hash FROM web_accounts WHERE identity_index = \(index)")
        guard let row = rows.first else {
            _ = try await Self.offload { Bcrypt.verify(password, hash: Self.absentHash) }
            return nil
        }
        let hash: String = try row.decode("password_hash")
        guard try await Self.offload({ Bcrypt.verify(password, hash: hash) }) else { return nil }
        return try account(row)
    }

    /// A fixed hash of a random text at cost 12, for unknown accounts (see `authenticate`).
    static let absentHash = Bcrypt.hash(UUID().uuidString, cost: 12)

    func account(_ row: PostgresRow) throws -> Account {
        let id: UUID = try row.decode("account_id")
        let sealed: [UInt8] = try row.decode("sealed")
        return Account(
            id: id, kind: AccountKind(rawValue: try row.decode("kind")) ?? .person,
            person: try keyring.open(json: Person.self, sealed, context: Self.sealContext(id)))
    }

    // MARK: Sessions

    /// Starts a session for `account` and returns its id (the cookie's value). Expired sessions of
    /// everyone are purged on the way: sign-ins are rare enough to carry that.
    public func startSession(for account: Account, policy: SessionPolicy, now: Date = Date()) async throws -> SessionID {
        try await database.execute("""
            DELETE FROM web_sessions
            WHERE last_seen < \(now.addingTimeInterval(-policy.idleTimeout)) OR created_at < \(now.addingTimeInterval(-policy.absoluteTimeout))
            """)
        let id = SessionID.generate()
        try await database.execute("INSERT INTO web_sessions (session_key, account_id, created_at, last_seen) VALUES (\(id.storageKey), \(account.id), \(now), \(now))")
        return id
    }

    /// The signed-in account of a session cookie, or nil (unknown, forged or expired — an expired
    /// one is deleted). Marks the session used, at most once a minute (no write per page view).
    public func session(_ id: SessionID, policy: SessionPolicy, now: Date = Date()) async throws -> Account? {
        let rows = try await database.query("""
            SELECT s.created_at, s.last_seen, a.account_id, a.kind, a.sealed
            FROM web_sessions s JOIN web_accounts a USING (account_id) WHERE s.session_key = \(id.storageKey)
            """)
        guard let row = rows.first else { return nil }
        let created: Date = try row.decode("created_at"), lastSeen: Date = try row.decode("last_seen")
        guard policy.isAlive(created: created, lastSeen: lastSeen, now: now) else {
            try await endSession(id)
            return nil
        }
        if now.timeIntervalSince(lastSeen) > 60 {
            try await database.execute("UPDATE web_sessions SET last_seen = \(now) WHERE session_key = \(id.storageKey)")
        }
        return try account(row)
    }

    public func endSession(_ id: SessionID) async throws {
        try await database.execute("DELETE FROM web_sessions WHERE session_key = \(id.storageKey)")
    }

    /// Runs blocking work (bcrypt) on NIO's thread pool rather than a concurrency thread.
    static func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(work)
    }
}
