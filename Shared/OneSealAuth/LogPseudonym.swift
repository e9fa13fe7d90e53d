import Crypto
import Foundation
import Synchronization
import OneSealCore

/// What a log line says instead of a caller's subject (issue #15 item 10).
///
/// Subjects of applicants are resident ID numbers and USCCs; logs are shipped, kept and read far
/// more widely than the database, so no subject is ever written to a log in clear. A log line
/// carries `sub~` and the first 12 hex digits of HMAC-SHA256(per-node key, subject): the same
/// person has the same pseudonym in every line of every service of a node (so an operator can
/// still follow one caller through the logs), and without the node's key the pseudonym cannot be
/// reversed by hashing the ~10⁹ plausible ID numbers. The audit chain keeps real subjects — that
/// is its purpose, and it is sealed at rest; only logs get pseudonyms.
public enum LogPseudonym {
    /// Until a service configures the node's key, a random one: pseudonyms are then stable only
    /// within the process, but a subject still never reaches a log in clear.
    private static let key = Mutex(SymmetricKey(size: .bits256))

    /// Uses a key derived from `secret` (the node's token signing key, shared by all its
    /// services) so every service of the node gives the same pseudonym. HKDF with its own label,
    /// so the pseudonym key says nothing about the signing key.
    public static func configure(secret: some ContiguousBytes) {
        let derived = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: secret), info: Data("oneseal log pseudonym v1".utf8), outputByteCount: 32
        )
        self.key.withLock { $0 = derived }
    }

    /// The one function that turns a subject into what a log line may show: `sub~3f2a9c0d1e4b`.
    public static func of(_ subject: String) -> String {
        self.of(subject, key: self.key.withLock { $0 })
    }

    /// The same with an explicit key (tests: the process-wide key may be reconfigured by a
    /// service started in the same process).
    static func of(_ subject: String, key: SymmetricKey) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(subject.utf8), using: key)
        return "sub~" + Hex.lowercase(mac.prefix(6))
    }
}

extension Caller {
    /// The caller as a log line may name it: a pseudonym, never the subject (`LogPseudonym`).
    public var logSubject: String { LogPseudonym.of(self.subject) }
}
