import CertificateRules
import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealPrivacy
import OneSealProto
import OneSealServiceKit
import OneSealStore
import Synchronization

/// The certificate service as the shared runner starts it: migrations, method table, the RPC
/// service, the log integrator, the expiry sweeper and the consumer of approval's decisions.
public enum CertificateServiceDefinition {
    public static let name = "certificate"

    /// Who may call which method; anything not listed is denied. Verification, the log and the trust
    /// list are public (anyone may check a licence or audit the log); issuing and status changes are
    /// the certificate centre's and approval's (node tokens); only certificate operators reissue;
    /// window clerks of any trusted node may fetch and print a licence they hand out (统一窗口出件).
    public static let policy: AccessPolicy = {
        let service = "oneseal.certificate.v1.CertificateService/"
        let readers = MethodRule(
            roles: [.certificateOperator, .windowClerk, .officer, .sectionChief, .deputyDirector, .director, .evaluator, .leader, .operator, .integrator, .peerNode],
            scope: .anyTrustedNode)
        let rules: [String: MethodRule] = [
            "IssueLicence": MethodRule(roles: [.certificateOperator, .peerNode]).on(.anyOfTheNode),
            "GetLicence": readers.on(.anyOfTheNode),
            "ListLicences": MethodRule(roles: [.certificateOperator, .windowClerk, .evaluator, .leader, .operator, .integrator]).on(.anyOfTheNode),
            // The holder themself (role applicant) downloads their licence; only their own (ReadHandlers).
            "RenderLicence": MethodRule(roles: [.certificateOperator, .windowClerk, .applicant], scope: .anyTrustedNode).on(.own),
            "VerifyLicence": .public,
            "UpdateLicenceStatus": MethodRule(roles: [.certificateOperator, .peerNode]).on(.anyOfTheNode),
            "ReissueLicence": MethodRule(roles: [.certificateOperator]).on(.anyOfTheNode),
            "GetSignedTreeHead": .public,
            "GetInclusionProof": .public,
            "GetConsistencyProof": .public,
            "ListTrustedIssuers": .public,
            "AddTrustedIssuer": MethodRule(roles: [.operator]).on(.anyOfTheNode),
            "RemoveTrustedIssuer": MethodRule(roles: [.operator]).on(.anyOfTheNode),
        ]
        return AccessPolicy(Dictionary(uniqueKeysWithValues: rules.map { (service + $0.key, $0.value) }))
    }()

    /// The definition the executable runs.
    ///
    /// - `environment`: where ONESEAL_SEAL_KEY_FILE (the node's seal keys, required) and
    ///   ONESEAL_CERTIFICATE_ENDPOINT (host:port peers reach this service at, for the own trust-list
    ///   entry; optional) are read; ONESEAL_DATA_KEY_FILE comes through NodeConfiguration.
    /// - `clock`: the source of "today" (tests pin it).
    public static func make(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        clock: @escaping @Sendable () -> Date = { Date() },
        integrationInterval: Duration? = nil,
        expiryInterval: Duration = .seconds(3600)
    ) throws -> ServiceDefinition {
        let box = LateBound<CertificateAPI>(Self.name)
        let sealKeyFile = environment["ONESEAL_SEAL_KEY_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        let endpoint = environment["ONESEAL_CERTIFICATE_ENDPOINT"] ?? ""
        let publicURL = try CertificateSettings.verifyURL(publicBaseURL: environment["ONESEAL_PUBLIC_URL"])
        return ServiceDefinition(
            name: Self.name,
            migrations: try ServiceDefinition.migrations(in: Bundle.module),
            policy: Self.policy,
            makeServices: { environment in
                let api = try await makeAPI(environment, sealKeyFile: sealKeyFile, endpoint: endpoint, publicURL: publicURL, clock: clock)
                box.set(api)
                return [api]
            },
            makeBackgroundServices: { _ in
                let api = try box.get()
                return [LogIntegrator(api: api, interval: integrationInterval), ExpirySweeper(api: api, interval: expiryInterval)]
            },
            eventConsumer: LateBoundConsumer(box) { CertificateEventConsumer(api: $0) }
        )
    }

    /// Builds the API: data keys are required; without seal keys the service starts (verification and
    /// the log still answer) but refuses to issue, loudly. The node's own keys are brought onto the
    /// trust list. Only key ids are logged, never key material.
    static func makeAPI(_ environment: ServiceEnvironment, sealKeyFile: String?, endpoint: String, publicURL: String? = nil, clock: @escaping @Sendable () -> Date) async throws -> CertificateAPI {
        let configuration = environment.configuration
        var seals: SealKeyring?
        if let sealKeyFile {
            do { seals = try SealKeyring(contentsOfFile: sealKeyFile) } catch {
                throw NodeConfiguration.Invalid(variable: "ONESEAL_SEAL_KEY_FILE", reason: "\(error)")
            }
        } else {
            environment.logger.critical("no seal key (ONESEAL_SEAL_KEY_FILE): licences cannot be issued; grants wait in approval's outbox until a key is configured (generate one with `oneseal licence keygen --out FILE`)")
        }
        guard let dataKeyFile = configuration.dataKeyFile else {
            throw NodeConfiguration.Invalid(variable: "ONESEAL_DATA_KEY_FILE", reason: "required: licences hold holders' ID numbers, sealed with these keys (generate one with `oneseal keys data --out FILE`)")
        }
        let keyring: DataKeyring
        do { keyring = try DataKeyring(contentsOfFile: dataKeyFile) } catch {
            throw NodeConfiguration.Invalid(variable: "ONESEAL_DATA_KEY_FILE", reason: "\(error)")
        }
        var settings = try await CertificateSettings.load(node: configuration.node, name: configuration.nodeName, uscc: configuration.nodeUSCC, from: environment.database)
        if !settings.verifyURLSet, let publicURL {
            // #18: the QR leads to the node's own web front (oneseal-web serves /verify there).
            settings.verifyURL = publicURL
        }
        if let seals {
            try await CertificateAPI.syncOwnKeys(seals, settings: settings, node: configuration.node, endpoint: endpoint, now: clock(), on: environment.database)
            environment.logger.info("seal keys loaded", metadata: ["current_key_id": "\(seals.current.keyID)", "earlier_keys": "\(seals.earlier.count)", "issuer": "\(settings.issuerCode)"])
        }
        var api = CertificateAPI(
            database: environment.database, keyring: keyring, seals: seals, node: configuration.node, settings: settings,
            calendar: configuration.calendar, clock: clock, peers: environment.peers, serviceToken: environment.serviceToken, logger: environment.logger)
        api.clientTLS = { node in environment.clientTLS(node: node, service: "certificate") }
        return api
    }
}
