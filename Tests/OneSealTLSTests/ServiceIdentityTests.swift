import Foundation
import Testing
import X509

@testable import OneSealTLS

@Suite("Service identities and the trust bundle's refusals")
struct ServiceIdentityTests {
    @Test("oneseal://<node>/<service> and peer names parse; anything else does not")
    func parsing() {
        #expect(ServiceIdentity(uri: "oneseal://371300/intake") == ServiceIdentity(node: "371300", service: "intake"))
        #expect(ServiceIdentity(peerName: "certificate@371302")?.uri == "oneseal://371302/certificate")
        for bad in ["oneseal://37130/intake", "oneseal://371300/", "oneseal://371300/Intake", "oneseal://371300/a/b", "https://371300/intake", "oneseal://371300/in\ntake"] {
            #expect(ServiceIdentity(uri: bad) == nil, "\(bad)")
        }
    }

    @Test("an issued certificate names its service and node, and verifies to its CA")
    func issued() throws {
        let ca = try NodeCertificateAuthority.create(node: "371300")
        let issued = try ca.issue(service: "intake", hosts: ["localhost", "127.0.0.1", "::1"])
        #expect(ServiceIdentity(certificate: issued.certificate)?.uri == "oneseal://371300/intake")
        let trust = TrustBundle(authorities: [ca.certificate])
        #expect(try trust.verify(chain: [issued.certificate], now: Date(), expectedNode: "371300", expectedService: "intake").get().service == "intake")
        // PEM round trip: the files the CLI writes load back.
        let loaded = try NodeCertificateAuthority(certificatePEM: try ca.certificatePEM, keyPEM: ca.keyPEM)
        #expect(loaded.node == "371300")
        #expect(try certificates(fromPEM: try issued.certificatePEM).count == 2)
    }

    /// Item (c): every kind of bad certificate is refused, and the reason says what was wrong.
    @Test("expired, not yet valid, unknown CA, wrong identity, no identity, a CA as leaf")
    func refusals() throws {
        let city = try NodeCertificateAuthority.create(node: "371300")
        let county = try NodeCertificateAuthority.create(node: "371302")
        let stranger = try NodeCertificateAuthority.create(node: "371300")  // same node code, another key
        let trust = TrustBundle(authorities: [city.certificate, county.certificate])
        let now = Date()
        let identity = ServiceIdentity(node: "371300", service: "intake")!
        func reason(_ chain: [Certificate], node: String? = "371300", service: String? = "intake") -> String {
            switch trust.verify(chain: chain, now: now, expectedNode: node, expectedService: service) {
            case .success: return "accepted"
            case .failure(let refusal): return refusal.describe(escaping: { $0 })
            }
        }
        let expired = try city.issue(identity: identity, hosts: [], notValidBefore: now.addingTimeInterval(-7200), notValidAfter: now.addingTimeInterval(-3600))
        #expect(reason([expired.certificate]).contains("expired at"))
        let early = try city.issue(identity: identity, hosts: [], notValidBefore: now.addingTimeInterval(3600), notValidAfter: now.addingTimeInterval(7200))
        #expect(reason([early.certificate]).contains("not yet valid until"))
        let unknown = try stranger.issue(service: "intake")
        #expect(reason([unknown.certificate]).contains("unknown CA"))
        let countyIntake = try county.issue(service: "intake")
        #expect(reason([countyIntake.certificate]) == "certificate identity oneseal://371302/intake names node 371302 not 371300")
        #expect(reason([countyIntake.certificate], node: nil, service: nil) == "accepted")
        let approval = try city.issue(service: "approval")
        #expect(reason([approval.certificate]).contains("names service approval not intake"))
        let anonymous = try city.issue(identity: nil, hosts: ["localhost"], notValidBefore: now.addingTimeInterval(-60), notValidAfter: now.addingTimeInterval(3600))
        #expect(reason([anonymous.certificate]).contains("names no single oneseal://"))
        #expect(reason([city.certificate]).contains("not a TLS end-entity certificate"))
        #expect(reason([]) == "no client certificate presented")
    }

    @Test("names from the certificate go through the caller's escaper")
    func escaping() throws {
        let refusal = CertificateRefusal.unknownCA(subject: "CN=a\nforged line", issuer: "CN=b")
        #expect(refusal.describe(escaping: { $0.replacingOccurrences(of: "\n", with: "\\x0A") }).contains("a\\x0Aforged line"))
    }
}
