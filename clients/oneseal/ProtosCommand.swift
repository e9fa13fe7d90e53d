import ArgumentParser
import Foundation
import OneSealServiceKit

/// `oneseal protos export DIR`: the contracts this build speaks, for integrators' gRPC tools
/// (`grpcurl -import-path DIR -proto …`, `protoc`, grpcio-tools). There is no gRPC server
/// reflection (decision G3); the same files come from `GET /protos.tar` on a metrics port.
struct Protos: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The .proto contracts of this build, for gRPC tools (no server reflection).",
        subcommands: [Export.self]
    )

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write every .proto (and proto/README.md) under DIR, keeping the import paths.")
        @Argument(help: "Directory to write into (created if missing; existing files of the same name are replaced).")
        var directory: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let written = try ProtoArchive.export(to: URL(fileURLWithPath: directory))
            try output.emit(written, text: "wrote \(written.count) files under \(directory)\n"
                + "e.g. grpcurl -import-path \(directory) -proto oneseal/health/v1/health.proto … oneseal.health.v1.Health/Check")
        }
    }
}
