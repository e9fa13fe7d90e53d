import ArgumentParser
import Foundation
import GRPCCore
import IntakeRules
import IntakeService
import OneSealAuth
import OneSealProto
import OneSealWire

/// `oneseal catalogue import|export`: the item catalogue as a file (format oneseal-catalogue/1,
/// Services/Intake/catalogue/README.md), moved through the intake service's RPCs like any
/// integrator would.
struct Catalogue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import or export a node's item catalogue (oneseal-catalogue/1 JSON).",
        subcommands: [Import.self, Export.self]
    )

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Publish every item of a catalogue file (a new version only where something changed).")
        @Option(help: "host:port of the node's intake service.") var address: String
        @Option(help: "Catalogue file (oneseal-catalogue/1).") var file: String
        @OptionGroup var credentials: OperatorCredentials
        @Option(help: "Why this publication (shown in each item's history).") var note: String = "catalogue import"

        func run() async throws {
            let items: [CatalogueItem]
            do { items = try CatalogueFile.decode(try Data(contentsOf: URL(fileURLWithPath: file))) } catch {
                throw ValidationError("\(file): \(error)")
            }
            let metadata = try credentials.metadata()
            var created = 0
            try await withIntake(address) { intake in
                for item in items {
                    var request = Intake_UpsertItemRequest()
                    request.item = item.proto(version: 0)
                    request.changeNote = note
                    let response = try await intake.upsertItem(request, metadata: metadata)
                    if response.createdNewVersion { created += 1 }
                    print("\(item.implementationCode) \(response.createdNewVersion ? "published" : "unchanged") v\(response.item.version) \(item.name)")
                }
            }
            print("\(items.count) items, \(created) new versions")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the current version of every item to a catalogue file.")
        @Option(help: "host:port of the node's intake service.") var address: String
        @Option(help: "Where to write the file ('-' for standard output).") var out: String
        @Flag(help: "Include inactive items.") var includeInactive = false

        func run() async throws {
            var items: [CatalogueItem] = []
            try await withIntake(address) { intake in
                var request = Intake_ListItemsRequest()
                request.includeInactive = includeInactive
                request.page.pageSize = 500
                repeat {
                    let response = try await intake.listItems(request)
                    items += response.items.map(CatalogueItem.init(proto:))
                    request.page.pageToken = response.page.nextPageToken
                } while !request.page.pageToken.isEmpty
            }
            let data = CatalogueFile.encode(items)
            if out == "-" {
                FileHandle.standardOutput.write(data)
            } else {
                try data.write(to: URL(fileURLWithPath: out))
                print("\(items.count) items written to \(out)")
            }
        }
    }
}

/// How an operator command authenticates: a token as is, or one minted from a key file.
struct OperatorCredentials: ParsableArguments {
    @Option(help: "Bearer token (or ONESEAL_TOKEN).") var token: String?
    @Option(help: "Signing key file to mint an operator token from (local use).") var key: String?
    @Option(help: "Node of the minted token.") var node: String = "371300"
    @Option(help: "Subject of the minted token.") var subject: String = "operator"

    func metadata() throws -> Metadata {
        var bearer = token ?? ProcessInfo.processInfo.environment["ONESEAL_TOKEN"]
        if bearer == nil, let key {
            bearer = try TokenSigningKey(contentsOfFile: key, issuer: node).mint(subject: subject, role: .operator, node: node, lifetime: .seconds(600))
        }
        guard let bearer else { throw ValidationError("give --token, ONESEAL_TOKEN or --key") }
        var metadata = Metadata()
        metadata.addString("Bearer \(bearer)", forKey: "authorization")
        return metadata
    }
}

func withIntake(_ address: String, _ body: (Intake_IntakeService.Client<OneSealClientTransport>) async throws -> Void) async throws {
    let parts = address.split(separator: ":")
    guard parts.count == 2, let port = Int(parts[1]) else { throw ValidationError("address must be host:port") }
    try await withGRPCClient(transport: OneSealClientTransport(host: String(parts[0]), port: port)) { client in
        try await body(Intake_IntakeService.Client(wrapping: client))
    }
}
