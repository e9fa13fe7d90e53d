import Foundation
import Logging
import OneSealTLS
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Reloads the process's TLS material on SIGHUP and whenever one of its files changes (checked
/// every `interval`), so rotating a certificate needs no restart and drops no call: running
/// connections keep the material they started with, new ones take the new material.
///
/// Why both: SIGHUP is what operators and systemd's `reload` send; the file check covers
/// containers where certificates arrive through a mounted volume and nobody can send a signal.
/// A reload that fails (a file half-copied, a key not matching its certificate) keeps the old
/// material and says why; the next change or SIGHUP tries again.
public struct TLSReloadService: Service {
    let source: TLSMaterialSource
    let logger: Logger
    let interval: Duration

    public init(source: TLSMaterialSource, logger: Logger, interval: Duration = .seconds(10)) {
        self.source = source
        self.logger = logger
        self.interval = interval
    }

    /// Size and modification time of each file: a change of either means "look again".
    static func fingerprint(_ files: TLSFiles) -> [String] {
        fingerprint(paths: [files.certificateFile, files.keyFile, files.trustFile].compactMap { $0 })
    }

    /// The same for any files (the web front's HTTPS certificate is watched the same way).
    public static func fingerprint(paths: [String]) -> [String] {
        paths.map { path in
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let size = (attributes?[.size] as? NSNumber)?.int64Value ?? -1
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1
            return "\(path):\(size):\(modified)"
        }
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        // The files as last loaded, by either path (a SIGHUP reload is not repeated by the watch).
        let loaded = Remembered(Self.fingerprint(self.source.current.files))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in signals {
                    let now = Self.fingerprint(self.source.current.files)
                    if self.reload(reason: "SIGHUP") { loaded.set(now) }
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: self.interval)
                    let now = Self.fingerprint(self.source.current.files)
                    if now != loaded.value {
                        // Only a successful load is remembered: a failed one is retried next tick.
                        if self.reload(reason: "files changed") { loaded.set(now) }
                    }
                }
            }
            try await gracefulShutdown()
            group.cancelAll()
        }
    }

    private final class Remembered: Sendable {
        private let state: Mutex<[String]>
        init(_ value: [String]) { self.state = Mutex(value) }
        var value: [String] { self.state.withLock { $0 } }
        func set(_ value: [String]) { self.state.withLock { $0 = value } }
    }

    @discardableResult
    func reload(reason: String) -> Bool {
        do {
            let material = try self.source.reload()
            self.logger.notice("TLS material reloaded", metadata: [
                "reason": "\(reason)", "identity": "\(material.identity?.uri ?? "-")",
                "not_after": "\(material.certificateChain.first.map { $0.notValidAfter.formatted(.iso8601) } ?? "-")",
                "trusted_cas": "\(material.trust.authorities.count)",
            ])
            return true
        } catch {
            self.logger.error("TLS reload failed; keeping the previous certificate", metadata: ["reason": "\(reason)", "error": "\(error)"])
            return false
        }
    }
}
