import ArgumentParser
import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore

/// How every authenticated command proves who calls: a bearer token as is (`--token` or
/// ONESEAL_TOKEN), or one minted here from a signing key file (`--key`, with `--subject`, `--role`
/// and the node of `--node` from Connection) for local use. Each command names its own default
/// role (an officer decides, a clerk accepts), so the common case needs no `--role`.
struct Credentials: ParsableArguments {
    @Option(help: "Bearer token (else --key, else ONESEAL_TOKEN).")
    var token: String?

    @Option(help: "Signing key file to mint a short-lived token from (local use; see `oneseal keys generate`).")
    var key: String?

    @Option(help: "Subject of a minted token, e.g. a staff number (default oneseal-cli).")
    var subject: String = "oneseal-cli"

    @Option(help: "Role of a minted token (default: the command's usual role; one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))).")
    var role: String?

    @Option(help: "Supervising department of a minted token, for role 'department'.")
    var tokenDepartment: String?

    /// A city's officer reads a forwarded application's scans at the county's intake with a city
    /// token (decision 54): the token's node is then not the node called.
    @Option(help: "Node of a minted token (default: the node called, --node), e.g. the city's officer reading a forwarded application's files at the county.")
    var tokenNode: String?

    func validate() throws {
        if let tokenNode, !DivisionCode.isValid(tokenNode) {
            throw ValidationError("--token-node: '\(tokenNode)' is not a 6-digit division code")
        }
        if let role, Role(rawValue: role) == nil {
            throw ValidationError("--role: unknown role '\(role)'; one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    /// The authorization metadata: `--token`, else a token minted from `--key` for `node` with
    /// `--role` or `defaultRole`, else ONESEAL_TOKEN — what is typed on the command line wins
    /// over what the shell carries.
    func metadata(node: String, defaultRole: Role) throws -> Metadata {
        var bearer = token
        if bearer == nil, let key {
            let chosen = role.flatMap(Role.init(rawValue:)) ?? defaultRole
            if chosen == .department && tokenDepartment == nil { throw ValidationError("--role department needs --token-department") }
            let signer: TokenSigningKey
            let tokenNode = tokenNode ?? node
            do { signer = try TokenSigningKey(contentsOfFile: key, issuer: tokenNode) } catch {
                throw ValidationError("--key: cannot read a signing key from \(key): \(error.localizedDescription)")
            }
            bearer = try signer.mint(subject: subject, role: chosen, node: tokenNode, department: tokenDepartment, lifetime: .seconds(600))
        }
        if bearer == nil { bearer = ProcessInfo.processInfo.environment["ONESEAL_TOKEN"].flatMap { $0.isEmpty ? nil : $0 } }
        guard let bearer else { throw ValidationError("no credentials: give --token, set ONESEAL_TOKEN, or --key to mint one") }
        var metadata = Metadata()
        metadata.addString("Bearer \(bearer)", forKey: "authorization")
        return metadata
    }
}
