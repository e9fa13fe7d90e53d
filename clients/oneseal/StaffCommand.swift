import ArgumentParser
import Foundation
import OneSealPrivacy
import OneSealStore
import WebRules
import WebService

/// `oneseal staff …` (#19): the hall's staff accounts for the web workbench. It works straight on
/// the front's own database (`oneseal_web_<node>`, `--database`) with the front's own code
/// (`StaffStore`, `AccountStore.migrations`), like `oneseal outbox … --database`: the accounts are
/// the front's data, and an endpoint for them would be one more door on the process that faces the
/// internet (docs/decisions.md W32). Passwords are never typed on the command line: `add` and
/// `reset-password` print a one-time password to hand over, changed at the first sign-in.
struct StaffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "staff",
        abstract: "Staff accounts of the web workbench, on the web front's database.",
        subcommands: [Add.self, List.self, Disable.self, ResetPassword.self]
    )

    struct Target: ParsableArguments {
        @Option(help: ArgumentHelp(
            "The web front's database (libpq conninfo, e.g. 'host=… dbname=oneseal_web_371302 user=…'); a password comes from PGPASSWORD or ~/.pgpass.",
            valueName: "conninfo"))
        var database: String

        @Option(help: ArgumentHelp("The web front's data key file (its ONESEAL_DATA_KEY_FILE): needed to seal a TOTP secret.", valueName: "path"))
        var dataKeyFile: String?

        /// Runs `body` on the front's database, migrated first (the same migrations, under the same
        /// advisory lock, as the front runs at start: staff can be added before the front's first start).
        func run<T: Sendable>(cost: UInt8 = 12, _ body: (StaffStore) async throws -> T) async throws -> T {
            let keyring = try dataKeyFile.map { try DataKeyring(contentsOfFile: $0) }
            let client = PostgresClient(conninfo: database, maxConnections: 2)
            do {
                try await Migrator.apply(AccountStore.migrations, on: client)
                let result = try await body(StaffStore(database: client, keyring: keyring, cost: cost))
                await client.shutdown()
                return result
            } catch {
                await client.shutdown()
                throw error
            }
        }
    }

    /// The option each rule field comes from, so an error names what the operator typed.
    static let options = [
        StaffAccountDraft.staffNumberField: "--staff-number", StaffAccountDraft.nameField: "--name", StaffAccountDraft.roleField: "--role",
        StaffAccountDraft.windowField: "--window", StaffAccountDraft.departmentField: "--department",
    ]

    static func refuse(_ errors: FormErrors) -> ValidationError {
        ValidationError(errors.errors.sorted { $0.key < $1.key }.map { "\(options[$0.key] ?? $0.key): \($0.value)" }.joined(separator: "\n"))
    }

    /// The TOTP enrolment lines: the secret to type and the otpauth URI (for a QR generator at the desk).
    static func enrolment(_ secret: [UInt8], staffNumber: String, issuer: String) -> (text: String, json: [String: Any]) {
        let totp = TOTP(secret: secret)
        let grouped = totp.groupedSecret
        let uri = totp.provisioningURI(issuer: issuer, account: staffNumber)
        return ("TOTP secret (enter in the authenticator app now; shown once): \(grouped)\notpauth URI: \(uri)", ["totp_secret": grouped, "totp_uri": uri])
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a staff account; prints a one-time password to change at first sign-in.")
        @OptionGroup var target: Target
        @Option(help: "工号: letters, digits, . _ - (the subject of everything the person does).") var staffNumber: String
        @Option(help: "The person's name as shown on the workbench.") var name: String
        @Option(help: "One of \(StaffRole.allCases.map(\.rawValue).joined(separator: ", ")).") var role: String
        @Option(help: "Window number (window_clerk only).") var window: String?
        @Option(help: "Supervising department's code (department only; the token's dept).") var department: String?
        @Flag(help: "Enrol a TOTP second factor now (needs --data-key-file); prints the secret once.") var totp = false
        @Option(help: "Issuer shown in the authenticator app.") var issuer = "OneSeal"
        @OptionGroup var output: OutputOptions

        func run() async throws {
            var fields = [StaffAccountDraft.staffNumberField: staffNumber, StaffAccountDraft.nameField: name, StaffAccountDraft.roleField: role]
            fields[StaffAccountDraft.windowField] = window
            fields[StaffAccountDraft.departmentField] = department
            let draft: StaffAccountDraft
            switch StaffAccountDraft.validate(fields) {
            case .failure(let errors): throw StaffCommand.refuse(errors)
            case .success(let valid): draft = valid
            }
            if totp && target.dataKeyFile == nil { throw ValidationError("--totp: the secret is sealed with the web front's data key: give --data-key-file") }
            let password = StaffPassword.temporary(staffNumber: draft.staffNumber)
            let secret = totp ? TOTP.generateSecret() : nil
            let outcome = try await target.run { try await $0.add(draft, temporaryPassword: password, totpSecret: secret) }
            guard case .created(let staff) = outcome else { throw ValidationError("--staff-number: \(draft.staffNumber) exists already (staff numbers are compared without case)") }
            let enrolment = secret.map { StaffCommand.enrolment($0, staffNumber: staff.staffNumber, issuer: issuer) }
            var json: [String: Any] = ["staff_number": staff.staffNumber, "role": staff.role.rawValue, "temporary_password": password]
            for (key, value) in enrolment?.json ?? [:] { json[key] = value }
            try output.emit(json, text: """
                created \(staff.staffNumber) (\(staff.displayName), \(staff.role.rawValue))
                one-time password (hand it over; it must be changed at first sign-in): \(password)
                """ + (enrolment.map { "\n" + $0.text } ?? ""))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the staff accounts.")
        @OptionGroup var target: Target
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let staff = try await target.run { try await $0.list() }
            let iso = ISO8601DateFormatter()
            try output.emit(
                staff.map { person -> [String: Any] in
                    var row: [String: Any] = [
                        "staff_number": person.staffNumber, "name": person.displayName, "role": person.role.rawValue,
                        "must_change_password": person.mustChangePassword, "totp": person.hasSecondFactor, "disabled": person.disabled,
                        "created_at": iso.string(from: person.createdAt),
                    ]
                    row["window"] = person.windowNumber
                    row["department"] = person.departmentCode
                    return row
                },
                text: staff.isEmpty ? "no staff accounts" : staff.map { person in
                    [person.staffNumber, person.displayName, person.role.rawValue, person.windowNumber.map { "window \($0)" } ?? person.departmentCode.map { "dept \($0)" } ?? "-",
                     person.disabled ? "DISABLED" : "active", person.mustChangePassword ? "must-change-password" : "-", person.hasSecondFactor ? "totp" : "-"].joined(separator: "\t")
                }.joined(separator: "\n"))
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a staff account; its sessions end at once.")
        @OptionGroup var target: Target
        @Option(help: "工号.") var staffNumber: String
        @OptionGroup var output: OutputOptions

        func run() async throws {
            guard let ended = try await target.run({ try await $0.disable(staffNumber: staffNumber) }) else {
                throw ValidationError("--staff-number: no staff account \(staffNumber)")
            }
            try output.emit(["staff_number": staffNumber, "disabled": true, "sessions_ended": ended], text: "disabled \(staffNumber); \(ended) session(s) ended")
        }
    }

    struct ResetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-password",
            abstract: "A new one-time password (changed at next sign-in); the person's sessions end. Does not re-enable unless --enable.")
        @OptionGroup var target: Target
        @Option(help: "工号.") var staffNumber: String
        @Flag(help: "Also a new TOTP secret (a lost phone); needs --data-key-file.") var newTotp = false
        @Flag(help: "Remove the TOTP second factor.") var removeTotp = false
        @Flag(help: "Re-enable a disabled account.") var enable = false
        @Option(help: "Issuer shown in the authenticator app.") var issuer = "OneSeal"
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if newTotp && removeTotp { throw ValidationError("--new-totp and --remove-totp: choose one") }
            if newTotp && target.dataKeyFile == nil { throw ValidationError("--new-totp: the secret is sealed with the web front's data key: give --data-key-file") }
            if let problem = StaffNumber.problem(StaffNumber.tidy(staffNumber)) { throw ValidationError("--staff-number: \(problem)") }
        }

        func run() async throws {
            let password = StaffPassword.temporary(staffNumber: staffNumber)
            let secret = newTotp ? TOTP.generateSecret() : nil
            let change: StaffStore.SecondFactorChange = secret.map { .replace($0) } ?? (removeTotp ? .remove : .keep)
            guard try await target.run({ try await $0.resetPassword(staffNumber: staffNumber, temporaryPassword: password, secondFactor: change, enable: enable) }) else {
                throw ValidationError("--staff-number: no staff account \(staffNumber)")
            }
            let enrolment = secret.map { StaffCommand.enrolment($0, staffNumber: StaffNumber.tidy(staffNumber), issuer: issuer) }
            var json: [String: Any] = ["staff_number": staffNumber, "temporary_password": password]
            for (key, value) in enrolment?.json ?? [:] { json[key] = value }
            try output.emit(json, text: "one-time password for \(staffNumber) (must be changed at next sign-in): \(password)" + (enrolment.map { "\n" + $0.text } ?? ""))
        }
    }
}
