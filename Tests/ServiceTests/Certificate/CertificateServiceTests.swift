import CertificateRules
import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealStore
import OneSealTestSupport
import SwiftProtobuf
import Testing
@testable import CertificateService

/// The certificate service through real RPC (OneSeal TCP, auth, a real PostgreSQL) on the city node
/// 371300, on real dates.
@Suite("Certificate service", .serialized)
struct CertificateServiceTests {
    static let monday = CivilDate(year: 2026, month: 11, day: 23)!

    @Test("a grant becomes exactly one licence however often its event arrives; LicenceIssued goes to the accepting window, supervision, evaluation")
    func grantToLicence() async throws {
        try await withCertificateNode(today: Self.monday, settings: ["certificate.number_rule.11100000MB01432663101": "JY{field:主体业态代码}{node}{seq:7}"]) { node in
            let caseID = UUID().uuidString.lowercased()
            let applicationID = UUID().uuidString.lowercased()
            let decided = ApprovalEvents.granted(caseID: caseID, applicationID: applicationID, decidedOn: Self.monday)
            let first = try ApprovalEvents.envelope(decided)
            // The same event twice, and a second event for the same grant: one licence.
            _ = try await node.deliver([first, first])
            _ = try await node.deliver([try ApprovalEvents.envelope(decided)])
            let count = try await node.database.query("SELECT count(*) AS n FROM licences WHERE case_id = \(caseID)").one().decode("n", as: Int.self)
            #expect(count == 1)

            let list = try await node.certificate.listLicences(Certificate_ListLicencesRequest.with { $0.caseID = caseID }, metadata: try node.operatorToken)
            #expect(list.licences.count == 1)
            let licence = list.licences[0]
            let identifier = try LicenceIdentifier(parsing: licence.content.licenceIdentifier)
            #expect(identifier.typeCode == ApprovalEvents.foodLicenceType)
            #expect(identifier.issuer == node.api.settings.issuerCode)
            #expect(identifier.version == 1)
            #expect(licence.content.licenceNumber == "JY23713000000001")
            #expect(licence.content.holderName == Fixtures.company.name)
            #expect(licence.content.holderCodeType == .uscc)
            #expect(licence.content.holderCodeTypeCode == "001")
            #expect(licence.content.validUntil.civilDate == CivilDate(year: 2031, month: 11, day: 22))
            #expect(licence.status == .valid)
            #expect(licence.signature.algorithm == .ed25519)
            // Art. 44: issued the day of the decision, 0 of 10 working days used.
            #expect(licence.issueDeadline.workingDaysUsed == 0)
            #expect(licence.issueDeadline.dueOn.civilDate == CivilDate(year: 2026, month: 12, day: 7))
            #expect(licence.logIndex == -1)

            let outbox = try await node.outbox()
            let issued = OutboxRows.of(Certificate_LicenceIssued.self, in: outbox)
            #expect(issued.map(\.destination).sorted() == ["evaluation@371300", "intake@371302", "supervision@371300"])
            let message = try Certificate_LicenceIssued(serializedBytes: issued[0].payload)
            #expect(message.applicationID == applicationID)
            #expect(message.licence.content.caseID == caseID)
            #expect(message.licence.content.implementationCode == ApprovalEvents.food)
            #expect(message.acceptingNode == "371302")
            #expect(message.workingDaysAfterDecision == 0)

            // A denial issues nothing; an event of an unknown type is kept, not dropped.
            var denied = ApprovalEvents.granted(caseID: UUID().uuidString, decidedOn: Self.monday)
            denied.decision.denial = Approval_Denial.with { $0.reasons = ["材料不实"] }
            var unknown = Events_EventEnvelope()
            unknown.eventID = UUID().uuidString
            unknown.type = "oneseal.approval.v1.CaseReturned"
            unknown.payload = Data([1, 2, 3])
            let accepted = try await node.deliver([try ApprovalEvents.envelope(denied), unknown])
            #expect(accepted.acceptedEventIds.count == 2)
            #expect(try await node.database.query("SELECT count(*) AS n FROM licences").one().decode("n", as: Int.self) == 1)
            #expect(try await node.database.query("SELECT count(*) AS n FROM unmatched_events").one().decode("n", as: Int.self) == 1)
        }
    }

    @Test("IssueLicence: every bad field at once, idempotent per case, different content refused, roles enforced")
    func issueOverRPC() async throws {
        try await withCertificateNode(today: Self.monday) { node in
            var request = Certificate_IssueLicenceRequest()
            request.caseID = "case-rpc-1"
            request.implementationCode = ApprovalEvents.food
            request.licenceTypeCode = "BAD"
            request.licenceName = "食品经营许可证"
            request.holder = Fixtures.company
            request.holder.idNumber = "91371302MA3C1234X8"  // wrong check character
            request.validFrom = Common_CivilDate(Self.monday)
            request.validUntil = Common_CivilDate(CivilDate(year: 2026, month: 1, day: 1)!)
            await #expect { _ = try await node.certificate.issueLicence(request, metadata: try node.operatorToken) } throws: { error in
                let failure = rpcFailure(error)
                return failure?.code == .invalidArgument
                    && Set(failure!.fields) == ["licence_type_code", "holder.id_number", "scope", "valid_until"]
            }
            request.licenceTypeCode = ApprovalEvents.foodLicenceType
            request.holder = Fixtures.person
            request.scope = "预包装食品销售"
            request.clearValidUntil()
            let first = try await node.certificate.issueLicence(request, metadata: try node.operatorToken)
            #expect(first.created)
            #expect(first.licence.content.holderCode == Fixtures.residentID)
            #expect(first.licence.content.holderCodeTypeCode == "111")
            #expect(!first.licence.content.hasValidUntil)  // 长期
            let again = try await node.certificate.issueLicence(request, metadata: try node.operatorToken)
            #expect(!again.created)
            #expect(again.licence.licenceID == first.licence.licenceID)
            var different = request
            different.scope = "热食类食品制售"
            await #expect { _ = try await node.certificate.issueLicence(different, metadata: try node.operatorToken) } throws: {
                rpcFailure($0)?.code == .failedPrecondition
            }
            // Window clerks cannot issue; another node's certificate operator cannot either.
            await #expect { _ = try await node.certificate.issueLicence(request, metadata: try node.metadata(.windowClerk)) } throws: {
                rpcFailure($0)?.code == .permissionDenied
            }
            await #expect { _ = try await node.certificate.issueLicence(request, metadata: try node.metadata(.certificateOperator, node: "371302")) } throws: {
                rpcFailure($0)?.code == .permissionDenied
            }
            // Readers without a need see the resident ID masked; the full value is not stored in the clear.
            let read = try await node.certificate.getLicence(Certificate_GetLicenceRequest.with { $0.licenceID = first.licence.licenceID }, metadata: try node.metadata(.evaluator))
            #expect(read.licence.masked)
            #expect(read.licence.content.holderCode != Fixtures.residentID)
            let stored = try await node.database.query("SELECT content_sealed, public_content FROM licences").one()
            let sealed = try stored.decode("content_sealed", as: [UInt8].self) + (try stored.decode("public_content", as: [UInt8].self))
            #expect(!Data(sealed).contains(Data(Fixtures.residentID.utf8)))
        }
    }

    @Test("a holder code as typed (lower case, full width, spaces) is stored as the one code, and every spelling finds the licence")
    func holderCodeAsTyped() async throws {
        try await withCertificateNode(today: Self.monday) { node in
            var holder = Fixtures.company
            holder.idNumber = " " + Fixtures.uscc.lowercased() + " "
            _ = try await node.deliver([try ApprovalEvents.envelope(ApprovalEvents.granted(caseID: UUID().uuidString.lowercased(), decidedOn: Self.monday, holder: holder))])
            var request = Certificate_IssueLicenceRequest()
            request.caseID = UUID().uuidString.lowercased()
            request.implementationCode = ApprovalEvents.food
            request.licenceTypeCode = ApprovalEvents.foodLicenceType
            request.licenceName = "食品经营许可证"
            request.holder = Fixtures.company
            request.holder.idNumber = "９１３７１３０２ｍａ３ｃ１２３４ｘ７"
            request.scope = "预包装食品销售"
            request.validFrom = Common_CivilDate(Self.monday)
            let issued = try await node.certificate.issueLicence(request, metadata: try node.operatorToken)
            #expect(issued.licence.content.holderCode == Fixtures.uscc)
            for typed in [Fixtures.uscc, Fixtures.uscc.lowercased(), " ９１３７１３０２ＭＡ３Ｃ１２３４Ｘ７"] {
                let found = try await node.certificate.listLicences(.with { $0.holderCode = typed }, metadata: try node.operatorToken).licences
                #expect(found.count == 2, "\(typed)")
                #expect(found.allSatisfy { $0.content.holderCode == Fixtures.uscc })
            }
        }
    }

    @Test("log: entries integrated in batches under signed tree heads; inclusion and consistency proofs over RPC verify from the head and proof alone")
    func transparencyLog() async throws {
        try await withCertificateNode(today: Self.monday) { node in
            let empty = try await node.certificate.getSignedTreeHead(Certificate_GetSignedTreeHeadRequest()).treeHead
            #expect(empty.treeSize == 0)
            #expect(Array(empty.rootHash) == Merkle.emptyRoot)
            var identifiers: [String] = []
            for index in 0..<5 {
                let event = try ApprovalEvents.envelope(ApprovalEvents.granted(caseID: "log-case-\(index)", decidedOn: Self.monday))
                _ = try await node.deliver([event])
            }
            #expect(try await node.integrate() == 5)
            let trust = try await node.certificate.listTrustedIssuers(Certificate_ListTrustedIssuersRequest())
            let own = try #require(trust.issuers.first { $0.own })
            let publicKey = try SealPublicKey(algorithm: .ed25519, rawRepresentation: Array(own.publicKey))
            let head5 = try #require(SignedTreeHead(proto: try await node.certificate.getSignedTreeHead(Certificate_GetSignedTreeHeadRequest()).treeHead))
            #expect(head5.head.size == 5)
            try head5.verify(with: publicKey)

            let licences = try await node.certificate.listLicences(Certificate_ListLicencesRequest(), metadata: try node.operatorToken).licences
            // Pages of two give the same five, newest first, each once; a made-up token is refused by name.
            var paged: [Certificate_Licence] = []
            var token = ""
            repeat {
                let page = try await node.certificate.listLicences(.with { $0.page = .with { $0.pageSize = 2; $0.pageToken = token } }, metadata: try node.operatorToken)
                #expect(page.page.totalSize == 5)
                paged += page.licences
                token = page.page.nextPageToken
            } while !token.isEmpty
            #expect(paged.map(\.licenceID) == licences.map(\.licenceID) && Set(paged.map(\.licenceID)).count == 5)
            #expect(zip(paged, paged.dropFirst()).allSatisfy { $0.0.issuedAt.date >= $0.1.issuedAt.date })
            for bad in ["2", "t1.1.nope"] {
                await #expect {
                    _ = try await node.certificate.listLicences(.with { $0.page = .with { $0.pageToken = bad } }, metadata: try node.operatorToken)
                } throws: { rpcFailure($0)?.fields == ["page.page_token"] }
            }
            for licence in licences {
                #expect(licence.logIndex >= 0)
                identifiers.append(licence.content.licenceIdentifier)
                let proof = try await node.certificate.getInclusionProof(Certificate_GetInclusionProofRequest.with { $0.licenceIdentifier = licence.content.licenceIdentifier })
                #expect(proof.leafIndex == licence.logIndex)
                #expect(Array(proof.leafHash) == Merkle.leafHash(Array(proof.entryBytes)))
                try MerkleVerifier.verifyInclusion(leafHash: Merkle.leafHash(Array(proof.entryBytes)), index: Int(proof.leafIndex), size: Int(proof.treeSize),
                                                   proof: proof.auditPath.map(Array.init), root: head5.head.rootHash)
                #expect(proof.entry.licenceIdentifier == licence.content.licenceIdentifier)
                #expect(Array(proof.entry.signature) == Array(licence.signature.signature))
            }
            // A revocation appends a status leaf; the new head is consistent with the old one.
            _ = try await node.certificate.updateLicenceStatus(Certificate_UpdateLicenceStatusRequest.with {
                $0.licenceID = licences[0].licenceID
                $0.status = .revoked
                $0.reason = "以欺骗手段取得"
                $0.groundCode = "FRAUD_OR_BRIBERY"
            }, metadata: try node.operatorToken)
            for index in 5..<7 {
                _ = try await node.deliver([try ApprovalEvents.envelope(ApprovalEvents.granted(caseID: "log-case-\(index)", decidedOn: Self.monday))])
            }
            #expect(try await node.integrate() == 3)
            let head8 = try #require(SignedTreeHead(proto: try await node.certificate.getSignedTreeHead(Certificate_GetSignedTreeHeadRequest()).treeHead))
            #expect(head8.head.size == 8)
            try head8.verify(with: publicKey)
            for first in 1...8 {
                let consistency = try await node.certificate.getConsistencyProof(Certificate_GetConsistencyProofRequest.with { $0.firstTreeSize = Int64(first) })
                if first == 5 {
                    try MerkleVerifier.verifyConsistency(first: 5, second: 8, firstRoot: head5.head.rootHash, secondRoot: head8.head.rootHash, proof: consistency.proof.map(Array.init))
                }
                #expect(consistency.secondTreeSize == 8)
            }
            // Proof against the earlier head (size 5) by index.
            let old = try await node.certificate.getInclusionProof(Certificate_GetInclusionProofRequest.with { $0.leafIndex = 2; $0.treeSize = 5 })
            try MerkleVerifier.verifyInclusion(leafHash: Array(old.leafHash), index: 2, size: 5, proof: old.auditPath.map(Array.init), root: head5.head.rootHash)
            // Bad requests.
            await #expect { _ = try await node.certificate.getConsistencyProof(Certificate_GetConsistencyProofRequest.with { $0.firstTreeSize = 9 }) } throws: {
                rpcFailure($0)?.code == .failedPrecondition
            }
            await #expect { _ = try await node.certificate.getConsistencyProof(Certificate_GetConsistencyProofRequest.with { $0.firstTreeSize = 0 }) } throws: {
                rpcFailure($0)?.fields == ["first_tree_size"]
            }
            await #expect { _ = try await node.certificate.getInclusionProof(Certificate_GetInclusionProofRequest.with { $0.leafIndex = 99 }) } throws: {
                rpcFailure($0)?.code == .notFound
            }
            await #expect { _ = try await node.certificate.getInclusionProof(Certificate_GetInclusionProofRequest.with { $0.leafIndex = 1; $0.treeSize = 6 }) } throws: {
                rpcFailure($0)?.code == .failedPrecondition
            }
            // The stored tree equals a recomputation from the leaves.
            let leaves = try await node.database.query("SELECT entry FROM log_leaves ORDER BY leaf_index").map { Merkle.leafHash(try $0.decode("entry", as: [UInt8].self)) }
            #expect(MerkleReference.root(leaves) == head8.head.rootHash)
            _ = identifiers
        }
    }

    @Test("verification: authentic and valid; revoked visible; unknown NOT_FOUND; bad check character INVALID_ARGUMENT; forged or altered bytes fail with the reason")
    func verification() async throws {
        try await withCertificateNode(today: Self.monday) { node in
            _ = try await node.deliver([try ApprovalEvents.envelope(ApprovalEvents.granted(caseID: "verify-1", decidedOn: Self.monday))])
            try await node.integrate()
            let licence = try await node.certificate.listLicences(Certificate_ListLicencesRequest(), metadata: try node.operatorToken).licences[0]
            let identifier = licence.content.licenceIdentifier

            let valid = try await node.certificate.verifyLicence(Certificate_VerifyLicenceRequest.with { $0.licenceIdentifier = identifier })
            #expect(valid.authenticity == .authentic)
            #expect(valid.valid)
            #expect(valid.status == .valid)
            #expect(valid.includedInLog)
            #expect(valid.issuer.own)
            #expect(valid.summary.hasPrefix("真实有效"))
            #expect(valid.content.holderName == Fixtures.company.name)

            // Unknown but well-formed: NOT_FOUND. Bad check character: INVALID_ARGUMENT naming the field.
            let unknown = try LicenceIdentifier(typeCode: ApprovalEvents.foodLicenceType, issuer: node.api.settings.issuerCode, serial: "999", version: 1)
            await #expect { _ = try await node.certificate.verifyLicence(Certificate_VerifyLicenceRequest.with { $0.licenceIdentifier = unknown.description }) } throws: {
                rpcFailure($0)?.code == .notFound
            }
            var altered = Array(identifier)
            altered[altered.count - 1] = altered.last == "0" ? "1" : "0"
            await #expect { _ = try await node.certificate.verifyLicence(Certificate_VerifyLicenceRequest.with { $0.licenceIdentifier = String(altered) }) } throws: { error in
                let failure = rpcFailure(error)
                return failure?.code == .invalidArgument && failure?.fields == ["licence_identifier"] && failure?.reasons == ["check_character"]
            }
            await #expect { _ = try await node.certificate.verifyLicence(Certificate_VerifyLicenceRequest.with { $0.licenceIdentifier = "not-an-identifier" }) } throws: {
                rpcFailure($0)?.fields == ["licence_identifier"]
            }

            // A presented copy: the genuine one passes; one altered byte of content or seal fails, with the reason.
            let full = try await node.certificate.getLicence(Certificate_GetLicenceRequest.with { $0.licenceIdentifier = identifier }, metadata: try node.operatorToken).licence
            let genuine = try await node.certificate.verifyLicence(Certificate_VerifyLicenceRequest.with { $0.presented = full })
            #expect(genuine.valid)
            var forged = full
            forged.content.scope += "；酒类销售"
            let forgedAnswer = try await node.certificate.verifyLicence(Certificate_VerifyLicenceRequest.with { $0.presented = forged })
            #expect(forgedAnswer.authenticity == .badSignature)
            #expect(!forgedAnswer.valid)
            #expect(forgedAnswer.failureReason.contains("altered or the seal forged"))
            var badSeal = full
            var signature = Array(badSeal.signature.signature)
            signature[0] ^= 0x01
            badSeal.signature.signature = Data(signature)
            #expect(try await node.certificate.verifyLicence(Certificate_VerifyLicenceRequest.with { $0.presented = badSeal }).authenticity == .badSignature)

            // The QR payload verifies; a QR with another seal is a forgery.
            let rendered = try await node.certificate.renderLicence(Certificate_RenderLicenceRequest.with { $0.licenceID = licence.licenceID }, metadata: try node.operatorToken)
            #expect(try await node.certificate.verifyLicence(Certificate_VerifyLicenceRequest.with { $0.qrPayload = rendered.qrPayload }).valid)
            let copied = rendered.qrPayload.replacingOccurrences(of: "sig=", with: "sig=AA")
            #expect(try await node.certificate.verifyLicence(Certificate_VerifyLicenceRequest.with { $0.qrPayload = copied }).authenticity == .contentMismatch)

            // Revocation (from approval's event) is visible at once.
            var revoked = Approval_GrantRevoked()
            revoked.header = ApprovalEvents.header(caseID: "verify-1")
            revoked.revocation.ground = .fraudOrBribery
            revoked.revocation.facts = "申请人以欺骗手段取得许可"
            revoked.licence.licenceIdentifier = identifier
            let revocation = try ApprovalEvents.envelope(revoked)
            _ = try await node.deliver([revocation, revocation])
            let after = try await node.certificate.verifyLicence(Certificate_VerifyLicenceRequest.with { $0.licenceIdentifier = identifier })
            #expect(after.authenticity == .authentic)
            #expect(after.status == .revoked)
            #expect(!after.valid)
            #expect(after.statusReason == "申请人以欺骗手段取得许可")
            #expect(after.summary.hasPrefix("已撤销"))
            let changes = OutboxRows.of(Certificate_LicenceStatusChanged.self, in: try await node.outbox())
            #expect(changes.map(\.destination).sorted() == ["evaluation@371300", "intake@371302", "supervision@371300"])
            let change = try Certificate_LicenceStatusChanged(serializedBytes: changes[0].payload)
            #expect(change.previousStatus == .valid && change.status == .revoked && change.groundCode == "FRAUD_OR_BRIBERY")
            // A second revocation by hand is refused: the licence is already revoked.
            await #expect { _ = try await node.certificate.updateLicenceStatus(Certificate_UpdateLicenceStatusRequest.with {
                $0.licenceID = licence.licenceID; $0.status = .cancelled; $0.reason = "注销"
            }, metadata: try node.operatorToken) } throws: { rpcFailure($0)?.code == .failedPrecondition }
        }
    }

    @Test("reissue: only certificate operators; new version, old one superseded; cancellation follows to the current version; expiry logged and announced")
    func reissueCancelExpire() async throws {
        try await withCertificateNode(today: Self.monday) { node in
            _ = try await node.deliver([try ApprovalEvents.envelope(ApprovalEvents.granted(caseID: "reissue-1", decidedOn: Self.monday))])
            let original = try await node.certificate.listLicences(Certificate_ListLicencesRequest(), metadata: try node.operatorToken).licences[0]
            var request = Certificate_ReissueLicenceRequest()
            request.licenceID = original.licenceID
            request.reason = "经营场所名称变更"
            request.place = "山东省临沂市兰山区解放路2号"
            await #expect { _ = try await node.certificate.reissueLicence(request, metadata: try node.metadata(.operator)) } throws: { rpcFailure($0)?.code == .permissionDenied }
            await #expect { _ = try await node.certificate.reissueLicence(request, metadata: try node.approvalToken) } throws: { rpcFailure($0)?.code == .permissionDenied }
            let reissued = try await node.certificate.reissueLicence(request, metadata: try node.operatorToken)
            #expect(reissued.licence.content.version == "002")
            #expect(reissued.licence.content.serial == original.content.serial)
            #expect(reissued.licence.content.place == request.place)
            #expect(reissued.licence.content.licenceNumber == original.content.licenceNumber)
            #expect(reissued.superseded.status == .superseded)
            #expect(reissued.superseded.supersededBy == reissued.licence.content.licenceIdentifier)
            try await node.integrate()
            let old = try await node.certificate.verifyLicence(Certificate_VerifyLicenceRequest.with { $0.licenceIdentifier = original.content.licenceIdentifier })
            #expect(old.status == .superseded && !old.valid && old.supersededBy == reissued.licence.content.licenceIdentifier)
            #expect(try await node.certificate.verifyLicence(Certificate_VerifyLicenceRequest.with { $0.licenceIdentifier = reissued.licence.content.licenceIdentifier }).valid)
            await #expect { _ = try await node.certificate.reissueLicence(request, metadata: try node.operatorToken) } throws: { rpcFailure($0)?.code == .failedPrecondition }

            // Approval cancels the grant naming the first version: the current version is cancelled.
            var cancelled = Approval_GrantCancelled()
            cancelled.header = ApprovalEvents.header(caseID: "reissue-1")
            cancelled.cancellation.ground = .holderRequest
            cancelled.cancellation.facts = "持证主体申请注销"
            cancelled.licence.licenceIdentifier = original.content.licenceIdentifier
            _ = try await node.deliver([try ApprovalEvents.envelope(cancelled)])
            let current = try await node.certificate.verifyLicence(Certificate_VerifyLicenceRequest.with { $0.licenceIdentifier = reissued.licence.content.licenceIdentifier })
            #expect(current.status == .cancelled)

            // Expiry: a one-year licence read after its end is EXPIRED; the sweeper logs and announces it once.
            var short = Certificate_IssueLicenceRequest()
            short.caseID = "expiring-1"
            short.implementationCode = ApprovalEvents.food
            short.licenceTypeCode = ApprovalEvents.foodLicenceType
            short.licenceName = "食品经营许可证"
            short.holder = Fixtures.company
            short.scope = "预包装食品销售"
            short.validUntil = Common_CivilDate(CivilDate(year: 2026, month: 12, day: 31)!)
            let expiring = try await node.certificate.issueLicence(short, metadata: try node.operatorToken).licence
            #expect(try await ExpirySweeper(api: node.api).sweepOnce() == 0)
            node.clock.set(CivilDate(year: 2027, month: 1, day: 4)!)
            let expired = try await node.certificate.verifyLicence(Certificate_VerifyLicenceRequest.with { $0.licenceIdentifier = expiring.content.licenceIdentifier })
            #expect(expired.status == .expired && !expired.valid)
            let listed = try await node.certificate.listLicences(Certificate_ListLicencesRequest.with { $0.statuses = [.expired] }, metadata: try node.operatorToken)
            #expect(listed.licences.map(\.licenceID) == [expiring.licenceID])
            #expect(try await ExpirySweeper(api: node.api).sweepOnce() == 1)
            #expect(try await ExpirySweeper(api: node.api).sweepOnce() == 0)
            let statusChanges = OutboxRows.of(Certificate_LicenceStatusChanged.self, in: try await node.outbox())
            #expect(statusChanges.contains { (try? Certificate_LicenceStatusChanged(serializedBytes: $0.payload).status) == .expired })
        }
    }

    @Test("the holder downloads their own licence (送达 online); another applicant is told there is none")
    func holderDownloadsOwnLicence() async throws {
        try await withCertificateNode(today: Self.monday) { node in
            _ = try await node.deliver([try ApprovalEvents.envelope(ApprovalEvents.granted(caseID: "holder-1", decidedOn: Self.monday))])
            let licence = try await node.certificate.listLicences(Certificate_ListLicencesRequest(), metadata: try node.operatorToken).licences[0]
            let request = Certificate_RenderLicenceRequest.with { $0.licenceID = licence.licenceID }
            // The company, its USCC typed in lower case.
            let own = try await node.certificate.renderLicence(request, metadata: try node.metadata(.applicant, subject: Fixtures.company.idNumber.lowercased()))
            #expect(own.document.starts(with: Data("%PDF-".utf8)))
            // The read is logged, without the holder's ID number.
            let reads = try await node.database.query("SELECT subject FROM personal_data_reads WHERE role = 'applicant'").map { try $0.decode("subject", as: String.self) }
            #expect(reads == ["holder"])
            await #expect { _ = try await node.certificate.renderLicence(request, metadata: try node.metadata(.applicant, subject: "110101199003070011")) } throws: {
                rpcFailure($0)?.code == .notFound
            }
            #expect(try await node.database.query("SELECT count(*)::int8 AS n FROM personal_data_reads WHERE role = 'applicant'").one().decode("n", as: Int.self) == 1)
            // The holder knows the licence by its identifier (the application's LicenceRef): that
            // works too (decisions W29), still only for the holder; staff keep to the row id.
            let byIdentifier = Certificate_RenderLicenceRequest.with { $0.licenceID = licence.content.licenceIdentifier }
            let again = try await node.certificate.renderLicence(byIdentifier, metadata: try node.metadata(.applicant, subject: Fixtures.company.idNumber))
            #expect(again.document.starts(with: Data("%PDF-".utf8)))
            await #expect { _ = try await node.certificate.renderLicence(byIdentifier, metadata: try node.metadata(.applicant, subject: "110101199003070011")) } throws: {
                rpcFailure($0)?.code == .notFound
            }
            await #expect { _ = try await node.certificate.renderLicence(byIdentifier, metadata: try node.operatorToken) } throws: {
                rpcFailure($0)?.code == .invalidArgument
            }
        }
    }

    @Test("the PDF renders with Chinese text, the holder's name and the QR payload; PNG and SVG too")
    func document() async throws {
        try await withCertificateNode(today: Self.monday, settings: ["certificate.verify_url": "https://zwfw.linyi.gov.cn/verify", "certificate.issuer_name": "临沂市行政审批服务局"]) { node in
            _ = try await node.deliver([try ApprovalEvents.envelope(ApprovalEvents.granted(caseID: "pdf-1", decidedOn: Self.monday))])
            let licence = try await node.certificate.listLicences(Certificate_ListLicencesRequest(), metadata: try node.operatorToken).licences[0]
            let pdf = try await node.certificate.renderLicence(Certificate_RenderLicenceRequest.with { $0.licenceID = licence.licenceID }, metadata: try node.metadata(.windowClerk, node: "371302"))
            #expect(pdf.contentType == "application/pdf")
            #expect(pdf.fileName == "食品经营许可证-\(licence.content.licenceNumber).pdf")
            #expect(pdf.document.starts(with: Data("%PDF-".utf8)))
            #expect(pdf.qrPayload.hasPrefix("https://zwfw.linyi.gov.cn/verify?v=1&id=\(licence.content.licenceIdentifier)"))
            // cairo writes the link over the QR code and the metadata uncompressed: the payload as a
            // literal URI, the holder's name as UTF-16BE in the document subject.
            #expect(pdf.document.range(of: Data(pdf.qrPayload.utf8)) != nil)
            let subject = Array("持证主体：\(Fixtures.company.name)".utf16).map { String(format: "%04X", $0) }.joined()
            let text = String(decoding: pdf.document, as: UTF8.self).uppercased()
            #expect(text.contains(subject) || pdf.document.range(of: Data(subject.utf8)) != nil)
            // The Chinese font is embedded (subset) rather than missing.
            #expect(text.contains("WENQUANYI") || text.contains("WQY"))
            let png = try await node.certificate.renderLicence(Certificate_RenderLicenceRequest.with { $0.licenceID = licence.licenceID; $0.format = .png }, metadata: try node.operatorToken)
            #expect(png.document.starts(with: Data([0x89, 0x50, 0x4E, 0x47])))
            // ONESEAL_TEST_KEEP_DOCUMENTS=DIR keeps the rendered documents for a person to look at.
            if let directory = ProcessInfo.processInfo.environment["ONESEAL_TEST_KEEP_DOCUMENTS"] {
                try pdf.document.write(to: URL(fileURLWithPath: directory).appendingPathComponent("licence.pdf"))
                try png.document.write(to: URL(fileURLWithPath: directory).appendingPathComponent("licence.png"))
            }
            let svg = try await node.certificate.renderLicence(Certificate_RenderLicenceRequest.with { $0.licenceID = licence.licenceID; $0.format = .svg }, metadata: try node.operatorToken)
            #expect(String(decoding: svg.document, as: UTF8.self).contains("<svg"))
            await #expect { _ = try await node.certificate.renderLicence(Certificate_RenderLicenceRequest.with { $0.licenceID = licence.licenceID }, metadata: try node.metadata(.evaluator)) } throws: {
                rpcFailure($0)?.code == .permissionDenied
            }
            await #expect { _ = try await node.certificate.renderLicence(Certificate_RenderLicenceRequest.with { $0.licenceID = UUID().uuidString }, metadata: try node.operatorToken) } throws: {
                rpcFailure($0)?.code == .notFound
            }
        }
    }

    @Test("key rotation: after a restart with a new seal key, earlier licences still verify and new ones carry the new key")
    func rotation() async throws {
        let old = SealKey.generate()
        let new = SealKey.generate()
        let token = TokenSigningKey.generate(issuer: "371300")
        let files = CertificateKeyFiles.make(seals: [old], token: token)
        defer { files.remove() }
        try await withTestDatabase(prefix: "certificate") { database, testDatabase in
            let firstIdentifier = Box<String>("")
            try await withCertificateNode(today: CivilDate(year: 2026, month: 6, day: 1)!, token: token, keyFiles: files, database: (database, testDatabase)) { node in
                _ = try await node.deliver([try ApprovalEvents.envelope(ApprovalEvents.granted(caseID: "rot-1", decidedOn: CivilDate(year: 2026, month: 6, day: 1)!))])
                try await node.integrate()
                let licence = try await node.certificate.listLicences(Certificate_ListLicencesRequest(), metadata: try node.operatorToken).licences[0]
                #expect(licence.signature.keyID == old.keyID)
                firstIdentifier.set(licence.content.licenceIdentifier)
            }
            files.rewriteSeals([new, old])
            try await withCertificateNode(today: Self.monday, token: token, keyFiles: files, database: (database, testDatabase)) { node in
                let trust = try await node.certificate.listTrustedIssuers(Certificate_ListTrustedIssuersRequest()).issuers.filter(\.own)
                #expect(Set(trust.map(\.keyID)) == [old.keyID, new.keyID])
                #expect(trust.first { $0.keyID == old.keyID }?.hasValidUntil == true)
                #expect(trust.first { $0.keyID == new.keyID }?.hasValidUntil == false)
                let earlier = try await node.certificate.verifyLicence(Certificate_VerifyLicenceRequest.with { $0.licenceIdentifier = firstIdentifier.get() })
                #expect(earlier.valid)
                #expect(earlier.issuer.keyID == old.keyID)
                #expect(earlier.includedInLog)
                _ = try await node.deliver([try ApprovalEvents.envelope(ApprovalEvents.granted(caseID: "rot-2", decidedOn: Self.monday))])
                try await node.integrate()
                let second = try await node.certificate.listLicences(Certificate_ListLicencesRequest.with { $0.caseID = "rot-2" }, metadata: try node.operatorToken).licences[0]
                #expect(second.signature.keyID == new.keyID)
                let verified = try await node.certificate.verifyLicence(Certificate_VerifyLicenceRequest.with { $0.licenceIdentifier = second.content.licenceIdentifier })
                #expect(verified.valid && verified.includedInLog)
                // The tree heads signed under both keys verify with the trust list's keys.
                let head = try #require(SignedTreeHead(proto: try await node.certificate.getSignedTreeHead(Certificate_GetSignedTreeHeadRequest()).treeHead))
                try head.verify(with: new.publicKey)
                #expect(head.head.size == 2)
            }
        }
    }

    @Test("互认: the county verifies the city's licence through its trust list and the city's node; an untrusted issuer is reported")
    func peerVerification() async throws {
        let token = TokenSigningKey.generate(issuer: "371300")
        try await withCertificateNode(node: "371300", today: Self.monday, token: token) { city in
            _ = try await city.deliver([try ApprovalEvents.envelope(ApprovalEvents.granted(caseID: "peer-1", decidedOn: Self.monday))])
            try await city.integrate()
            let licence = try await city.certificate.listLicences(Certificate_ListLicencesRequest(), metadata: try city.operatorToken).licences[0]
            let cityKey = try #require(try await city.certificate.listTrustedIssuers(Certificate_ListTrustedIssuersRequest()).issuers.first { $0.own })

            try await withCertificateNode(node: "371302", today: Self.monday, token: token, peers: ["certificate@371300": city.port]) { county in
                let ask = Certificate_VerifyLicenceRequest.with { $0.licenceIdentifier = licence.content.licenceIdentifier }
                let untrusted = try await county.certificate.verifyLicence(ask)
                #expect(untrusted.authenticity == .untrustedIssuer && !untrusted.valid)

                var entry = cityKey
                entry.own = false
                entry.endpoint = ""
                await #expect { _ = try await county.certificate.addTrustedIssuer(Certificate_AddTrustedIssuerRequest.with { $0.issuer = entry }, metadata: try county.operatorToken) } throws: {
                    rpcFailure($0)?.code == .permissionDenied
                }
                var bad = entry
                bad.publicKey = Data([1, 2, 3])
                bad.node = "37"
                await #expect { _ = try await county.certificate.addTrustedIssuer(Certificate_AddTrustedIssuerRequest.with { $0.issuer = bad }, metadata: try county.metadata(.operator)) } throws: {
                    Set(rpcFailure($0)?.fields ?? []) == ["issuer.public_key", "issuer.node"]
                }
                _ = try await county.certificate.addTrustedIssuer(Certificate_AddTrustedIssuerRequest.with { $0.issuer = entry }, metadata: try county.metadata(.operator))

                let answer = try await county.certificate.verifyLicence(ask)
                #expect(answer.authenticity == .authentic)
                #expect(answer.valid)
                #expect(answer.answeredByPeer)
                #expect(answer.includedInLog)
                #expect(answer.issuer.node == "371300")
                #expect(answer.content.holderName == Fixtures.company.name)

                // The city revokes; the county sees it at once.
                _ = try await city.certificate.updateLicenceStatus(Certificate_UpdateLicenceStatusRequest.with {
                    $0.licenceID = licence.licenceID; $0.status = .revoked; $0.reason = "以欺骗手段取得"
                }, metadata: try city.operatorToken)
                let revoked = try await county.certificate.verifyLicence(ask)
                #expect(revoked.status == .revoked && !revoked.valid && revoked.answeredByPeer)

                // An unknown identifier of the city: NOT_FOUND from the city.
                let unknown = try LicenceIdentifier(typeCode: ApprovalEvents.foodLicenceType, issuer: city.api.settings.issuerCode, serial: "12345", version: 1)
                await #expect { _ = try await county.certificate.verifyLicence(Certificate_VerifyLicenceRequest.with { $0.licenceIdentifier = unknown.description }) } throws: {
                    rpcFailure($0)?.code == .notFound
                }
            }
        }
    }

    @Test("counters: an issuance's serial and number drawn in one statement, each in the order named; a scope named twice gets consecutive values; concurrent draws stay gap-free")
    func countersDrawnTogether() async throws {
        try await withCertificateNode(today: Self.monday) { node in
            let first = try await node.database.withTransaction { try await LicenceStore.next(["serial:2026", "number:A"], in: $0) }
            #expect(first == [1, 1])
            let second = try await node.database.withTransaction { try await LicenceStore.next(["number:A", "serial:2026", "number:A"], in: $0) }
            #expect(second == [2, 2, 3])
            // A transaction that rolls back draws nothing (the counters stay gap-free).
            await #expect(throws: RolledBack.self) {
                try await node.database.withTransaction { connection in
                    _ = try await LicenceStore.next(["serial:2026", "number:A"], in: connection)
                    throw RolledBack()
                }
            }
            // Pairs named in both orders at once: no deadlock, and every value handed out once.
            let drawn = try await withThrowingTaskGroup(of: (serial: Int, number: Int).self) { group in
                for index in 0..<8 {
                    let serialFirst = index.isMultiple(of: 2)
                    let scopes = serialFirst ? ["serial:2026", "number:A"] : ["number:A", "serial:2026"]
                    group.addTask {
                        let values = try await node.database.withTransaction { try await LicenceStore.next(scopes, in: $0) }
                        return serialFirst ? (values[0], values[1]) : (values[1], values[0])
                    }
                }
                var all: [(serial: Int, number: Int)] = []
                for try await values in group { all.append(values) }
                return all
            }
            #expect(drawn.map(\.serial).sorted() == Array(3...10))
            #expect(drawn.map(\.number).sorted() == Array(4...11))
            let last = try await node.database.query("SELECT scope, last FROM counters WHERE scope IN ('serial:2026', 'number:A') ORDER BY scope").map {
                "\(try $0.decode("scope", as: String.self))=\(try $0.decode("last", as: Int.self))"
            }
            #expect(last == ["number:A=11", "serial:2026=10"])
        }
    }

    struct RolledBack: Error {}

    @Test("the signed bytes are swift-protobuf's deterministic encoding of LicenceContent and TreeHeadSignedData")
    func canonicalEncoding() throws {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        let identifier = try LicenceIdentifier(typeCode: ApprovalEvents.foodLicenceType, issuer: "11371300MB0000000X", serial: "371300202600000001", version: 1)
        for holder in [Fixtures.company, Fixtures.person] {
            for validUntil in [CivilDate(year: 2031, month: 11, day: 22), nil] {
                let (type, code) = holder.holderCodeType
                let content = LicenceContent(
                    licenceName: "食品经营许可证", licenceTypeCode: ApprovalEvents.foodLicenceType, licenceNumber: "JY1371300000001",
                    licenceIdentifier: identifier.description, issuerName: "临沂市行政审批服务局", issuerCode: "11371300MB0000000X",
                    issueDate: Self.monday, holderName: holder.name, holderCode: holder.idNumber, holderCodeType: type, holderCodeTypeCode: code,
                    validFrom: Self.monday, validUntil: validUntil, scope: "热食类食品制售", conditions: ["甲", "乙"], place: "解放路1号",
                    extraFields: ["主体业态": "餐饮服务经营者", "b": "2", "a": "1", "主体业态代码": "2"], serial: identifier.serial, version: "001",
                    issuingNode: "371300", caseID: "c", caseNumber: "n", implementationCode: ApprovalEvents.food)
                #expect(try content.proto.serializedBytes(options: options) as [UInt8] == content.canonicalBytes)
                #expect(LicenceContent(proto: try Certificate_LicenceContent(serializedBytes: content.canonicalBytes)) == content)
            }
        }
        let head = TreeHead(logID: "371300", size: 70, rootHash: Array(repeating: 7, count: 32), timestampMilliseconds: 1_795_000_000_123)
        var data = Certificate_TreeHeadSignedData()
        data.logID = head.logID
        data.treeSize = 70
        data.rootHash = Data(head.rootHash)
        data.timestamp = Google_Protobuf_Timestamp(seconds: 1_795_000_000, nanos: 123_000_000)
        #expect(try data.serializedBytes(options: options) as [UInt8] == head.signedBytes)
        let signed = SignedTreeHead(signing: head, with: SealKey.generate())
        #expect(SignedTreeHead(proto: signed.proto) == signed)
    }
}
