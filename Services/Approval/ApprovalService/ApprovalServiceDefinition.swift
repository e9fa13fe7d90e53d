import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealPrivacy
import OneSealProto
import OneSealServiceKit
import OneSealStore
import Synchronization

/// The approval service as the shared runner starts it: its migrations, its method table, its RPC
/// service, the warning sweeper and the consumer of intake's, supervision's and certificate's events.
public enum ApprovalServiceDefinition {
    public static let name = "approval"

    /// Who may call which method; anything not listed is denied. Every method is this node's tokens
    /// only (a county token cannot act on a city case), except OpenCase, which other OneSeal nodes
    /// (a county forwarding) may call. Within a method, the rules check the step's role, assignee,
    /// section and turn (PERMISSION_DENIED / FAILED_PRECONDITION with the reason).
    public static let policy: AccessPolicy = {
        let service = "oneseal.approval.v1.ApprovalService/"
        let chain: Set<Role> = [.officer, .sectionChief, .deputyDirector, .director]
        let leaders: Set<Role> = [.deputyDirector, .director]
        let readers = MethodRule(roles: chain.union([.evaluator, .leader, .operator]))
        let rules: [String: MethodRule] = [
            "OpenCase": MethodRule(roles: [.peerNode, .integrator], scope: .anyTrustedNode).on(.service),
            "GetCase": readers.on(.anyOfTheNode),
            "ListCases": readers.on(.anyOfTheNode),
            "ReviewStep": MethodRule(roles: [.officer]).on(.anyOfTheNode),
            "SignOff": MethodRule(roles: [.sectionChief, .deputyDirector, .director]).on(.anyOfTheNode),
            "ReturnToStep": MethodRule(roles: chain).on(.anyOfTheNode),
            "Reassign": MethodRule(roles: [.sectionChief, .deputyDirector, .director]).on(.anyOfTheNode),
            "ClaimStep": MethodRule(roles: chain).on(.anyOfTheNode),
            "DelegateStep": MethodRule(roles: chain).on(.anyOfTheNode),
            "SuspendClock": MethodRule(roles: chain).on(.anyOfTheNode),
            "ResumeClock": MethodRule(roles: chain).on(.anyOfTheNode),
            "RequestExtension": MethodRule(roles: chain).on(.anyOfTheNode),
            "NotifyHearingRight": MethodRule(roles: chain).on(.anyOfTheNode),
            // The applicant asks with their own token (matched to the case's applicant in the handler),
            // or the staff handling the case record a written request.
            "RequestHearing": MethodRule(roles: chain.union([.applicant])).on(.own),
            "ScheduleHearing": MethodRule(roles: chain).on(.anyOfTheNode),
            "RecordHearing": MethodRule(roles: chain).on(.anyOfTheNode),
            "RecordJointReview": MethodRule(roles: [.sectionChief, .deputyDirector, .director]).on(.anyOfTheNode),
            "Decide": MethodRule(roles: chain).on(.anyOfTheNode),
            "InstantApprove": MethodRule(roles: chain).on(.anyOfTheNode),
            // Not integrators: approval cannot tell which integrator submitted a case's application
            // (docs/security.md, per-object rules); an accepted application is withdrawn at the window.
            "Withdraw": MethodRule(roles: chain.union([.windowClerk])).on(.anyOfTheNode),
            "Revoke": MethodRule(roles: leaders).on(.anyOfTheNode),
            "Cancel": MethodRule(roles: leaders).on(.anyOfTheNode),
            "DismissRevocationReview": MethodRule(roles: leaders).on(.anyOfTheNode),
            "VerifyAuditChain": MethodRule(roles: [.operator, .director, .evaluator]).on(.anyOfTheNode),
            "ListAuditEntries": MethodRule(roles: chain.union([.operator, .evaluator])).on(.anyOfTheNode),
            "ExportCaseFile": MethodRule(roles: [.operator, .director]).on(.anyOfTheNode),
        ]
        return AccessPolicy(Dictionary(uniqueKeysWithValues: rules.map { (service + $0.key, $0.value) }))
    }()

    /// The definition the executable runs. `clock` is the source of "today" (tests pin it);
    /// `caseFileSigner` overrides the service key as the signer of case files (tests).
    public static func make(
        clock: @escaping @Sendable () -> Date = { Date() }, sweepInterval: Duration = .seconds(300), caseFileSigner: TokenSigningKey? = nil
    ) throws -> ServiceDefinition {
        let box = LateBound<ApprovalAPI>(Self.name)
        return ServiceDefinition(
            name: Self.name,
            migrations: try ServiceDefinition.migrations(in: Bundle.module),
            policy: Self.policy,
            makeServices: { environment in
                let api = try await makeAPI(environment, clock: clock, signer: caseFileSigner)
                box.set(api)
                return [api]
            },
            makeBackgroundServices: { _ in
                [WarningSweeper(api: try box.get(), interval: sweepInterval), RenewalSweeper(api: try box.get(), interval: sweepInterval)]
            },
            eventConsumer: LateBoundConsumer(box) { ApprovalEventConsumer(api: $0) },
            // A forwarded case becomes known to the accepting node's evaluation with its decision
            // event, and the applicant may rate it there as soon as the licence is handed over.
            pacesEvaluationFeed: false
        )
    }

    /// Builds the API from the environment: the data keys are required (applicants are stored
    /// sealed); the service key, when configured, signs exported case files.
    static func makeAPI(_ environment: ServiceEnvironment, clock: @escaping @Sendable () -> Date, signer override: TokenSigningKey?) async throws -> ApprovalAPI {
        let configuration = environment.configuration
        guard let keyFile = configuration.dataKeyFile else {
            throw NodeConfiguration.Invalid(variable: "ONESEAL_DATA_KEY_FILE", reason: "required: approval stores applicants' ID and phone numbers sealed with these keys (generate one with `oneseal keys data --out FILE`)")
        }
        let keyring: DataKeyring
        do { keyring = try DataKeyring(contentsOfFile: keyFile) } catch {
            throw NodeConfiguration.Invalid(variable: "ONESEAL_DATA_KEY_FILE", reason: error.description)
        }
        var signer = override
        if signer == nil, let serviceKey = configuration.serviceKeyFile {
            do { signer = try TokenSigningKey(contentsOfFile: serviceKey, issuer: configuration.node) } catch {
                throw NodeConfiguration.Invalid(variable: "ONESEAL_SERVICE_KEY_FILE", reason: "\(error)")
            }
        }
        let settings = try await ApprovalSettings.load(node: configuration.node, name: configuration.nodeName, from: environment.database)
        return ApprovalAPI(
            database: environment.database, keyring: keyring, node: configuration.node, settings: settings, calendar: configuration.calendar,
            clock: clock, signer: signer, logger: environment.logger)
    }
}
