import ArgumentParser
import Foundation
import GRPCCore
import OneSealAuth
import OneSealProto
import SwiftProtobuf

/// 互认 (mutual recognition) the way an operator sets it up between two halls: each exports its
/// own seal keys to a file (`issuers export`), the files travel through the bureaus' official
/// channel, and each operator imports the other's (`issuers import`), comparing the key ids read
/// out over the phone. After that a licence of either node verifies at both.
struct Issuers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mutual recognition (互认): export this node's seal keys, import a peer node's.",
        subcommands: [Export.self, Import.self, List.self]
    )

    /// The file format: `{"format": "oneseal-issuers/1", "issuers": [TrustedIssuer as proto JSON]}`.
    static let format = "oneseal-issuers/1"

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write this node's own seal keys (public) to a file for a peer node (no token needed).")
        @Option(help: "Where to write the issuers file.") var out: String
        @OptionGroup var connection: Connection
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let own = try await connection.certificate { certificate in
                try await certificate.listTrustedIssuers(Certificate_ListTrustedIssuersRequest()).issuers.filter(\.own)
            }
            guard !own.isEmpty else { throw ValidationError("certificate@\(connection.node) lists no own seal key; is its ONESEAL_SEAL_KEY_FILE set?") }
            let exported = own.map { issuer -> Certificate_TrustedIssuer in
                var entry = issuer
                entry.own = false
                entry.clearAddedBy()
                entry.clearAddedAt()
                return entry
            }
            let document: [String: Any] = ["format": Issuers.format, "node": connection.node, "issuers": try JSONOutput.values(exported)]
            let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
            guard FileManager.default.createFile(atPath: out, contents: data) else { throw ValidationError("cannot write \(out)") }
            let lines = exported.map { "\($0.issuerName) \($0.issuerCode) key \($0.keyID)" } + ["\(exported.count) seal key(s) of \(connection.node) written to \(out)"]
            try output.emit(["file": out, "node": connection.node, "key_ids": exported.map(\.keyID)], text: lines.joined(separator: "\n"))
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Trust the seal keys of a peer node's issuers file (operator of this node).")
        @Option(help: "An issuers file written by `oneseal licence issuers export` at the peer node.") var file: String
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let issuers = try Issuers.read(file)
            guard !issuers.contains(where: { $0.node == connection.node }) else {
                throw ValidationError("\(file) holds node \(connection.node)'s own keys; import a peer node's file")
            }
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .operator)
            try await connection.certificate { certificate in
                for issuer in issuers {
                    _ = try await certificate.addTrustedIssuer(Certificate_AddTrustedIssuerRequest.with { $0.issuer = issuer }, metadata: metadata)
                }
            }
            let lines = issuers.map { "trusted \($0.issuerName) \($0.issuerCode) (node \($0.node)) key \($0.keyID)" }
            try output.emit(["node": connection.node, "trusted_key_ids": issuers.map(\.keyID)], text: lines.joined(separator: "\n"))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the issuers this node trusts (its own first; no token needed).")
        @OptionGroup var connection: Connection
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let issuers = try await connection.certificate { certificate in
                try await certificate.listTrustedIssuers(Certificate_ListTrustedIssuersRequest()).issuers
            }.sorted { ($0.own ? 0 : 1, $0.node) < ($1.own ? 0 : 1, $1.node) }
            let lines = issuers.map { "\($0.own ? "own " : "peer") \($0.node)  \($0.issuerName) \($0.issuerCode)  key \($0.keyID)" }
            try output.emit(try JSONOutput.values(issuers), text: lines.joined(separator: "\n"))
        }
    }

    /// The issuers of a file, each checked for the fields a trust entry needs.
    static func read(_ path: String) throws -> [Certificate_TrustedIssuer] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        guard let document = try? JSONSerialization.jsonObject(with: data) as? [String: Any], document["format"] as? String == format,
            let entries = document["issuers"] as? [Any]
        else { throw ValidationError("\(path) is not an issuers file (format \(format))") }
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = false
        return try entries.enumerated().map { index, entry in
            let json = try JSONSerialization.data(withJSONObject: entry)
            let issuer: Certificate_TrustedIssuer
            do { issuer = try Certificate_TrustedIssuer(jsonUTF8Data: json, options: options) } catch {
                throw ValidationError("\(path): issuers[\(index)]: \(error)")
            }
            guard DivisionCode.isValid(issuer.node), !issuer.issuerCode.isEmpty, !issuer.publicKey.isEmpty, !issuer.keyID.isEmpty else {
                throw ValidationError("\(path): issuers[\(index)]: node, issuer_code, key_id and public_key are required")
            }
            return issuer
        }
    }
}
