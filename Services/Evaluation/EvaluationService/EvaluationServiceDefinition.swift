import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealPrivacy
import OneSealProto
import OneSealServiceKit
import OneSealStore
import Synchronization

/// The evaluation service as the shared runner starts it: its migrations, its method table, its
/// RPC service and the consumer of every other service's events.
public enum EvaluationServiceDefinition {
    public static let name = "evaluation"

    /// Who may call which method (E3, E13); anything not listed is denied. Figures, warnings, flags
    /// and reports are for evaluators, leaders and the bureau's leading posts (科长, 分管, 局长 —
    /// the director's dashboard, W41), and a parent node's tokens may read them (the city reads its
    /// counties). Ratings come from the applicant, the window's rating pad, the
    /// provincial platform and evaluators (channel by role, checked in the handler).
    public static let policy: AccessPolicy = {
        let service = "oneseal.evaluation.v1.EvaluationService/"
        let watchers = MethodRule(roles: [.evaluator, .leader, .sectionChief, .deputyDirector, .director], scope: .sameNodeOrAncestor)
        let ratedSide: Set<Role> = [.windowClerk, .officer, .sectionChief, .deputyDirector, .director]
        let rules: [String: MethodRule] = [
            "SubmitRating": MethodRule(roles: [.applicant, .windowClerk, .integrator, .evaluator], scope: .anyTrustedNode).on(.own),
            // An applicant reads the rating they made and its rectification (checked in the handler, #18).
            "GetRating": MethodRule(roles: [.evaluator, .leader, .applicant], scope: .sameNodeOrAncestor).on(.own),
            "ListRatings": MethodRule(roles: [.evaluator, .leader], scope: .sameNodeOrAncestor).on(.anyOfTheNode),
            "ListRectifications": MethodRule(roles: Set<Role>([.evaluator, .leader]).union(ratedSide), scope: .sameNodeOrAncestor).on(.anyOfTheNode),
            "RecordCallBack": MethodRule(roles: [.evaluator, .sectionChief, .deputyDirector, .director]).on(.anyOfTheNode),
            "CompleteRectification": MethodRule(roles: ratedSide).on(.anyOfTheNode),
            "RateRectification": MethodRule(roles: [.applicant, .evaluator], scope: .anyTrustedNode).on(.own),
            "AppealRating": MethodRule(roles: ratedSide).on(.anyOfTheNode),
            "DecideAppeal": MethodRule(roles: [.evaluator, .leader]).on(.anyOfTheNode),
            "EfficiencyFigures": watchers.on(.none),
            "EarlyWarnings": watchers.on(.none),
            "FlagWindows": watchers.on(.none),
            "Report": watchers.on(.none),
            "RebuildReadModel": MethodRule(roles: [.operator, .evaluator]).on(.anyOfTheNode),
            // 案卷评查 (E17): the director draws the month's sample; reviewers — evaluators and the
            // bureau's leading staff — score it (never a file they handled, checked by the rules);
            // leaders read it. Only the node's own staff: a sample is the node's own business.
            "DrawCaseFileSample": MethodRule(roles: [.director]).on(.anyOfTheNode),
            "ScoreCaseFile": MethodRule(roles: [.evaluator, .sectionChief, .deputyDirector, .director]).on(.anyOfTheNode),
            "GetCaseFileSample": MethodRule(roles: [.evaluator, .leader, .sectionChief, .deputyDirector, .director]).on(.anyOfTheNode),
        ]
        return AccessPolicy(Dictionary(uniqueKeysWithValues: rules.map { (service + $0.key, $0.value) }))
    }()

    /// The definition the executable runs. `clock` is the source of "today" (tests pin it).
    public static func make(clock: @escaping @Sendable () -> Date = { Date() }) throws -> ServiceDefinition {
        let box = LateBound<EvaluationAPI>(Self.name)
        return ServiceDefinition(
            name: Self.name,
            migrations: try ServiceDefinition.migrations(in: Bundle.module),
            policy: Self.policy,
            makeServices: { environment in
                let api = try await makeAPI(environment, clock: clock)
                box.set(api)
                return [api]
            },
            makeBackgroundServices: { _ in [ReadModelWarmer(api: try box.get())] },
            eventConsumer: LateBoundConsumer(box) { EvaluationEventConsumer(api: $0) },
            // Two raters racing for one slot: the second is told it is already recorded.
            uniqueViolationIsAlreadyExists: true,
            // Nobody waits on evaluation: the batches arriving within 50 ms share a transaction;
            // approval's go at once (a rating right after pickup needs the case, decision 67).
            gathersDeliveries: (.milliseconds(50), prompt: ["approval"])
        )
    }

    /// Builds the API: the data keys are required (raters' names and phones are sealed; applicants
    /// are matched by a keyed blind index of their ID number, E1), settings come from node_settings.
    static func makeAPI(_ environment: ServiceEnvironment, clock: @escaping @Sendable () -> Date) async throws -> EvaluationAPI {
        let configuration = environment.configuration
        guard let keyFile = configuration.dataKeyFile else {
            throw NodeConfiguration.Invalid(variable: "ONESEAL_DATA_KEY_FILE", reason: "required: evaluation seals raters' names and phones and matches applicants by a keyed index of their ID number (use the node's intake key file)")
        }
        let keyring: DataKeyring
        do { keyring = try DataKeyring(contentsOfFile: keyFile) } catch {
            throw NodeConfiguration.Invalid(variable: "ONESEAL_DATA_KEY_FILE", reason: error.description)
        }
        let settings = try await EvaluationSettings.load(node: configuration.node, name: configuration.nodeName, from: environment.database)
        return EvaluationAPI(
            database: environment.database, keyring: keyring, node: configuration.node, settings: settings, calendar: configuration.calendar, clock: clock,
            peers: Set(configuration.peers.keys), logger: environment.logger)
    }
}
