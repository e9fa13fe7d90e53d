import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealPrivacy
import OneSealProto
import OneSealServiceKit
import OneSealStore
import Synchronization

/// The intake service as the shared runner starts it: its migrations, its method table, its RPC
/// service, the deemed-acceptance sweeper and the consumer of results coming back.
public enum IntakeServiceDefinition {
    public static let name = "intake"

    /// Who may call which method; anything not listed is denied. Window acts are this node's clerks
    /// only; the guide and the public progress look-up need no token; integrators and the online
    /// channel (role applicant) may submit and correct — each only on its own applications
    /// (`ApplicationAccess`); readers see personal data as `Disclosure` allows.
    public static let policy: AccessPolicy = {
        let service = "oneseal.intake.v1.IntakeService/"
        let clerk = MethodRule(roles: [.windowClerk])
        let submitters = MethodRule(roles: [.windowClerk, .integrator, .applicant])
        let readers = MethodRule(roles: [.windowClerk, .officer, .sectionChief, .deputyDirector, .director, .evaluator, .leader, .operator, .integrator])
        let rules: [String: MethodRule] = [
            "UpsertItem": MethodRule(roles: [.operator]).on(.anyOfTheNode),
            "GetItem": .public,
            "ListItems": .public,
            "SubmitApplication": submitters.on(.own),
            "Accept": clerk.on(.anyOfTheNode),
            "IssueCorrectionNotice": clerk.on(.anyOfTheNode),
            "RejectApplication": clerk.on(.anyOfTheNode),
            "AcceptWithDeficiency": clerk.on(.anyOfTheNode),
            "AcceptByCommitment": clerk.on(.anyOfTheNode),
            "SubmitCorrection": submitters.on(.own),
            "WithdrawApplication": submitters.on(.own),
            // Applicants and integrators read only their own (ApplicationAccess).
            "GetApplication": MethodRule(roles: readers.roles.union([.applicant])).on(.own),
            "WatchApplication": MethodRule(roles: readers.roles.union([.applicant])).on(.own),
            // Staff: the node's work list; an applicant: only the applications naming them.
            "ListApplications": MethodRule(roles: [.windowClerk, .evaluator, .leader, .operator, .applicant]).on(.own),
            "TrackProgress": .public,
            "ForwardToCity": clerk.on(.anyOfTheNode),
            "RecordDelivery": clerk.on(.anyOfTheNode),
            // 送达方式: the applicant's own choice on their own application (ApplicationAccess).
            "ChooseDelivery": MethodRule(roles: [.applicant]).on(.own),
            "Consult": submitters.on(.none),
            // The material store: the window scans, integrators and applicants upload, each upload
            // bound to its uploader; reading follows the applications naming the file (MaterialHandlers).
            "UploadMaterial": submitters.on(.own),
            // The node above reads too: a forwarded application's case is decided there, and its
            // back office reads the files from here (ApplicationAccess: only forwarded ones).
            "DownloadMaterial": MethodRule(roles: readers.roles.union([.applicant]), scope: .sameNodeOrAncestor).on(.own),
        ]
        return AccessPolicy(Dictionary(uniqueKeysWithValues: rules.map { (service + $0.key, $0.value) }))
    }()

    /// The definition the executable runs. `clock` is the source of "today" (tests pin it to a date).
    public static func make(clock: @escaping @Sendable () -> Date = { Date() }, sweepInterval: Duration = .seconds(60)) throws -> ServiceDefinition {
        let box = LateBound<IntakeAPI>(Self.name)
        return ServiceDefinition(
            name: Self.name,
            migrations: try ServiceDefinition.migrations(in: Bundle.module),
            policy: Self.policy,
            makeServices: { environment in
                let api = try await makeAPI(environment, clock: clock)
                box.set(api)
                return [api]
            },
            makeBackgroundServices: { _ in
                let api = try box.get()
                return [DeemedAcceptanceSweeper(api: api, interval: sweepInterval), api.watches, api.guides]
            },
            eventConsumer: LateBoundConsumer(box) { IntakeEventConsumer(api: $0) }
        )
    }

    /// Builds the API from the process environment: the data keys are required (personal data is
    /// never stored in the clear), settings come from node_settings.
    static func makeAPI(_ environment: ServiceEnvironment, clock: @escaping @Sendable () -> Date) async throws -> IntakeAPI {
        let configuration = environment.configuration
        guard let keyFile = configuration.dataKeyFile else {
            throw NodeConfiguration.Invalid(variable: "ONESEAL_DATA_KEY_FILE", reason: "required: intake stores applicants' ID and phone numbers sealed with these keys (generate one with `oneseal keys data --out FILE`)")
        }
        let keyring: DataKeyring
        do { keyring = try DataKeyring(contentsOfFile: keyFile) } catch {
            throw NodeConfiguration.Invalid(variable: "ONESEAL_DATA_KEY_FILE", reason: error.description)
        }
        var settings = try await IntakeSettings.load(node: configuration.node, name: configuration.nodeName, from: environment.database)
        // The rating link on the receipt (W40) goes under the node's public web front, the same
        // ONESEAL_PUBLIC_URL certificate writes QR codes under.
        if let base = ProcessInfo.processInfo.environment["ONESEAL_PUBLIC_URL"]?.trimmingCharacters(in: .whitespaces), !base.isEmpty {
            guard let url = URL(string: base), ["http", "https"].contains(url.scheme ?? ""), url.host != nil, base.count <= 200 else {
                throw NodeConfiguration.Invalid(variable: "ONESEAL_PUBLIC_URL", reason: "'\(base)' is not an http(s) base URL such as https://zwfw.lanshan.gov.cn")
            }
            settings.publicURL = base.hasSuffix("/") ? String(base.dropLast()) : base
        }
        /// An optional whole-number setting of the environment, refused by name when out of range.
        func wholeNumber(_ variable: String, default fallback: Int, in range: ClosedRange<Int>) throws -> Int {
            guard let text = ProcessInfo.processInfo.environment[variable], !text.isEmpty else { return fallback }
            guard let value = Int(text), range.contains(value) else {
                throw NodeConfiguration.Invalid(variable: variable, reason: "'\(text)' is not a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }
        // Progress look-ups per source address per minute (X6). Behind the web front every citizen
        // is one source, so a node whose front serves many raises it (docs/operators.md); the
        // web benchmark raises it to measure the look-up rather than the limit.
        let perSource = try wholeNumber("ONESEAL_PROGRESS_LOOKUPS_PER_MINUTE", default: 30, in: 1...100_000_000)
        // Open WatchApplication streams per process (each a stream and a waiter, no connection).
        let maximumWatches = try wholeNumber("ONESEAL_MAX_WATCHES", default: 4096, in: 1...1_000_000)
        return IntakeAPI(
            database: environment.database, keyring: keyring, node: configuration.node, settings: settings,
            calendar: configuration.calendar, clock: clock,
            licences: LicenceVerifier(client: environment.peers["certificate@\(configuration.node)"], token: environment.serviceToken),
            logger: environment.logger,
            progressLookups: SharedAttemptLimiter(AttemptLimiter(limit: perSource, window: 60)),
            watches: ApplicationWatches(database: environment.database, limit: maximumWatches, logger: environment.logger))
    }
}
