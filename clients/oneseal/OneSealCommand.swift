import ArgumentParser
import Foundation
import GRPCCore
import Logging
import OneSealAuth
import OneSealPrivacy
import OneSealProto
import OneSealWire

/// `oneseal`: the operator's and integrator's command line. Every command prints text for people
/// or, with `--json`, one JSON value for scripts; every failed call is reported the same way
/// (FailureReport) with the exit statuses documented in docs/operators.md.
@main
struct OneSealCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oneseal",
        abstract: "Operate and call OneSeal nodes.",
        subcommands: [
            Keys.self,
            Token.self,
            Health.self,
            NodeCommand.self,
            Catalogue.self,  // intake (#3)
            ApplicationCommand.self,
            MaterialCommand.self,  // intake's material store (#18)
            CaseCommand.self, Audit.self,  // approval (#4)
            Licence.self,  // certificate (#5)
            Supervision.self,  // supervision (#6)
            Report.self,  // evaluation (#7)
            CaseFileReviewCommand.self,  // 案卷评查 (#20 item 10)
            StaffCommand.self,  // the web workbench's staff accounts (#19)
            OutboxCommand.self,  // dead letters of a service's outbox (#15)
            Certs.self,  // the node CA and TLS certificates (#17)
            Protos.self,  // the contracts for gRPC tools (#17 item 4)
            Backup.self,  // a node's databases and keys, sealed (#22 item 4)
        ]
    )

    /// ArgumentParser's own main, plus one place that reports failed calls (service, status,
    /// field violations) and exits with status 2.
    static func main() async {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = ProcessInfo.processInfo.environment["ONESEAL_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .error
            return handler
        }
        var command: ParsableCommand
        do { command = try parseAsRoot() } catch { Self.exit(withError: error) }
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as CallFailure {
            FailureReport.report(failure, asJSON: CommandLine.arguments.contains("--json"))
            Self.exit(withError: ExitCode(FailureReport.rpcExitCode))
        } catch let invalid as ValidationError {
            // A bad value found once the command ran (a file, a key, a choice): the message names
            // the option; the usage line would be the root's, so it is left out.
            FileHandle.standardError.write(Data("Error: \(invalid.message)\n".utf8))
            Self.exit(withError: ExitCode.validationFailure)
        } catch {
            Self.exit(withError: error)
        }
    }
}

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ed25519 signing keys for bearer tokens.",
        subcommands: [Generate.self, Public.self, DataKey.self, Pseudonym.self]
    )

    struct DataKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "data",
            abstract: "Write a new key file for sealing personal data (ONESEAL_DATA_KEY_FILE), mode 0600.")
        @Option(help: "Where to write it.") var out: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            guard !FileManager.default.fileExists(atPath: out) else {
                throw ValidationError("\(out) exists; refusing to overwrite a key (to rotate, put a new key on the first line and keep the old ones below)")
            }
            let text = "# OneSeal data keys: the first seals new data, the others still open old data; never delete the last line\n" + DataKeyring.generateKeyText() + "\n"
            guard FileManager.default.createFile(atPath: out, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("cannot write \(out)")
            }
            if output.json { try output.emit(["file": out], text: "") }
        }
    }

    /// Logs name callers by pseudonym only (LogPseudonym): this is how an operator finds the
    /// lines of one person, on the node, with the node's key.
    struct Pseudonym: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the log pseudonym (sub~…) of a token subject, as the node whose service key this is writes it.")
        @Option(help: "The node's service key file (ONESEAL_SERVICE_KEY_FILE).") var key: String
        @Option(help: "The token subject, e.g. a staff number.") var subject: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let signer = try TokenSigningKey(contentsOfFile: key, issuer: "oneseal")
            LogPseudonym.configure(secret: signer.privateKey.rawRepresentation)
            let pseudonym = LogPseudonym.of(subject)
            try output.emit(["pseudonym": pseudonym], text: pseudonym)
        }
    }

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a new private key file (mode 0600) and print its public key.")
        @Option(help: "Where to write the private key (base64 of 32 bytes).") var out: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            guard !FileManager.default.fileExists(atPath: out) else {
                throw ValidationError("\(out) exists; refusing to overwrite a key")
            }
            let key = TokenSigningKey.generate(issuer: "oneseal")
            guard FileManager.default.createFile(atPath: out, contents: Data((key.base64 + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("cannot write \(out)")
            }
            let publicKey = key.publicKey.rawRepresentation.base64EncodedString()
            try output.emit(["file": out, "public_key": publicKey, "key_id": key.keyID], text: publicKey)
        }
    }

    struct Public: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the public key of a private key file (for ONESEAL_TOKEN_PUBLIC_KEYS).")
        @Option(help: "Private key file.") var key: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let signer = try TokenSigningKey(contentsOfFile: key, issuer: "oneseal")
            let publicKey = signer.publicKey.rawRepresentation.base64EncodedString()
            try output.emit(["public_key": publicKey, "key_id": signer.keyID], text: publicKey)
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
        @Option(help: "Lifetime in seconds (default: 8 h, or the role's maximum if shorter: node 600, applicant and integrator 3600, staff 43200).") var ttl: Int?
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard Role(rawValue: role) != nil else { throw ValidationError("unknown role '\(role)'") }
            guard DivisionCode.isValid(node) else { throw ValidationError("node must be a 6-digit division code") }
            if let ttl, let chosen = Role(rawValue: role) {
                // Verifiers refuse longer tokens (TokenLimits): say so now, not at the first call.
                let maximum = TokenLimits.maximumLifetime(for: chosen)
                guard ttl > 0, ttl <= maximum else { throw ValidationError("--ttl must be 1...\(maximum) seconds for role '\(role)'") }
            }
            if role == Role.department.rawValue && department == nil {
                throw ValidationError("role 'department' needs --department")
            }
        }

        func run() throws {
            let signer = try TokenSigningKey(contentsOfFile: key, issuer: node)
            let chosen = Role(rawValue: role)!
            let seconds = ttl ?? Int(TokenLimits.defaultLifetime(for: chosen))
            let token = try signer.mint(subject: subject, role: chosen, node: node, department: department, lifetime: .seconds(Int64(seconds)))
            var value: [String: Any] = ["token": token, "subject": subject, "role": role, "node": node, "expires_in_seconds": seconds]
            if let department { value["department"] = department }
            try output.emit(value, text: token)
        }
    }
}
