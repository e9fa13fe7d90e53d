import Foundation
import HummingbirdBcrypt
import OneSealCore
import OneSealPrivacy
import OneSealStore
import WebRules

/// Staff accounts and their sessions (#19), in the front's own database beside the applicants'
/// (migration 2). Used by the front (sign-in) and by `oneseal staff` straight on the database
/// (W32): one definition of what a staff row is. The rows are not sealed — a staff member's
/// number, name and post are how they sign every act, not personal data of a citizen — except the
/// TOTP secret, sealed with the front's data key and bound to the account (a copied secret opens
/// nowhere else).
public struct StaffStore: Sendable {
    let database: PostgresClient
    /// Needed only to seal or open a TOTP secret; the CLI's `add`/`list`/`disable` work without it.
    let keyring: DataKeyring?
    let cost: UInt8

    public init(database: PostgresClient, keyring: DataKeyring?, cost: UInt8 = 12) {
        self.database = database
        self.keyring = keyring
        self.cost = cost
    }

    static let migrationSQL = """
        CREATE TABLE web_staff (
            staff_id uuid PRIMARY KEY,
            -- 工号 as given; unique without regard to case (web_staff_number below).
            staff_number text NOT NULL CHECK (staff_number ~ '^[A-Za-z0-9._-]{1,32}$'),
            display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 64),
            role text NOT NULL CHECK (role IN ('window_clerk', 'officer', 'section_chief', 'deputy_director', 'director',
                                               'certificate_operator', 'department', 'evaluator', 'leader', 'operator')),
            window_number text CHECK ((role = 'window_clerk') = (window_number IS NOT NULL)),
            department_code text CHECK ((role = 'department') = (department_code IS NOT NULL)),
            password_hash text NOT NULL CHECK (password_hash LIKE '$2%'),
            must_change_password boolean NOT NULL DEFAULT true,
            -- AES-GCM sealed TOTP secret (front's data key, bound to staff_id); NULL: no second factor.
            totp_sealed bytea,
            -- The last TOTP step accepted: a code is good once.
            totp_last_step bigint,
            disabled_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE UNIQUE INDEX web_staff_number ON web_staff (lower(staff_number));
        CREATE TABLE web_staff_sessions (
            -- SHA-256 of the cookie's random id, as for applicants (W22): the id is never stored.
            session_key bytea PRIMARY KEY CHECK (octet_length(session_key) = 32),
            staff_id uuid NOT NULL REFERENCES web_staff ON DELETE CASCADE,
            -- The role the session was opened in: a changed role ends it.
            role text NOT NULL,
            -- password_change and second_factor sessions open no page but their own form.
            stage text NOT NULL CHECK (stage IN ('password_change', 'second_factor', 'signed_in')),
            created_at timestamptz NOT NULL,
            last_seen timestamptz NOT NULL
        );
        CREATE INDEX web_staff_sessions_staff ON web_staff_sessions (staff_id);
        CREATE INDEX web_staff_sessions_last_seen ON web_staff_sessions (last_seen);
        """

    public struct Staff: Sendable, Hashable {
        public var id: UUID
        public var staffNumber: String
        public var displayName: String
        public var role: StaffRole
        public var windowNumber: String?
        public var departmentCode: String?
        public var mustChangePassword: Bool
        public var hasSecondFactor: Bool
        public var disabled: Bool
        public var createdAt: Date
    }

    public enum AddOutcome: Sendable, Hashable {
        case created(Staff)
        /// The staff number is taken (without regard to case).
        case staffNumberTaken
    }

    static func totpContext(_ id: UUID) -> String { "web staff totp \(id.uuidString.lowercased())" }
    static let columns: SQLQuery = "staff_id, staff_number, display_name, role, window_number, department_code, must_change_password, totp_sealed IS NOT NULL AS has_totp, disabled_at IS NOT NULL AS disabled, created_at"
    /// The same, of `web_staff w` in a join with the sessions (which have a role and a created_at too).
    static let joinedColumns: SQLQuery = "w.staff_id, w.staff_number, w.display_name, w.role, w.window_number, w.department_code, w.must_change_password, w.totp_sealed IS NOT NULL AS has_totp, w.disabled_at IS NOT NULL AS disabled, w.created_at"

    /// Creates the account with a password the person must change at first sign-in, and a TOTP
    /// secret if one is given (the operator enrols the person's app at the desk).
    public func add(_ draft: StaffAccountDraft, temporaryPassword: String, totpSecret: [UInt8]? = nil) async throws -> AddOutcome {
        let hash = try await AccountStore.offload { [cost] in Bcrypt.hash(temporaryPassword, cost: cost) }
        let id = UUID()
        let sealed = try totpSecret.map { try sealSecret($0, for: id) }
        let inserted = try await database.execute("""
            INSERT INTO web_staff (staff_id, staff_number, display_name, role, window_number, department_code, password_hash, must_change_password, totp_sealed)
            VALUES (\(id), \(draft.staffNumber), \(draft.displayName), \(draft.role.rawValue), \(draft.windowNumber), \(draft.departmentCode), \(hash), true, \(sealed))
            ON CONFLICT DO NOTHING
            """)
        guard inserted == 1, let staff = try await find(staffNumber: draft.staffNumber) else { return .staffNumberTaken }
        return .created(staff)
    }

    func sealSecret(_ secret: [UInt8], for id: UUID) throws -> [UInt8] {
        guard let keyring else { throw MissingDataKey() }
        return try keyring.seal(secret, context: Self.totpContext(id))
    }

    /// A TOTP secret was asked for without the front's data key (`--data-key-file`).
    public struct MissingDataKey: Error, CustomStringConvertible {
        public var description: String { "a TOTP secret is sealed with the front's data key: give its key file" }
    }

    public func list() async throws -> [Staff] {
        try await database.query("SELECT \(Self.columns) FROM web_staff ORDER BY lower(staff_number)").rows.map(Self.staff)
    }

    public func find(staffNumber: String) async throws -> Staff? {
        try await database.query("SELECT \(Self.columns) FROM web_staff WHERE lower(staff_number) = \(StaffNumber.key(staffNumber))").rows.first.map(Self.staff)
    }

    /// A stored role this build does not know. Refused, never read as some other role: a guess
    /// could hand a person rights they were not given.
    public struct UnknownRole: Error, CustomStringConvertible {
        public let staffNumber: String
        public let role: String
        public var description: String { "staff \(staffNumber) has the role '\(role)', which this build does not know; the account cannot be used" }
    }

    static func staff(_ row: PostgresRow) throws -> Staff {
        let stored: String = try row.decode("role")
        guard let role = StaffRole(rawValue: stored) else { throw UnknownRole(staffNumber: try row.decode("staff_number"), role: stored) }
        return Staff(
            id: try row.decode("staff_id"), staffNumber: try row.decode("staff_number"), displayName: try row.decode("display_name"),
            role: role, windowNumber: try row.decode("window_number"), departmentCode: try row.decode("department_code"),
            mustChangePassword: try row.decode("must_change_password"), hasSecondFactor: try row.decode("has_totp"), disabled: try row.decode("disabled"),
            createdAt: try row.decode("created_at"))
    }

    /// Disables the account and deletes its sessions in one statement: the next click of any of
    /// the person's browsers finds no session. Nil: no such staff number. Disabling twice is harmless.
    public func disable(staffNumber: String) async throws -> Int? {
        let rows = try await database.query("""
            WITH target AS (
                UPDATE web_staff SET disabled_at = coalesce(disabled_at, now()) WHERE lower(staff_number) = \(StaffNumber.key(staffNumber)) RETURNING staff_id
            ), ended AS (
                DELETE FROM web_staff_sessions WHERE staff_id IN (SELECT staff_id FROM target) RETURNING 1
            )
            SELECT (SELECT count(*) FROM target) AS found, (SELECT count(*) FROM ended) AS ended
            """).one()
        let found: Int = try rows.decode("found")
        return found == 0 ? nil : try rows.decode("ended")
    }

    /// What a password reset does to the second factor.
    public enum SecondFactorChange: Sendable, Hashable {
        case keep
        /// A new secret (a lost or new phone): the old codes stop working.
        case replace([UInt8])
        /// No second factor any more.
        case remove
    }

    /// A new one-time password (to change at next sign-in), the second factor kept, replaced or
    /// removed, and every session of the person ended, in one transaction. A reset never undoes a
    /// disable unless asked (`enable`). False: no such staff number.
    public func resetPassword(staffNumber: String, temporaryPassword: String, secondFactor: SecondFactorChange = .keep, enable: Bool = false) async throws -> Bool {
        guard let staff = try await find(staffNumber: staffNumber) else { return false }
        let hash = try await AccountStore.offload { [cost] in Bcrypt.hash(temporaryPassword, cost: cost) }
        var sealed: [UInt8]?
        if case .replace(let secret) = secondFactor { sealed = try sealSecret(secret, for: staff.id) }
        try await database.withTransaction { connection in
            try await connection.execute("UPDATE web_staff SET password_hash = \(hash), must_change_password = true WHERE staff_id = \(staff.id)")
            if secondFactor != .keep {
                try await connection.execute("UPDATE web_staff SET totp_sealed = \(sealed), totp_last_step = NULL WHERE staff_id = \(staff.id)")
            }
            if enable { try await connection.execute("UPDATE web_staff SET disabled_at = NULL WHERE staff_id = \(staff.id)") }
            try await connection.execute("DELETE FROM web_staff_sessions WHERE staff_id = \(staff.id)")
        }
        return true
    }

    // MARK: Sign-in (the front)

    /// The account whose password this is and that is not disabled, or nil. An unknown staff
    /// number costs a bcrypt check too (as for applicants, W21).
    public func authenticate(staffNumber: String, password: String) async throws -> Staff? {
        let rows = try await database.query("SELECT \(Self.columns), password_hash FROM web_staff WHERE lower(staff_number) = \(StaffNumber.key(staffNumber))")
        guard let row = rows.first else {
            _ = try await AccountStore.offload { Bcrypt.verify(password, hash: AccountStore.absentHash) }
            return nil
        }
        let hash: String = try row.decode("password_hash")
        guard try await AccountStore.offload({ Bcrypt.verify(password, hash: hash) }) else { return nil }
        let staff = try Self.staff(row)
        return staff.disabled ? nil : staff
    }

    /// Sets the person's own new password and clears the forced change; every other session of
    /// the person ends (a browser left signed in elsewhere with the old password is signed out),
    /// `keeping` the one that made the change.
    public func changePassword(_ id: UUID, to password: String, keeping current: SessionID? = nil) async throws {
        let hash = try await AccountStore.offload { [cost] in Bcrypt.hash(password, cost: cost) }
        try await database.withTransaction { connection in
            try await connection.execute("UPDATE web_staff SET password_hash = \(hash), must_change_password = false WHERE staff_id = \(id) AND disabled_at IS NULL")
            try await connection.execute("DELETE FROM web_staff_sessions WHERE staff_id = \(id) AND session_key <> \(current?.storageKey ?? [])")
        }
    }

    /// Checks a TOTP code and, if it matches a step later than the last one used, records that
    /// step (atomically: of two racing submissions of one code only one succeeds).
    public func verifyTOTP(_ id: UUID, code: String, now: Date = Date()) async throws -> Bool {
        guard let keyring else { throw MissingDataKey() }
        let row = try await database.query("SELECT totp_sealed, totp_last_step FROM web_staff WHERE staff_id = \(id) AND disabled_at IS NULL").rows.first
        guard let row, let sealed: [UInt8] = try row.decode("totp_sealed") else { return false }
        let last: Int64? = try row.decode("totp_last_step")
        let totp = TOTP(secret: try keyring.open(sealed, context: Self.totpContext(id)))
        guard let step = totp.matchingStep(code, at: now, after: last.map { UInt64($0) }) else { return false }
        let updated = try await database.execute("""
            UPDATE web_staff SET totp_last_step = \(Int64(step))
            WHERE staff_id = \(id) AND (totp_last_step IS NULL OR totp_last_step < \(Int64(step)))
            """)
        return updated == 1
    }

    // MARK: Second factor by the person (自助绑定)

    /// How long an offered secret may be confirmed: the time to install an app and type a code.
    public static let offerLifetime: TimeInterval = 600

    static func offerContext(_ id: UUID) -> String { "web staff totp offer \(id.uuidString.lowercased())" }

    /// A new secret offered to the signed-in person, sealed for the enrolment form (bound to the
    /// person and stamped with the time): nothing is stored until a code from it confirms it, so
    /// an abandoned form leaves no half-enrolled account.
    public func offerSecret(_ secret: [UInt8], for id: UUID, now: Date = Date()) throws -> String {
        guard let keyring else { throw MissingDataKey() }
        let stamp = withUnsafeBytes(of: Int64(now.timeIntervalSince1970).bigEndian) { Array($0) }
        return Base64URL.encode(try keyring.seal(stamp + secret, context: Self.offerContext(id)))
    }

    /// The secret an offer carries, if it is this person's and still fresh.
    public func openOffer(_ offer: String, for id: UUID, now: Date = Date()) -> [UInt8]? {
        guard let keyring, offer.utf8.count <= 512, let sealed = Base64URL.decode(offer),
              let opened = try? keyring.open(sealed, context: Self.offerContext(id)), opened.count == 8 + TOTP.secretByteCount else { return nil }
        let stamp = opened.prefix(8).reduce(Int64(0)) { $0 << 8 | Int64($1) }
        let age = now.timeIntervalSince1970 - TimeInterval(stamp)
        guard age >= -60, age <= Self.offerLifetime else { return nil }
        return Array(opened.dropFirst(8))
    }

    public enum Enrolment: Sendable, Hashable {
        case enrolled
        /// The person has a second factor already (a second submission of the same form, or one
        /// set by the operator meanwhile): nothing changed.
        case alreadyEnrolled
        case wrongCode
        /// Not an offer of this person's, or older than `offerLifetime`.
        case staleOffer
    }

    /// Binds the offered secret once a code from it matches; the code's step counts as used.
    /// Only an account without a second factor is changed (replacing one is the operator's
    /// `reset-password --new-totp`: a stolen session must not swap the phone).
    public func enrolTOTP(_ id: UUID, offer: String, code: String, now: Date = Date()) async throws -> Enrolment {
        guard let secret = openOffer(offer, for: id, now: now) else { return .staleOffer }
        guard let step = TOTP(secret: secret).matchingStep(code, at: now) else { return .wrongCode }
        let sealed = try sealSecret(secret, for: id)
        let updated = try await database.execute("""
            UPDATE web_staff SET totp_sealed = \(sealed), totp_last_step = \(Int64(step))
            WHERE staff_id = \(id) AND totp_sealed IS NULL AND disabled_at IS NULL
            """)
        return updated == 1 ? .enrolled : .alreadyEnrolled
    }

    // MARK: Sessions

    public enum Stage: String, Sendable, Hashable {
        /// Signed in with a one-time password: only the password change form opens.
        case passwordChange = "password_change"
        /// Password right, TOTP code still to give: only the code form opens.
        case secondFactor = "second_factor"
        case signedIn = "signed_in"
    }

    public struct Session: Sendable, Hashable {
        public var staff: Staff
        public var stage: Stage
    }

    /// The stage a fresh sign-in starts in: a forced password change first, then the code.
    public static func firstStage(_ staff: Staff) -> Stage {
        staff.mustChangePassword ? .passwordChange : staff.hasSecondFactor ? .secondFactor : .signedIn
    }

    public func startSession(for staff: Staff, stage: Stage, policy: SessionPolicy, now: Date = Date()) async throws -> SessionID {
        try await database.execute("""
            DELETE FROM web_staff_sessions
            WHERE last_seen < \(now.addingTimeInterval(-policy.idleTimeout)) OR created_at < \(now.addingTimeInterval(-policy.absoluteTimeout))
            """)
        let id = SessionID.generate()
        try await database.execute("""
            INSERT INTO web_staff_sessions (session_key, staff_id, role, stage, created_at, last_seen)
            VALUES (\(id.storageKey), \(staff.id), \(staff.role.rawValue), \(stage.rawValue), \(now), \(now))
            """)
        return id
    }

    /// The staff session of a cookie, or nil: unknown, expired, the account disabled, or its role
    /// changed since sign-in (an expired or stale row is deleted).
    public func session(_ id: SessionID, policy: SessionPolicy, now: Date = Date()) async throws -> Session? {
        let rows = try await database.query("""
            SELECT s.created_at AS session_created, s.last_seen, s.stage, s.role AS session_role,
                   \(Self.joinedColumns)
            FROM web_staff_sessions s JOIN web_staff w USING (staff_id) WHERE s.session_key = \(id.storageKey)
            """)
        guard let row = rows.first else { return nil }
        let created: Date = try row.decode("session_created"), lastSeen: Date = try row.decode("last_seen")
        let staff = try Self.staff(row)
        let sessionRole: String = try row.decode("session_role")
        guard policy.isAlive(created: created, lastSeen: lastSeen, now: now), !staff.disabled, sessionRole == staff.role.rawValue,
            let stage = Stage(rawValue: try row.decode("stage"))
        else {
            try await endSession(id)
            return nil
        }
        if now.timeIntervalSince(lastSeen) > 60 {
            try await database.execute("UPDATE web_staff_sessions SET last_seen = \(now) WHERE session_key = \(id.storageKey)")
        }
        return Session(staff: staff, stage: stage)
    }

    /// Moves a session to its next stage with a NEW id (the old one is deleted): the cookie that
    /// was good only for the password form is not the one that opens the work list.
    /// Nil: the session is gone meanwhile (signed out, the account disabled) — no new one is made.
    public func advance(_ id: SessionID, to stage: Stage, staff: Staff, now: Date = Date()) async throws -> SessionID? {
        let next = SessionID.generate()
        let moved = try await database.execute("""
            UPDATE web_staff_sessions SET session_key = \(next.storageKey), stage = \(stage.rawValue), last_seen = \(now)
            WHERE session_key = \(id.storageKey) AND staff_id = \(staff.id)
            """)
        return moved == 1 ? next : nil
    }

    public func endSession(_ id: SessionID) async throws {
        try await database.execute("DELETE FROM web_staff_sessions WHERE session_key = \(id.storageKey)")
    }
}
