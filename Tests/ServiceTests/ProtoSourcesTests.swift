import Foundation
import OneSealServiceKit
import Testing

/// The contracts handed to integrators (`oneseal protos export`, `GET /protos.tar`) are exactly
/// proto/ — decision G3.
@Suite("Proto sources for integrators")
struct ProtoSourcesTests {
    static let proto = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("proto")

    static func onDisk() throws -> [String: String] {
        var files: [String: String] = [:]
        let enumerator = FileManager.default.enumerator(at: proto, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            let path = String(url.standardizedFileURL.path.dropFirst(proto.standardizedFileURL.path.count + 1))
            guard path.hasSuffix(".proto") || path == "README.md" else { continue }
            files[path] = try String(contentsOf: url, encoding: .utf8)
        }
        return files
    }

    @Test("ProtoSources.swift is proto/ as it is now (else run scripts/embed-protos)")
    func embeddedCopyIsFresh() throws {
        let disk = try Self.onDisk()
        let embedded = Dictionary(uniqueKeysWithValues: ProtoSources.files.map { ($0.path, $0.text) })
        #expect(Set(embedded.keys) == Set(disk.keys), "stale: run scripts/embed-protos")
        for (path, text) in disk {
            #expect(embedded[path] == text, "\(path) differs: run scripts/embed-protos")
        }
        #expect(disk.keys.contains("oneseal/intake/v1/intake.proto"))
    }

    @Test("export writes the tree protoc needs, and the tar file unpacks to the same files")
    func exportAndTar() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-protos-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let written = try ProtoArchive.export(to: directory.appendingPathComponent("exported"))
        #expect(written.count == ProtoSources.files.count)
        let disk = try Self.onDisk()
        for (path, text) in disk {
            #expect(try String(contentsOf: directory.appendingPathComponent("exported/\(path)"), encoding: .utf8) == text)
        }
        let tarFile = directory.appendingPathComponent("protos.tar")
        try Data(ProtoArchive.tar).write(to: tarFile)
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tar.arguments = ["tar", "-xf", tarFile.path, "-C", directory.path]
        try tar.run()
        tar.waitUntilExit()
        #expect(tar.terminationStatus == 0)
        for (path, text) in disk {
            #expect(try String(contentsOf: directory.appendingPathComponent("oneseal-proto/\(path)"), encoding: .utf8) == text)
        }
    }
}
