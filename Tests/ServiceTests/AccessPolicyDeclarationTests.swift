import ApprovalService
import CertificateService
import EvaluationService
import IntakeService
import OneSealAuth
import OneSealServiceKit
import SupervisionService
import Testing

/// Every method of every service declares on which objects its callers act (`ObjectRule`), beside
/// its roles: a new RPC cannot ship without that decision (issue #15, finding 5). The behaviour of
/// each declared rule is tested against the running services (`IntakeSafetyTests.perObjectRules`,
/// the supervision and evaluation service tests).
@Suite("Access policy: every method declares its object rule")
struct AccessPolicyDeclarationTests {
    static var all: AccessPolicy {
        sharedAccessPolicy.merging(EventDelivery.sinkPolicy).merging(OutboxAdminService.policy)
            .merging(IntakeServiceDefinition.policy).merging(ApprovalServiceDefinition.policy)
            .merging(CertificateServiceDefinition.policy).merging(SupervisionServiceDefinition.policy)
            .merging(EvaluationServiceDefinition.policy)
    }

    @Test("no method is undeclared; public methods touch no one's objects")
    func declared() {
        let undeclared = Self.all.rules.filter { $0.value.objects == .undeclared }.keys.sorted()
        #expect(undeclared.isEmpty, "undeclared: \(undeclared)")
        #expect(Self.all.rules.values.filter(\.isPublic).allSatisfy { $0.objects == .none })
    }

    @Test("methods open to applicants, integrators or departments that act on existing objects are `own`")
    func outsidersActOnlyOnTheirOwn() {
        // Methods where such a role reads or changes an object that exists already (not a list of
        // the node's public data, not a new submission): each must be `own`, or be one of the
        // listed exceptions with its reason.
        let outsiders: Set<Role> = [.applicant, .integrator, .department]
        let exceptions: [String: String] = [
            "oneseal.intake.v1.IntakeService/Consult": "creates a consultation; touches no existing object",
            "oneseal.approval.v1.ApprovalService/OpenCase": "service-to-service (the window's intake, a provincial platform)",
            "oneseal.certificate.v1.CertificateService/GetLicence": "licences are public documents; personal data by Disclosure",
            "oneseal.certificate.v1.CertificateService/ListLicences": "licences are public documents; personal data by Disclosure",
            "oneseal.supervision.v1.SupervisionService/ListDepartments": "the node's public register",
            "oneseal.supervision.v1.SupervisionService/ListBoundary": "the node's public boundary list",
            "oneseal.supervision.v1.SupervisionService/QuarterlyFigures": "figures, no person's object",
        ]
        for (method, rule) in Self.all.rules where !rule.isPublic && !rule.roles.isDisjoint(with: outsiders) {
            #expect(rule.objects == .own || exceptions[method] != nil, "\(method) is open to \(rule.roles.intersection(outsiders).map(\.rawValue).sorted()) but declares \(rule.objects)")
        }
    }
}
