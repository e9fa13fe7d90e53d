import Foundation
import GRPCCore
import OneSealAuth
import OneSealPrivacy
import OneSealProto
import OneSealServiceKit
import OneSealStore
import Synchronization

/// The supervision service as the shared runner starts it: its migrations, its method table, its RPC
/// service, the event consumer (grants, licences, revocations, cancellations), the endpoint delivery
/// worker and the claim-overdue sweeper.
public enum SupervisionServiceDefinition {
    public static let name = "supervision"

    /// Who may call which method; anything not listed is denied. The bureau's operators keep the
    /// department register and the boundary list; section chiefs and leaders of the bureau re-route.
    /// Department-facing methods accept any trusted node's token (a county department may supervise a
    /// city item) and the handlers then require the token's department to be registered here on the
    /// token's node, and to own the push; bureau readers must be this node or its ancestors.
    public static let policy: AccessPolicy = {
        let service = "oneseal.supervision.v1.SupervisionService/"
        let manage = MethodRule(roles: [.operator])
        let bureau: Set<Role> = [.operator, .sectionChief, .deputyDirector, .director]
        let readers = MethodRule(roles: bureau.union([.evaluator, .leader, .department, .integrator]), scope: .anyTrustedNode)
        let department = MethodRule(roles: bureau.union([.department]), scope: .anyTrustedNode)
        let rules: [String: MethodRule] = [
            "UpsertDepartment": manage.on(.anyOfTheNode),
            "ListDepartments": readers.on(.none),
            "RemoveDepartment": manage.on(.anyOfTheNode),
            "UpsertBoundary": manage.on(.anyOfTheNode),
            "ListBoundary": readers.on(.none),
            "RemoveBoundary": manage.on(.anyOfTheNode),
            "ListPushes": readers.on(.own),
            "GetPush": readers.on(.own),
            "ClaimPush": MethodRule(roles: [.department], scope: .anyTrustedNode).on(.own),
            "ClaimPushes": MethodRule(roles: [.department], scope: .anyTrustedNode).on(.own),
            "RejectPush": MethodRule(roles: [.department], scope: .anyTrustedNode).on(.own),
            "ReroutePush": MethodRule(roles: bureau).on(.anyOfTheNode),
            "SubmitFinding": MethodRule(roles: [.department], scope: .anyTrustedNode).on(.own),
            "ListFindings": department.merged(with: [.evaluator, .leader, .integrator]).on(.own),
            "QuarterlyFigures": readers.on(.none),
        ]
        return AccessPolicy(Dictionary(uniqueKeysWithValues: rules.map { (service + $0.key, $0.value) }))
    }()

    /// The definition the executable runs. `clock` is the source of "now" (tests pin it).
    public static func make(
        clock: @escaping @Sendable () -> Date = { Date() }, sweepInterval: Duration = .seconds(300), deliveryInterval: Duration = .seconds(1)
    ) throws -> ServiceDefinition {
        let box = LateBound<SupervisionAPI>(Self.name)
        return ServiceDefinition(
            name: Self.name,
            migrations: try ServiceDefinition.migrations(in: Bundle.module),
            policy: Self.policy,
            makeServices: { environment in
                var keyring: DataKeyring?
                if let file = environment.configuration.dataKeyFile {
                    do { keyring = try DataKeyring(contentsOfFile: file) } catch {
                        throw NodeConfiguration.Invalid(variable: "ONESEAL_DATA_KEY_FILE", reason: "\(error)")
                    }
                } else {
                    environment.logger.warning("no ONESEAL_DATA_KEY_FILE: pushes and push events (which name the holder) rest in the clear; give supervision the node's data key")
                }
                let api = SupervisionAPI(
                    database: environment.database, node: environment.configuration.node, calendar: environment.configuration.calendar,
                    clock: clock, logger: environment.logger, keyring: keyring)
                box.set(api)
                return [api]
            },
            makeBackgroundServices: { environment in
                let api = try box.get()
                return [
                    EndpointDeliveryWorker(api: api, interval: deliveryInterval, token: environment.serviceToken),
                    ClaimOverdueSweeper(api: api, interval: sweepInterval),
                    api.settings,
                ]
            },
            eventConsumer: LateBoundConsumer(box) { SupervisionEventConsumer(api: $0) }
        )
    }
}

extension MethodRule {
    func merged(with roles: Set<Role>) -> MethodRule { MethodRule(roles: self.roles.union(roles), scope: scope) }
}
