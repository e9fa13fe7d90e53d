import Crypto
import _CryptoExtras
import Foundation

/// The sealed file `oneseal backup create` writes: a node's database dumps and key files, encrypted
/// with a key derived from the operator's passphrase, so a copied backup reveals nobody's identity
/// and no key (docs/operators.md, "Backups and restore"; decisions D4).
///
/// Layout — a header, then a stream of AES-256-GCM chunks:
///
///     "OSBK" · version 1 · KDF 1 (scrypt) · log2 N · r · p · salt (16) · nonce prefix (8)
///     chunk*:  length (u32 BE, of ciphertext + 16-byte tag) · ciphertext · tag
///
/// Chunk `i` is sealed with nonce = prefix ‖ i (u32 BE) and authenticated data = header ‖ i (u64 BE)
/// ‖ final flag, so chunks cannot be reordered, dropped, or cut off after any chunk but the one
/// written as final; anything after the final chunk is refused. The plaintext inside is a sequence
/// of entries — name length (u16 BE), UTF-8 name, size (u64 BE), bytes — ended by a zero-length name.
/// The codec is pure (bytes in, bytes out); `BackupArchiveFile` streams it to and from files.
public enum BackupArchive {
    public static let magic: [UInt8] = Array("OSBK".utf8)
    public static let version: UInt8 = 1
    static let kdfScrypt: UInt8 = 1
    static let headerSize = 4 + 1 + 1 + 3 + 16 + 8
    /// Plaintext bytes per chunk: large enough to keep the tag overhead negligible, small enough that
    /// neither side holds more than one chunk of a multi-gigabyte dump in memory.
    public static let chunkSize = 1 << 20
    static let tagSize = 16

    public enum Failure: Error, Equatable, CustomStringConvertible, Sendable {
        case notABackup
        case unsupportedVersion(UInt8)
        case wrongPassphraseOrDamaged(chunk: UInt64)
        case truncated
        case trailingData
        case malformedEntries(String)

        public var description: String {
            switch self {
            case .notABackup: "not a OneSeal backup (the file does not start with OSBK)"
            case .unsupportedVersion(let version): "backup format version \(version) is not one this build reads"
            case .wrongPassphraseOrDamaged(let chunk): "chunk \(chunk) does not open: the passphrase is wrong, or the file was changed or damaged"
            case .truncated: "the backup ends before its final chunk: the file was cut short"
            case .trailingData: "bytes follow the final chunk: the file was appended to"
            case .malformedEntries(let why): "the backup's contents are malformed: \(why)"
            }
        }
    }

    /// The cost of guessing a passphrase: scrypt with N = 2^15, r = 8, p = 1 (32 MiB, ~0.1 s per try).
    public struct KeyDerivation: Sendable, Equatable {
        public var log2N: UInt8 = 15
        public var r: UInt8 = 8
        public var p: UInt8 = 1
        public init() {}
        public init(log2N: UInt8, r: UInt8, p: UInt8) { self.log2N = log2N; self.r = r; self.p = p }

        func key(passphrase: [UInt8], salt: [UInt8]) throws -> SymmetricKey {
            try KDF.Scrypt.deriveKey(from: passphrase, salt: salt, outputByteCount: 32, rounds: 1 << Int(log2N), blockSize: Int(r), parallelism: Int(p))
        }
    }

    static func nonce(prefix: [UInt8], index: UInt64) throws -> AES.GCM.Nonce {
        var bytes = prefix
        bytes.append(contentsOf: withUnsafeBytes(of: UInt32(truncatingIfNeeded: index).bigEndian, Array.init))
        return try AES.GCM.Nonce(data: bytes)
    }

    static func authenticatedData(header: [UInt8], index: UInt64, final: Bool) -> [UInt8] {
        header + withUnsafeBytes(of: index.bigEndian, Array.init) + [final ? 1 : 0]
    }
}

/// Seals a plaintext stream chunk by chunk. Feed plaintext with `write`, end with `finish`; each
/// call returns the bytes to append to the file.
public struct BackupSealer: Sendable {
    private let key: SymmetricKey
    private let noncePrefix: [UInt8]
    public let header: [UInt8]
    private var pending: [UInt8] = []
    private var index: UInt64 = 0
    private var headerWritten = false
    private var finished = false

    public init(passphrase: [UInt8], derivation: BackupArchive.KeyDerivation = .init()) throws {
        var salt = [UInt8](repeating: 0, count: 16)
        var prefix = [UInt8](repeating: 0, count: 8)
        var generator = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = generator.next() }
        for i in prefix.indices { prefix[i] = generator.next() }
        self.key = try derivation.key(passphrase: passphrase, salt: salt)
        self.noncePrefix = prefix
        self.header = BackupArchive.magic + [BackupArchive.version, BackupArchive.kdfScrypt, derivation.log2N, derivation.r, derivation.p] + salt + prefix
    }

    /// The header followed by every chunk that is now full.
    public mutating func write(_ bytes: some Collection<UInt8>) throws -> [UInt8] {
        precondition(!finished, "write after finish")
        var out: [UInt8] = headerWritten ? [] : header
        headerWritten = true
        pending.append(contentsOf: bytes)
        while pending.count > BackupArchive.chunkSize {
            out += try seal(Array(pending.prefix(BackupArchive.chunkSize)), final: false)
            pending.removeFirst(BackupArchive.chunkSize)
        }
        return out
    }

    /// The last chunk, marked final (it may be empty).
    public mutating func finish() throws -> [UInt8] {
        precondition(!finished, "finish twice")
        var out: [UInt8] = headerWritten ? [] : header
        headerWritten = true
        out += try seal(pending, final: true)
        pending = []
        finished = true
        return out
    }

    private mutating func seal(_ plaintext: [UInt8], final: Bool) throws -> [UInt8] {
        let box = try AES.GCM.seal(plaintext, using: key, nonce: BackupArchive.nonce(prefix: noncePrefix, index: index),
                                   authenticating: BackupArchive.authenticatedData(header: header, index: index, final: final))
        index += 1
        let body = Array(box.ciphertext) + Array(box.tag)
        return withUnsafeBytes(of: UInt32(body.count).bigEndian, Array.init) + body
    }
}

/// Opens a sealed stream as it arrives: `feed` returns the plaintext of every chunk completed by
/// the bytes given; `finish` checks the final chunk was seen and nothing followed it.
public struct BackupOpener: Sendable {
    private let passphrase: [UInt8]
    private var header: [UInt8]?
    private var key: SymmetricKey?
    private var buffer: [UInt8] = []
    private var index: UInt64 = 0
    private var sawFinal = false

    public init(passphrase: [UInt8]) { self.passphrase = passphrase }

    public mutating func feed(_ bytes: some Collection<UInt8>) throws(BackupArchive.Failure) -> [UInt8] {
        buffer.append(contentsOf: bytes)
        var out: [UInt8] = []
        if header == nil {
            guard buffer.count >= BackupArchive.headerSize else {
                if !BackupArchive.magic.starts(with: buffer.prefix(4)) { throw .notABackup }
                return []
            }
            let candidate = Array(buffer.prefix(BackupArchive.headerSize))
            guard Array(candidate.prefix(4)) == BackupArchive.magic else { throw .notABackup }
            guard candidate[4] == BackupArchive.version, candidate[5] == BackupArchive.kdfScrypt else { throw .unsupportedVersion(candidate[4]) }
            let derivation = BackupArchive.KeyDerivation(log2N: candidate[6], r: candidate[7], p: candidate[8])
            // A forged header could ask for an absurd scrypt cost: refuse what `create` never writes.
            guard (10...20).contains(derivation.log2N), (1...16).contains(derivation.r), (1...4).contains(derivation.p) else { throw .notABackup }
            do { key = try derivation.key(passphrase: passphrase, salt: Array(candidate[9..<25])) } catch { throw .notABackup }
            header = candidate
            buffer.removeFirst(BackupArchive.headerSize)
        }
        while buffer.count >= 4 {
            if sawFinal { throw .trailingData }
            let length = Int(buffer[0]) << 24 | Int(buffer[1]) << 16 | Int(buffer[2]) << 8 | Int(buffer[3])
            guard length >= BackupArchive.tagSize, length <= BackupArchive.chunkSize + BackupArchive.tagSize else { throw .wrongPassphraseOrDamaged(chunk: index) }
            guard buffer.count >= 4 + length else { break }
            let body = Array(buffer[4..<(4 + length)])
            buffer.removeFirst(4 + length)
            out += try open(body)
        }
        if sawFinal && !buffer.isEmpty { throw .trailingData }
        return out
    }

    public func finish() throws(BackupArchive.Failure) {
        if header == nil, !buffer.isEmpty, !BackupArchive.magic.starts(with: buffer.prefix(4)) { throw .notABackup }
        guard sawFinal else { throw .truncated }
        guard buffer.isEmpty else { throw .trailingData }
    }

    private mutating func open(_ body: [UInt8]) throws(BackupArchive.Failure) -> [UInt8] {
        guard let key, let header else { throw .notABackup }
        let prefix = Array(header[25..<33])
        for final in [false, true] {
            do {
                let box = try AES.GCM.SealedBox(nonce: BackupArchive.nonce(prefix: prefix, index: index),
                                                ciphertext: body.dropLast(BackupArchive.tagSize), tag: body.suffix(BackupArchive.tagSize))
                let plaintext = try AES.GCM.open(box, using: key, authenticating: BackupArchive.authenticatedData(header: header, index: index, final: final))
                index += 1
                sawFinal = final
                return Array(plaintext)
            } catch {
                continue
            }
        }
        throw .wrongPassphraseOrDamaged(chunk: index)
    }
}

/// The entries inside a backup's plaintext: encoding for the writer, an incremental decoder for
/// the reader (an entry's bytes arrive in pieces as chunks open).
public enum BackupEntries {
    public static let maxNameBytes = 255

    public static func entryHeader(name: String, size: UInt64) -> [UInt8] {
        let utf8 = Array(name.utf8)
        precondition(!utf8.isEmpty && utf8.count <= maxNameBytes, "entry names are written by the CLI, 1–255 bytes")
        return withUnsafeBytes(of: UInt16(utf8.count).bigEndian, Array.init) + utf8 + withUnsafeBytes(of: size.bigEndian, Array.init)
    }

    public static let end: [UInt8] = [0, 0]

    /// What the decoder found in the bytes fed to it.
    public enum Event: Equatable, Sendable {
        case begin(name: String, size: UInt64)
        case bytes([UInt8])
        case end(name: String)
        case finished
    }

    public struct Decoder: Sendable {
        private var buffer: [UInt8] = []
        private var current: (name: String, remaining: UInt64)?
        private var done = false
        public init() {}

        public mutating func feed(_ bytes: [UInt8]) throws(BackupArchive.Failure) -> [Event] {
            buffer += bytes
            var events: [Event] = []
            while true {
                if done {
                    if !buffer.isEmpty { throw .malformedEntries("bytes after the end of the entries") }
                    return events
                }
                if let (name, remaining) = current {
                    if remaining == 0 { events.append(.end(name: name)); current = nil; continue }
                    guard !buffer.isEmpty else { return events }
                    let take = Int(min(UInt64(buffer.count), remaining))
                    events.append(.bytes(Array(buffer.prefix(take))))
                    buffer.removeFirst(take)
                    current = (name, remaining - UInt64(take))
                    continue
                }
                guard buffer.count >= 2 else { return events }
                let nameLength = Int(buffer[0]) << 8 | Int(buffer[1])
                if nameLength == 0 { buffer.removeFirst(2); done = true; events.append(.finished); continue }
                guard nameLength <= BackupEntries.maxNameBytes else { throw .malformedEntries("an entry name of \(nameLength) bytes") }
                guard buffer.count >= 2 + nameLength + 8 else { return events }
                guard let name = String(validating: buffer[2..<(2 + nameLength)], as: UTF8.self),
                      !name.contains("/"), !name.hasPrefix("."), !name.contains("\0") else {
                    throw .malformedEntries("an entry name that is not a plain file name")
                }
                let sizeBytes = buffer[(2 + nameLength)..<(2 + nameLength + 8)]
                let size = sizeBytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                buffer.removeFirst(2 + nameLength + 8)
                current = (name, size)
                events.append(.begin(name: name, size: size))
            }
        }

        public func finish() throws(BackupArchive.Failure) {
            guard done else { throw .malformedEntries("the entries end early") }
        }
    }
}
