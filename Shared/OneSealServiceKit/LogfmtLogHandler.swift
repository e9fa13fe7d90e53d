import Foundation
import Logging
import Synchronization

/// One log line per event, `key=value` pairs (logfmt), so operators can grep and ship them:
/// `ts=2026-11-23T01:02:03.456Z level=info service=intake node=371300 msg="listening" address=…`.
public struct LogfmtLogHandler: LogHandler {
    public var metadata: Logger.Metadata
    public var logLevel: Logger.Level
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String

    public init(label: String, level: Logger.Level = .info, metadata: Logger.Metadata = [:]) {
        self.label = label
        self.logLevel = level
        self.metadata = metadata
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = self.metadata
        if let provided = self.metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var line = "ts=\(Self.timestamp()) level=\(event.level) logger=\(self.label) msg=\(Self.quote(event.message.description))"
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line += " \(key)=\(Self.quote(value.description))"
        }
        line += "\n"
        // One write(2) per line under a lock, so lines from concurrent tasks never interleave.
        Self.output.withLock { _ in FileHandle.standardOutput.write(Data(line.utf8)) }
    }

    private static let output = Mutex(())

    static func quote(_ text: String) -> String {
        if !text.isEmpty, !text.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) { return text }
        let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
        return "\"\(escaped)\""
    }

    static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
