import Foundation
import OneSealPrivacy
import Testing

/// The sealed backup format chunk by chunk (decisions D4): what opens, and every way a file that
/// was changed, cut, extended or opened with the wrong passphrase is refused.
@Suite struct BackupArchiveTests {
    /// A cheap scrypt cost, so the suite runs in milliseconds (the CLI writes 2^15).
    static let fast = BackupArchive.KeyDerivation(log2N: 10, r: 8, p: 1)
    static let passphrase = Array("correct horse battery staple".utf8)

    static func seal(_ plaintext: [UInt8], pieces: Int = 3) throws -> [UInt8] {
        var sealer = try BackupSealer(passphrase: passphrase, derivation: fast)
        var out: [UInt8] = []
        let step = max(1, plaintext.count / pieces)
        var offset = 0
        while offset < plaintext.count {
            out += try sealer.write(plaintext[offset..<min(offset + step, plaintext.count)])
            offset += step
        }
        out += try sealer.finish()
        return out
    }

    static func open(_ sealed: [UInt8], passphrase: [UInt8] = passphrase, feedSize: Int = 4096) throws -> [UInt8] {
        var opener = BackupOpener(passphrase: passphrase)
        var out: [UInt8] = []
        var offset = 0
        while offset < sealed.count {
            out += try opener.feed(sealed[offset..<min(offset + feedSize, sealed.count)])
            offset += feedSize
        }
        try opener.finish()
        return out
    }

    static func bytes(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) } }

    @Test func roundTripsAcrossChunks() throws {
        for size in [0, 1, BackupArchive.chunkSize - 1, BackupArchive.chunkSize, BackupArchive.chunkSize + 1, 2 * BackupArchive.chunkSize + 12345] {
            let plaintext = Self.bytes(size)
            #expect(try Self.open(Self.seal(plaintext)) == plaintext, "size \(size)")
        }
    }

    @Test func wrongPassphraseIsRefusedAtTheFirstChunk() throws {
        let sealed = try Self.seal(Self.bytes(1000))
        #expect(throws: BackupArchive.Failure.wrongPassphraseOrDamaged(chunk: 0)) { try Self.open(sealed, passphrase: Array("wrong".utf8)) }
    }

    @Test func aFlippedByteAnywhereInTheBodyIsRefused() throws {
        let sealed = try Self.seal(Self.bytes(BackupArchive.chunkSize + 100))
        for position in [BackupArchive.headerSizeForTests + 5, sealed.count / 2, sealed.count - 1] {
            var damaged = sealed
            damaged[position] ^= 0x40
            #expect(throws: BackupArchive.Failure.self) { try Self.open(damaged) }
        }
        var header = sealed
        header[12] ^= 1  // the salt: a different key, nothing opens
        #expect(throws: BackupArchive.Failure.wrongPassphraseOrDamaged(chunk: 0)) { try Self.open(header) }
    }

    @Test func aFileCutAfterAFullChunkIsTruncatedNotShorter() throws {
        let sealed = try Self.seal(Self.bytes(2 * BackupArchive.chunkSize + 10))
        // The first chunk alone: it opens, but it was not written as the final one.
        let firstChunkEnd = BackupArchive.headerSizeForTests + 4 + BackupArchive.chunkSize + 16
        #expect(throws: BackupArchive.Failure.truncated) { try Self.open(Array(sealed.prefix(firstChunkEnd))) }
        #expect(throws: BackupArchive.Failure.truncated) { try Self.open(Array(sealed.dropLast(1))) }
    }

    @Test func bytesAfterTheFinalChunkAreRefused() throws {
        let sealed = try Self.seal(Self.bytes(100))
        #expect(throws: BackupArchive.Failure.trailingData) { try Self.open(sealed + [0, 0, 0, 0, 1]) }
        // A second copy of the final chunk appended (a replay) is refused too.
        let finalChunk = Array(sealed.suffix(from: BackupArchive.headerSizeForTests))
        #expect(throws: BackupArchive.Failure.trailingData) { try Self.open(sealed + finalChunk) }
    }

    @Test func swappedChunksAreRefused() throws {
        let sealed = try Self.seal(Self.bytes(3 * BackupArchive.chunkSize))
        let h = BackupArchive.headerSizeForTests
        let chunk = 4 + BackupArchive.chunkSize + 16
        let swapped = Array(sealed[0..<h]) + Array(sealed[(h + chunk)..<(h + 2 * chunk)]) + Array(sealed[h..<(h + chunk)]) + Array(sealed[(h + 2 * chunk)...])
        #expect(throws: BackupArchive.Failure.wrongPassphraseOrDamaged(chunk: 0)) { try Self.open(swapped) }
    }

    @Test func anotherFileIsNotABackup() throws {
        #expect(throws: BackupArchive.Failure.notABackup) { try Self.open(Array("PGDMP custom dump".utf8)) }
        #expect(throws: BackupArchive.Failure.truncated) { try Self.open(Array("OSB".utf8)) }
    }

    @Test func entriesDecodeInAnyPieces() throws {
        let a = Self.bytes(70_000), b: [UInt8] = []
        let stream = BackupEntries.entryHeader(name: "intake.dump", size: UInt64(a.count)) + a
            + BackupEntries.entryHeader(name: "seal-key", size: 0) + b + BackupEntries.end
        for piece in [1, 7, 4096, stream.count] {
            var decoder = BackupEntries.Decoder()
            var files: [String: [UInt8]] = [:]
            var current = ""
            var offset = 0
            while offset < stream.count {
                for event in try decoder.feed(Array(stream[offset..<min(offset + piece, stream.count)])) {
                    switch event {
                    case .begin(let name, _): current = name; files[name] = []
                    case .bytes(let bytes): files[current]! += bytes
                    case .end, .finished: break
                    }
                }
                offset += piece
            }
            try decoder.finish()
            #expect(files == ["intake.dump": a, "seal-key": b], "pieces of \(piece)")
        }
    }

    @Test func entryNamesThatCouldEscapeTheDirectoryAreRefused() throws {
        for name in ["../etc/passwd", "a/b", ".hidden"] {
            let utf8 = Array(name.utf8)
            let stream = [0, UInt8(utf8.count)] + utf8 + [UInt8](repeating: 0, count: 8)
            var decoder = BackupEntries.Decoder()
            #expect(throws: BackupArchive.Failure.self) { _ = try decoder.feed(stream) }
        }
        var early = BackupEntries.Decoder()
        _ = try early.feed(BackupEntries.entryHeader(name: "x", size: 10) + [1, 2])
        #expect(throws: BackupArchive.Failure.self) { try early.finish() }
    }
}

extension BackupArchive {
    static var headerSizeForTests: Int { 4 + 1 + 1 + 3 + 16 + 8 }
}
