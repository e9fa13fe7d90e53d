import ArgumentParser
import Foundation
import GRPCCore
import OneSealAuth
import OneSealPrivacy
import OneSealProto
import OneSealWire

/// `oneseal`: the operator's and integrator's command line.
@main
struct OneSealCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oneseal",
        abstract: "Operate and call OneSeal nodes.",
        subcommands: [
            Keys.self,
            Token.self,
            Health.self,
            Catalogue.self,
            Audit.self, CaseCommand.self, // approval (#4)
            Licence.self,  // certificate (#5)
            // supervision (#6)
            Supervision.self,
            // evaluation (#7)
            Report.self,
        ]
    )
}

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ed25519 signing keys for bearer tokens.",
        subcommands: [Generate.self, Public.self, DataKey.self]
    )

    struct DataKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "data",
            abstract: "Write a new key file for sealing personal data (ONESEAL_DATA_KEY_FILE), mode 0600.")
        @Option(help: "Where to write it.") var out: String

        func run() throws {
            guard !FileManager.default.fileExists(atPath: out) else {
                throw ValidationError("\(out) exists; refusing to overwrite a key (to rotate, put a new key on the first line and keep the old ones below)")
            }
            let text = "# OneSeal data keys: the first seals new data, the others still open old data; never delete the last line\n" + DataKeyring.generateKeyText() + "\n"
            guard FileManager.default.createFile(atPath: out, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("cannot write \(out)")
            }
        }
    }

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a new private key file (mode 0600) and print its public key.")
        @Option(help: "Where to write the private key (base64 of 32 bytes).") var out: String

        func run() throws {
            guard !FileManager.default.fileExists(atPath: out) else {
                throw ValidationError("\(out) exists; refusing to overwrite a key")
            }
            let key = TokenSigningKey.generate(issuer: "oneseal")
            guard FileManager.default.createFile(atPath: out, contents: Data((key.base64 + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("cannot write \(out)")
            }
            print(key.publicKey.rawRepresentation.base64EncodedString())
        }
    }

    struct Public: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the public key of a private key file (for ONESEAL_TOKEN_PUBLIC_KEYS).")
        @Option(help: "Private key file.") var key: String

        func run() throws {
            print(try TokenSigningKey(contentsOfFile: key, issuer: "oneseal").publicKey.rawRepresentation.base64EncodedString())
        }
    }
}

struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Bearer tokens.", subcommands: [Mint.self])

    struct Mint: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mint a signed bearer token for local use.")
        @Option(help: "Private key file (oneseal keys generate).") var key: String
        @Option(help: "Who the token is for, e.g. a staff number.") var subject: String
        @Option(help: "One of: \(Role.allCases.map(\.rawValue).joined(separator: ", ")).") var role: String
        @Option(help: "Node (GB/T 2260 code), e.g. 371300.") var node: String
        @Option(help: "Supervising department, for role 'department'.") var department: String?
        @Option(help: "Lifetime in seconds.") var ttl: Int = 8 * 3600

        func validate() throws {
            guard Role(rawValue: role) != nil else { throw ValidationError("unknown role '\(role)'") }
            guard DivisionCode.isValid(node) else { throw ValidationError("node must be a 6-digit division code") }
            guard ttl > 0 else { throw ValidationError("ttl must be positive") }
            if role == Role.department.rawValue && department == nil {
                throw ValidationError("role 'department' needs --department")
            }
        }

        func run() throws {
            let signer = try TokenSigningKey(contentsOfFile: key, issuer: node)
            print(try signer.mint(subject: subject, role: Role(rawValue: role)!, node: node, department: department, lifetime: .seconds(ttl)))
        }
    }
}

struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check a service's health (no token needed).")
    @Option(help: "host:port of the service.") var address: String
    @Option(help: "Give up after this many seconds.") var timeout: Int = 5

    func run() async throws {
        let parts = address.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { throw ValidationError("address must be host:port") }
        let transport = OneSealClientTransport(host: String(parts[0]), port: port)
        let response = try await withGRPCClient(transport: transport) { client in
            var options = CallOptions.defaults
            options.timeout = .seconds(timeout)
            return try await Health_Health.Client(wrapping: client).check(Health_CheckRequest(), options: options)
        }
        let components = response.components.map { "\($0.name)=\($0.status)\($0.detail.isEmpty ? "" : " (\($0.detail))")" }
        print("\(response.service)@\(response.node) \(response.status) version=\(response.version) \(components.joined(separator: " "))")
        if response.status != .serving { throw ExitCode(1) }
    }
}
