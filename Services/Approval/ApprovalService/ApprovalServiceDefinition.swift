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
            "OpenCase": MethodRule(roles: [.peerNode, .integrator], scope: .anyTrustedNode),
            "GetCase": readers,
            "ListCases": readers,
            "ReviewStep": MethodRule(roles: [.officer]),
            "SignOff": MethodRule(roles: [.sectionChief, .deputyDirector, .director]),
            "ReturnToStep": MethodRule(roles: chain),
            "Reassign": MethodRule(roles: [.sectionChief, .deputyDirector, .director]),
            "ClaimStep": MethodRule(roles: chain),
            "DelegateStep": MethodRule(roles: chain),
            "SuspendClock": MethodRule(roles: chain),
            "ResumeClock": MethodRule(roles: chain),
            "RequestExtension": MethodRule(roles: chain),
            "RecordJointReview": MethodRule(roles: [.sectionChief, .deputyDirector, .director]),
            "Decide": MethodRule(roles: chain),
            "InstantApprove": MethodRule(roles: chain),
            // Not integrators: approval cannot tell which integrator submitted a case's application
            // (docs/security.md, per-object rules); an accepted application is withdrawn at the window.
            "Withdraw": MethodRule(roles: chain.union([.windowClerk])),
            "Revoke": MethodRule(roles: leaders),
            "Cancel": MethodRule(roles: leaders),
            "DismissRevocationReview": MethodRule(roles: leaders),
            "VerifyAuditChain": MethodRule(roles: [.operator, .director, .evaluator]),
            "ListAuditEntries": MethodRule(roles: chain.union([.operator, .evaluator])),
            "ExportCaseFile": MethodRule(roles: [.operator, .director]),
        ]
        return AccessPolicy(Dictionary(uniqueKeysWithValues: rules.map { (service + $0.key, $0.value) }))
    }()

    /// The definition the executable runs. `clock` is the source of "today" (tests pin it);
    /// `caseFileSigner` overrides the service key as the signer of case files (tests).
    public static func make(
        clock: @escaping @Sendable () -> Date = { Date() }, sweepInterval: Duration = .seconds(300), caseFileSigner: TokenSigningKey? = nil
    ) throws -> ServiceDefinition {
        let box = APIBox()
        return ServiceDefinition(
            name: Self.name,
            migrations: try ServiceDefinition.migrations(in: Bundle.module),
            policy: Self.policy,
            makeServices: { environment in
                let api = try await makeAPI(environment, clock: clock, signer: caseFileSigner)
                box.set(api)
                return [ApprovalRPC(api: api)]
            },
            makeBackgroundServices: { _ in
                [WarningSweeper(api: try box.get(), interval: sweepInterval)]
            },
            eventConsumer: ConsumerThroughBox(box: box)
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
        let settings = try await ApprovalSettings.load(node: configuration.node, from: environment.database)
        return ApprovalAPI(
            database: environment.database, keyring: keyring, node: configuration.node, settings: settings, calendar: configuration.calendar,
            clock: clock, signer: signer, logger: environment.logger)
    }
}

/// The API is built once the database is ready; the sweeper and the consumer reach it through
/// this box (set once, before they start — `ServiceRunner` calls `makeServices` first).
final class APIBox: Sendable {
    private let value = Mutex<ApprovalAPI?>(nil)
    func set(_ api: ApprovalAPI) { value.withLock { $0 = api } }
    func get() throws -> ApprovalAPI {
        guard let api = value.withLock({ $0 }) else { throw RPCError(code: .unavailable, message: "approval is starting") }
        return api
    }
}

struct ConsumerThroughBox: EventConsumer {
    let box: APIBox
    func consume(_ event: Events_EventEnvelope, in transaction: PostgresConnection) async throws {
        try await ApprovalEventConsumer(api: try box.get()).consume(event, in: transaction)
    }
}

/// The generated service protocol, answered by `ApprovalAPI`'s handlers.
public struct ApprovalRPC: Approval_ApprovalService.SimpleServiceProtocol {
    public let api: ApprovalAPI
    public init(api: ApprovalAPI) { self.api = api }

    public func openCase(request: Approval_OpenCaseRequest, context: ServerContext) async throws -> Approval_OpenCaseResponse { try await api.openCase(request: request, context: context) }
    public func getCase(request: Approval_GetCaseRequest, context: ServerContext) async throws -> Approval_GetCaseResponse { try await api.getCase(request: request, context: context) }
    public func listCases(request: Approval_ListCasesRequest, context: ServerContext) async throws -> Approval_ListCasesResponse { try await api.listCases(request: request, context: context) }
    public func reviewStep(request: Approval_ReviewStepRequest, context: ServerContext) async throws -> Approval_ReviewStepResponse { try await api.reviewStep(request: request, context: context) }
    public func signOff(request: Approval_SignOffRequest, context: ServerContext) async throws -> Approval_SignOffResponse { try await api.signOff(request: request, context: context) }
    public func returnToStep(request: Approval_ReturnToStepRequest, context: ServerContext) async throws -> Approval_ReturnToStepResponse { try await api.returnToStep(request: request, context: context) }
    public func reassign(request: Approval_ReassignRequest, context: ServerContext) async throws -> Approval_ReassignResponse { try await api.reassign(request: request, context: context) }
    public func suspendClock(request: Approval_SuspendClockRequest, context: ServerContext) async throws -> Approval_SuspendClockResponse { try await api.suspendClock(request: request, context: context) }
    public func resumeClock(request: Approval_ResumeClockRequest, context: ServerContext) async throws -> Approval_ResumeClockResponse { try await api.resumeClock(request: request, context: context) }
    public func requestExtension(request: Approval_RequestExtensionRequest, context: ServerContext) async throws -> Approval_RequestExtensionResponse { try await api.requestExtension(request: request, context: context) }
    public func recordJointReview(request: Approval_RecordJointReviewRequest, context: ServerContext) async throws -> Approval_RecordJointReviewResponse { try await api.recordJointReview(request: request, context: context) }
    public func decide(request: Approval_DecideRequest, context: ServerContext) async throws -> Approval_DecideResponse { try await api.decide(request: request, context: context) }
    public func instantApprove(request: Approval_InstantApproveRequest, context: ServerContext) async throws -> Approval_InstantApproveResponse { try await api.instantApprove(request: request, context: context) }
    public func withdraw(request: Approval_WithdrawRequest, context: ServerContext) async throws -> Approval_WithdrawResponse { try await api.withdraw(request: request, context: context) }
    public func revoke(request: Approval_RevokeRequest, context: ServerContext) async throws -> Approval_RevokeResponse { try await api.revoke(request: request, context: context) }
    public func cancel(request: Approval_CancelRequest, context: ServerContext) async throws -> Approval_CancelResponse { try await api.cancel(request: request, context: context) }
    public func verifyAuditChain(request: Approval_VerifyAuditChainRequest, context: ServerContext) async throws -> Approval_VerifyAuditChainResponse { try await api.verifyAuditChain(request: request, context: context) }
    public func listAuditEntries(request: Approval_ListAuditEntriesRequest, context: ServerContext) async throws -> Approval_ListAuditEntriesResponse { try await api.listAuditEntries(request: request, context: context) }
    public func claimStep(request: Approval_ClaimStepRequest, context: ServerContext) async throws -> Approval_ClaimStepResponse { try await api.claimStep(request: request, context: context) }
    public func delegateStep(request: Approval_DelegateStepRequest, context: ServerContext) async throws -> Approval_DelegateStepResponse { try await api.delegateStep(request: request, context: context) }
    public func dismissRevocationReview(request: Approval_DismissRevocationReviewRequest, context: ServerContext) async throws -> Approval_DismissRevocationReviewResponse { try await api.dismissRevocationReview(request: request, context: context) }
    public func exportCaseFile(request: Approval_ExportCaseFileRequest, context: ServerContext) async throws -> Approval_ExportCaseFileResponse { try await api.exportCaseFile(request: request, context: context) }
}
