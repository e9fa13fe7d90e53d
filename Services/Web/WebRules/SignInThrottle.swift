import Foundation

/// Password guessing, limited twice: per account (someone trying many passwords on one person)
/// and per client address (one machine trying a few passwords on many people). Failures are
/// counted in a sliding-free fixed window; a success clears the account's count but not the
/// address's (an attacker who owns one account must not reset their budget by signing into it).
/// A plain value: the handler keeps it behind a lock and passes the clock in.
public struct SignInThrottle: Sendable {
    public struct Limits: Sendable, Hashable {
        public var perAccount: Int
        public var perAddress: Int
        public var window: TimeInterval

        /// 5 wrong passwords per account and 20 per address in 15 minutes: a person who forgot
        /// their password is not locked out for long, a guesser gets 480 tries a day per account.
        public static let standard = Limits(perAccount: 5, perAddress: 20, window: 15 * 60)

        public init(perAccount: Int, perAddress: Int, window: TimeInterval) {
            self.perAccount = perAccount
            self.perAddress = perAddress
            self.window = window
        }
    }

    public let limits: Limits
    /// Keys kept at most per table; the oldest windows go first (bounded memory under a flood).
    public let capacity: Int
    private var accounts: [String: Window] = [:]
    private var addresses: [String: Window] = [:]

    struct Window: Sendable {
        var failures: Int
        var started: Date
    }

    public init(limits: Limits = .standard, capacity: Int = 100_000) {
        self.limits = limits
        self.capacity = capacity
    }

    /// Why an attempt may not even be checked now, or nil. Asked before the password is verified,
    /// so a blocked guesser does not even learn whether the password was right.
    public enum Block: Sendable, Hashable {
        case account(until: Date)
        case address(until: Date)
    }

    public func block(account: String, address: String, now: Date) -> Block? {
        if let until = Self.blockedUntil(addresses[address], limit: limits.perAddress, window: limits.window, now: now) { return .address(until: until) }
        if let until = Self.blockedUntil(accounts[account], limit: limits.perAccount, window: limits.window, now: now) { return .account(until: until) }
        return nil
    }

    public mutating func recordFailure(account: String, address: String, now: Date) {
        Self.count(&accounts, account, window: limits.window, now: now, capacity: capacity)
        Self.count(&addresses, address, window: limits.window, now: now, capacity: capacity)
    }

    /// Counts an attempt against the address only (a registration: each one costs a bcrypt hash,
    /// so a script must not be able to make the front hash without limit).
    public mutating func recordAddressAttempt(address: String, now: Date) {
        Self.count(&addresses, address, window: limits.window, now: now, capacity: capacity)
    }

    /// Keys counted now in the larger of the two tables (never more than `capacity`).
    public var trackedKeys: Int { max(accounts.count, addresses.count) }

    public mutating func recordSuccess(account: String) {
        accounts[account] = nil
    }

    static func blockedUntil(_ entry: Window?, limit: Int, window: TimeInterval, now: Date) -> Date? {
        guard let entry, entry.failures >= limit else { return nil }
        let end = entry.started.addingTimeInterval(window)
        return end > now ? end : nil
    }

    static func count(_ table: inout [String: Window], _ key: String, window: TimeInterval, now: Date, capacity: Int) {
        var entry = table[key] ?? Window(failures: 0, started: now)
        if now.timeIntervalSince(entry.started) >= window { entry = Window(failures: 0, started: now) }
        entry.failures += 1
        table[key] = entry
        if table.count > capacity {
            table = table.filter { now.timeIntervalSince($0.value.started) < window }
            if table.count > capacity {
                let newest = table.sorted { $0.value.started > $1.value.started }.prefix(capacity * 9 / 10)
                table = Dictionary(uniqueKeysWithValues: newest.map { ($0.key, $0.value) })
            }
        }
    }
}

/// The client's address, for the per-address limits and the request log. It is the TCP peer's,
/// unless that peer is one of the operator's trusted proxies (`ONESEAL_WEB_TRUSTED_PROXIES`): then
/// X-Forwarded-For is read from the right, skipping trusted proxies, and the first address not
/// trusted is the client. Everything left of it was written by the client and may be invented, so
/// it is never used; from an untrusted peer the header is ignored altogether (anyone can send it).
public enum ClientAddress {
    public static func resolve(peer: String, forwardedFor headers: [String], trustedProxies: Set<String>) -> String {
        guard trustedProxies.contains(peer) else { return peer }
        let hops = headers.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in hops.reversed() {
            guard isAddress(hop) else { return peer }  // a garbled header: fall back to what TCP says
            if !trustedProxies.contains(hop) { return hop }
        }
        return hops.first.flatMap { isAddress($0) ? $0 : nil } ?? peer
    }

    /// An IPv4 or IPv6 address literal (no ports, no names): what a proxy writes.
    public static func isAddress(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 45 else { return false }
        if text.contains(":") {
            return text.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy({ $0.isASCII && $0.isNumber }) && Int(part)! <= 255
        }
    }

    /// `ONESEAL_WEB_TRUSTED_PROXIES`: comma-separated address literals; a failure's message is the bad entry.
    public static func parseTrustedProxies(_ text: String) -> Result<Set<String>, FieldProblem> {
        var out: Set<String> = []
        for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            guard isAddress(entry) else { return .failure(FieldProblem(entry)) }
            out.insert(entry)
        }
        return .success(out)
    }
}
