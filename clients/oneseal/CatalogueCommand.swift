import ArgumentParser
import Foundation
import GRPCCore
import IntakeContracts
import IntakeRules
import OneSealAuth
import OneSealProto
import OneSealWire

/// `oneseal catalogue import|export|list`: the item catalogue as a file (format oneseal-catalogue/1,
/// Services/Intake/catalogue/README.md), moved through the intake service's RPCs like any
/// integrator would.
struct Catalogue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import, export or list a node's item catalogue (oneseal-catalogue/1 JSON).",
        subcommands: [Import.self, Export.self, List.self]
    )

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Publish every item of a catalogue file (a new version only where something changed).")
        @Option(help: "Catalogue file (oneseal-catalogue/1).") var file: String
        @Option(help: "Why this publication (shown in each item's history).") var note: String = "catalogue import"
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let items: [CatalogueItem]
            do { items = try CatalogueFile.decode(try Data(contentsOf: URL(fileURLWithPath: file))) } catch {
                throw ValidationError("--file \(file): \(error)")
            }
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .operator)
            let progress = ProgressLine("importing", total: items.count, json: output.json)
            let results = try await connection.intake { intake in
                var results: [(item: CatalogueItem, response: Intake_UpsertItemResponse)] = []
                for item in items {
                    var request = Intake_UpsertItemRequest()
                    request.item = item.proto(version: 0)
                    request.changeNote = note
                    results.append((item, try await intake.upsertItem(request, metadata: metadata)))
                    progress.advance()
                }
                return results
            }
            progress.finish()
            let created = results.filter(\.response.createdNewVersion).count
            let json: [String: Any] = [
                "items": items.count, "new_versions": created,
                "results": results.map {
                    ["implementation_code": $0.item.implementationCode, "name": $0.item.name,
                     "version": Int($0.response.item.version), "published": $0.response.createdNewVersion] as [String: Any]
                },
            ]
            var lines = results.map { "\($0.item.implementationCode) \($0.response.createdNewVersion ? "published" : "unchanged") v\($0.response.item.version) \($0.item.name)" }
            lines.append("\(items.count) items, \(created) new versions")
            try output.emit(json, text: lines.joined(separator: "\n"))
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the current version of every item to a catalogue file (no token needed).")
        @Option(help: "Where to write the file ('-' for standard output).") var out: String
        @Flag(help: "Include inactive items.") var includeInactive = false
        @OptionGroup var connection: Connection
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let items = try await allItems(connection, includeInactive: includeInactive).map(CatalogueItem.init(proto:))
            let data = CatalogueFile.encode(items)
            if out == "-" {
                FileHandle.standardOutput.write(data)
            } else {
                try data.write(to: URL(fileURLWithPath: out))
                try output.emit(["items": items.count, "file": out], text: "\(items.count) items written to \(out)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the current items: code, version, tier, promised days, name (no token needed).")
        @Option(help: "Free-text match on name or codes.") var query: String = ""
        @Flag(help: "Include inactive items.") var includeInactive = false
        @OptionGroup var connection: Connection
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let items = try await allItems(connection, includeInactive: includeInactive, query: query)
            let lines = items.map { item in
                "\(item.implementationCode)  v\(item.version)  \(Text.name(item.tier))  \(item.promisedDays)d  \(item.name)\(item.active ? "" : "  (inactive)")"
            }
            try output.emit(try JSONOutput.values(items), text: (lines + ["\(items.count) items"]).joined(separator: "\n"))
        }
    }
}

/// Every current item, page by page (ListItems is public).
func allItems(_ connection: Connection, includeInactive: Bool, query: String = "") async throws -> [Intake_Item] {
    try await connection.intake { intake in
        var request = Intake_ListItemsRequest()
        request.includeInactive = includeInactive
        request.query = query
        request.page.pageSize = 500
        return try await allPages { token in
            request.page.pageToken = token
            let response = try await intake.listItems(request)
            return (response.items, response.page.nextPageToken)
        }
    }
}
