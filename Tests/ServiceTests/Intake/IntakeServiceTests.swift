import Foundation
import GRPCCore
import IntakeRules
import OneSealAuth
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealStore
import Testing
@testable import IntakeService

/// The single window through real RPC (OneSeal TCP, auth, a real PostgreSQL), on the county node
/// 371302 (兰山区), on real dates.
@Suite("Intake service", .serialized)
struct IntakeServiceTests {
    static let food = "000117005000371302001"         // 食品经营许可: sole, deficiency + commitment allowed
    static let hygiene = "000117016000371302002"      // 公共场所卫生许可
    static let forestry = "000105008000371302004"     // 林木采伐许可: neither deficiency nor commitment
    static let water = "000116001000371300005"        // 取水许可: implemented by the city 371300
    static let transport = "000120004000371302008"    // 道路旅客运输经营许可: commitment allowed
    static let publishing = "000127009000371302013"   // 出版物零售业务经营许可
    static let monday = CivilDate(year: 2026, month: 11, day: 23)!

    @Test("catalogue: versions on change only, pinned by running applications, public guide, operator-only publishing")
    func catalogue() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let listed = try await node.intake.listItems(Intake_ListItemsRequest())
            #expect(listed.items.count == 17)
            #expect(listed.page.totalSize == 17)

            var item = try await node.intake.getItem(Intake_GetItemRequest.with { $0.implementationCode = Self.food }).item
            #expect(item.version == 1)
            // Publishing the same content makes no new version.
            var same = Intake_UpsertItemRequest()
            same.item = item
            let unchanged = try await node.intake.upsertItem(same, metadata: try node.operatorToken)
            #expect(!unchanged.createdNewVersion)
            #expect(unchanged.item.version == 1)

            // An application pins version 1 …
            let submitted = try await node.intake.submitApplication(try Fixtures.submit([Self.food]), metadata: try node.clerk)
            #expect(submitted.application.items[0].itemVersion == 1)

            // … and a changed promise makes version 2 without touching it.
            item.promisedDays = 3
            var changed = Intake_UpsertItemRequest()
            changed.item = item
            changed.changeNote = "承诺时限压缩为3个工作日"
            let published = try await node.intake.upsertItem(changed, metadata: try node.operatorToken)
            #expect(published.createdNewVersion)
            #expect(published.item.version == 2)
            let history = try await node.intake.getItem(Intake_GetItemRequest.with { $0.implementationCode = Self.food; $0.version = 1 })
            #expect(history.item.promisedDays == 5)
            #expect(history.versions == [1, 2])
            // The current version (0) and the list come in the same answer.
            let current = try await node.intake.getItem(Intake_GetItemRequest.with { $0.implementationCode = Self.food })
            #expect(current.item.version == 2 && current.item.promisedDays == 3)
            #expect(current.versions == [1, 2])
            await #expect {
                try await node.intake.getItem(Intake_GetItemRequest.with { $0.implementationCode = Self.food; $0.version = 3 })
            } throws: { ($0 as? RPCError)?.code == .notFound }

            let accepted = try await node.intake.accept(Intake_AcceptRequest.with { $0.applicationID = submitted.application.applicationID }, metadata: try node.clerk)
            #expect(accepted.application.items[0].itemVersion == 1)
            // Promised on: 5 working days (the pinned version) after Monday 2026-11-23.
            #expect(accepted.application.receipt.promisedOn.civilDate == CivilDate(year: 2026, month: 11, day: 30))

            // Only operators publish; bad items are refused field by field; unknown items are NOT_FOUND.
            await #expect { _ = try await node.intake.upsertItem(changed, metadata: try node.clerk) } throws: { rpcFailure($0)?.code == .permissionDenied }
            var bad = changed
            bad.item.promisedDays = 40
            bad.item.name = ""
            await #expect { _ = try await node.intake.upsertItem(bad, metadata: try node.operatorToken) } throws: { error in
                let failure = rpcFailure(error)
                return failure?.code == .invalidArgument && failure!.fields.contains("item.name") && failure!.fields.contains("item.promised_days")
            }
            await #expect { _ = try await node.intake.getItem(Intake_GetItemRequest.with { $0.implementationCode = "000000000000000000999" }) } throws: {
                rpcFailure($0)?.code == .notFound
            }
            let search = try await node.intake.listItems(Intake_ListItemsRequest.with { $0.query = "食品" })
            #expect(search.items.map(\.implementationCode) == [Self.food, "000117005000371302016"])  // and its instant renewal
        }
    }

    @Test("a stored application names its pinned versions; a process that holds none reads them from the catalogue, which keeps every pinned version")
    func pinnedVersionsStored() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let submitted = try await node.intake.submitApplication(try Fixtures.submit([Self.food]), metadata: try node.clerk)
            let id = try #require(UUID(uuidString: submitted.application.applicationID))
            let stored = try await node.database.query("""
                SELECT state::jsonb->'items'->0 ? 'item' AS content, (state->'items'->0->'version'->>'version')::int8 AS version FROM applications WHERE id = \(id)
                """).one()
            #expect(try stored.decode("content", as: Bool.self) == false)
            #expect(try stored.decode("version", as: Int.self) == 1)

            // As after a start: nothing held, nothing decoded. The read loads version 1.
            CatalogueStore.pinnedVersions.forgetAll()
            ApplicationStore.decodedStates.forgetAll()
            ApplicationStore.heldStates.forgetAll()
            let read = try await node.intake.getApplication(.with { $0.applicationID = submitted.application.applicationID }, metadata: try node.clerk)
            #expect(read.application.items.map(\.itemVersion) == [1])
            #expect(read.application.items.map(\.itemName) == submitted.application.items.map(\.itemName))
            let version = ItemVersion(implementationCode: Self.food, version: 1, contentHash: try await node.database.query(
                "SELECT content_hash FROM catalogue_items WHERE implementation_code = \(Self.food) AND version = 1").one().decode("content_hash", as: String.self))
            #expect(CatalogueStore.pinnedVersions.item(version)?.implementationCode == Self.food)

            // The catalogue keeps what is pinned: no change of content, no delete, no emptying;
            // a note may change, and an item nobody pinned may go.
            for statement: SQLQuery in [
                "UPDATE catalogue_items SET content = content || '{\"promisedDays\": 3}'::jsonb WHERE implementation_code = \(Self.food)",
                "UPDATE catalogue_items SET content_hash = 'x' WHERE implementation_code = \(Self.food)",
                "DELETE FROM catalogue_items WHERE implementation_code = \(Self.food)",
                "TRUNCATE catalogue_items",
            ] {
                await #expect(throws: (any Error).self) { try await node.database.execute(statement) }
            }
            try await node.database.execute("UPDATE catalogue_items SET change_note = '更正说明' WHERE implementation_code = \(Self.food)")
            try await node.database.execute("DELETE FROM catalogue_items WHERE implementation_code = '000117005000371302016'")

            // A state naming a version the catalogue does not hold (its hash altered by hand) is
            // an error, never another version's rules.
            try await node.database.execute("UPDATE applications SET state = jsonb_set(state::jsonb, '{items,0,version,contentHash}', '\"0000\"')::json WHERE id = \(id)")
            await #expect { _ = try await node.intake.getApplication(.with { $0.applicationID = submitted.application.applicationID }, metadata: try node.clerk) } throws: {
                ($0 as? RPCError)?.code == .dataLoss && ($0 as? RPCError)?.message.contains("version 1 of item \(Self.food)") == true
            }
        }
    }

    @Test("accepted: receipt, deadline in working days, events to approval and evaluation in one transaction")
    func accept() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let submitted = try await node.intake.submitApplication(try Fixtures.submit([Self.food]), metadata: try node.clerk)
            #expect(submitted.checkFindings.isEmpty)
            #expect(submitted.allowedOutcomes.contains(.accepted))
            #expect(submitted.application.status == .submitted)
            #expect(submitted.application.applicationNumber.count == 22)
            #expect(submitted.application.intakeDeadline.dueOn.civilDate == CivilDate(year: 2026, month: 11, day: 30))
            let response = try await node.intake.accept(
                Intake_AcceptRequest.with { $0.applicationID = submitted.application.applicationID; $0.expectedRevision = submitted.application.revision },
                metadata: try node.clerk)
            let application = response.application
            #expect(application.status == .accepted)
            #expect(application.outcome == .accepted)
            #expect(application.receipt.acceptedOn.civilDate == Self.monday)
            #expect(application.receipt.receiptNumber == "371302受〔2026〕1号")
            #expect(String(decoding: application.receipt.document.content, as: UTF8.self).contains("予以受理"))
            #expect(application.decidedBy.role == "window_clerk")
            #expect(application.items[0].progress == .inApproval)

            let events = try await node.outbox()
            #expect(events.map(\.type) == [
                "oneseal.intake.v1.ApplicationSubmitted",
                "oneseal.intake.v1.ApplicationAccepted", "oneseal.intake.v1.ApplicationAccepted",
            ])
            #expect(events.map(\.destination) == ["evaluation@371302", "evaluation@371302", "approval@371302"])
            let toApproval = try Intake_ApplicationAccepted(serializedBytes: events[2].payload)
            #expect(toApproval.items.map(\.implementationCode) == [Self.food])
            #expect(toApproval.applicant.idNumber == Fixtures.uscc)
            #expect(toApproval.acceptanceKind == .complete)

            // A stale view, and a second decision, are refused.
            await #expect {
                _ = try await node.intake.accept(Intake_AcceptRequest.with { $0.applicationID = application.applicationID; $0.expectedRevision = 1 }, metadata: try node.clerk)
            } throws: { rpcFailure($0)?.code == .failedPrecondition }
            await #expect {
                _ = try await node.intake.rejectApplication(Intake_RejectApplicationRequest.with {
                    $0.applicationID = application.applicationID; $0.ground = .other; $0.reason = "材料虚假"; $0.legalBasis = "《行政许可法》第三十二条"
                }, metadata: try node.clerk)
            } throws: { rpcFailure($0)?.code == .failedPrecondition }
        }
    }

    @Test("one-time correction notice: lists exactly what is missing, once; the correction returns it for a decision")
    func correctionNotice() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let submitted = try await node.intake.submitApplication(try Fixtures.submit([Self.food], leaving: ["M04", "M05"]), metadata: try node.clerk)
            #expect(submitted.checkFindings.map(\.requirementCode) == ["M04", "M05"])
            #expect(!submitted.allowedOutcomes.contains(.accepted))
            let id = submitted.application.applicationID
            await #expect { _ = try await node.intake.accept(Intake_AcceptRequest.with { $0.applicationID = id }, metadata: try node.clerk) } throws: {
                rpcFailure($0)?.code == .failedPrecondition
            }

            func notice(_ problems: [Intake_MaterialProblem]) -> Intake_IssueCorrectionNoticeRequest {
                Intake_IssueCorrectionNoticeRequest.with { $0.applicationID = id; $0.problems = problems }
            }
            let findings = submitted.checkFindings
            // Leaving one out, or listing a complete one, is refused.
            await #expect { _ = try await node.intake.issueCorrectionNotice(notice([findings[0]]), metadata: try node.clerk) } throws: {
                rpcFailure($0)?.reasons.contains("correction.incomplete") == true
            }
            var complete = findings[0]
            complete.requirementCode = "M01"
            await #expect { _ = try await node.intake.issueCorrectionNotice(notice(findings + [complete]), metadata: try node.clerk) } throws: {
                rpcFailure($0)?.reasons.contains("correction.lists_complete_material") == true
            }
            let issued = try await node.intake.issueCorrectionNotice(notice(findings), metadata: try node.clerk)
            #expect(issued.application.status == .correctionRequested)
            #expect(issued.notice.problems.count == 2)
            #expect(issued.notice.noticeNumber == "371302补〔2026〕1号")
            #expect(issued.application.correctionNotices.count == 1)

            // The applicant supplies one of two: back to review, one still open.
            let materials = Fixtures.materials(for: try SampleCatalogue.items.filter { $0.implementationCode == Self.food })
            let corrected = try await node.intake.submitCorrection(Intake_SubmitCorrectionRequest.with {
                $0.applicationID = id
                $0.materials = materials.filter { $0.requirementCode == "M04" }
            }, metadata: try node.clerk)
            #expect(corrected.application.status == .submitted)
            #expect(corrected.stillOpen.map(\.requirementCode) == ["M05"])
            #expect(corrected.application.visits == 2)
            // A second notice is what Art. 32 forbids.
            await #expect { _ = try await node.intake.issueCorrectionNotice(notice(corrected.stillOpen), metadata: try node.clerk) } throws: {
                rpcFailure($0)?.code == .failedPrecondition
            }
            _ = try await node.intake.submitCorrection(Intake_SubmitCorrectionRequest.with {
                $0.applicationID = id
                $0.materials = materials.filter { $0.requirementCode == "M05" }
            }, metadata: try node.clerk)
            let accepted = try await node.intake.accept(Intake_AcceptRequest.with { $0.applicationID = id }, metadata: try node.clerk)
            #expect(accepted.application.status == .accepted)
            let steps = try await node.database.query("SELECT description FROM application_steps ORDER BY seq").map { try $0.decode("description", as: String.self) }
            #expect(steps.count == 5)
            // Steps written together (one statement with the application's UPDATE, #21) keep the
            // order given, behind the ones before.
            let uuid = try #require(UUID(uuidString: id))
            let stored = try #require(try await node.database.withConnection { try await ApplicationStore.find(id: uuid, on: $0) })
            let at = Date()
            try await node.database.withTransaction { transaction in
                try await ApplicationStore.update(stored, steps: [(at, "丙"), (at, "甲"), (at, "乙")], node: "371302", events: [], in: transaction)
            }
            let after = try await node.database.query("SELECT description FROM application_steps WHERE application_id = \(uuid) ORDER BY seq")
                .map { try $0.decode("description", as: String.self) }
            #expect(after == steps + ["丙", "甲", "乙"])
        }
    }

    @Test("not accepted: reason and legal basis always, the competent agency when outside our powers")
    func reject() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let submitted = try await node.intake.submitApplication(try Fixtures.submit([Self.forestry], applicant: Fixtures.person), metadata: try node.clerk)
            var request = Intake_RejectApplicationRequest()
            request.applicationID = submitted.application.applicationID
            request.ground = .outsidePowers
            request.reason = "所涉林地位于河东区，不属于本机关管辖"
            await #expect { _ = try await node.intake.rejectApplication(request, metadata: try node.clerk) } throws: { error in
                let fields = rpcFailure(error)?.fields ?? []
                return fields.contains("legal_basis") && fields.contains("competent_agency")
            }
            request.legalBasis = "《中华人民共和国行政许可法》第三十二条第一款第二项"
            request.competentAgency = "临沂市河东区行政审批服务局"
            let rejected = try await node.intake.rejectApplication(request, metadata: try node.clerk)
            #expect(rejected.application.status == .notAccepted)
            #expect(rejected.notice.competentAgency == "临沂市河东区行政审批服务局")
            #expect(rejected.notice.legalBasis == request.legalBasis)
            #expect(rejected.application.items[0].progress == .notAccepted)
            let text = String(decoding: rejected.notice.document.content, as: UTF8.self)
            #expect(text.contains("临沂市河东区行政审批服务局") && text.contains("行政复议"))
            await #expect { _ = try await node.intake.accept(Intake_AcceptRequest.with { $0.applicationID = request.applicationID }, metadata: try node.clerk) } throws: {
                rpcFailure($0)?.code == .failedPrecondition
            }
        }
    }

    @Test("accepted with deficiency and by commitment, only where the item allows it")
    func deficiencyAndCommitment() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            // 容缺: M04 of the food licence is non-core.
            let food = try await node.intake.submitApplication(try Fixtures.submit([Self.food], leaving: ["M04"]), metadata: try node.clerk)
            #expect(food.allowedOutcomes.contains(.acceptedWithDeficiency))
            let deficient = try await node.intake.acceptWithDeficiency(Intake_AcceptWithDeficiencyRequest.with {
                $0.applicationID = food.application.applicationID
                $0.missing = food.checkFindings
                $0.undertaking = "本单位承诺于规定期限内补齐设备设施布局图"
            }, metadata: try node.clerk)
            #expect(deficient.application.outcome == .acceptedWithDeficiency)
            // Node default: 10 working days from Monday 2026-11-23.
            #expect(deficient.application.deficiency.supplyBy.civilDate == CivilDate(year: 2026, month: 12, day: 7))

            // 林木采伐 allows neither.
            let forestry = try await node.intake.submitApplication(try Fixtures.submit([Self.forestry], applicant: Fixtures.person, leaving: ["M04"]), metadata: try node.clerk)
            #expect(!forestry.allowedOutcomes.contains(.acceptedWithDeficiency))
            #expect(!forestry.allowedOutcomes.contains(.acceptedByCommitment))
            await #expect {
                _ = try await node.intake.acceptWithDeficiency(Intake_AcceptWithDeficiencyRequest.with {
                    $0.applicationID = forestry.application.applicationID; $0.missing = forestry.checkFindings; $0.undertaking = "承诺补齐"
                }, metadata: try node.clerk)
            } throws: { rpcFailure($0)?.code == .failedPrecondition }
            await #expect {
                _ = try await node.intake.acceptByCommitment(Intake_AcceptByCommitmentRequest.with {
                    $0.applicationID = forestry.application.applicationID; $0.commitmentText = "承诺"; $0.replacedRequirementCodes = ["M04"]
                }, metadata: try node.clerk)
            } throws: { rpcFailure($0)?.code == .failedPrecondition }

            // 告知承诺: the vehicle commitment letter replaced by the signed commitment.
            let transport = try await node.intake.submitApplication(try Fixtures.submit([Self.transport], leaving: ["M03"]), metadata: try node.clerk)
            let committed = try await node.intake.acceptByCommitment(Intake_AcceptByCommitmentRequest.with {
                $0.applicationID = transport.application.applicationID
                $0.commitmentText = "本单位承诺拟投入车辆符合《道路旅客运输及客运站管理规定》要求，如有不实愿承担法律责任"
                $0.replacedRequirementCodes = ["M03"]
                $0.signedFileID = "file-commitment-1"
            }, metadata: try node.clerk)
            #expect(committed.application.outcome == .acceptedByCommitment)
            #expect(committed.application.commitment.verifyBy.civilDate == CivilDate(year: 2026, month: 12, day: 21))
            let kinds = try await node.outbox().filter { $0.destination == "approval@371302" }.map { try Intake_ApplicationAccepted(serializedBytes: $0.payload).acceptanceKind }
            #expect(kinds == [.deficiency, .commitment])
        }
    }

    @Test("deemed acceptance after 5 working days across National Day 2026, from the day of receipt, once with two sweepers")
    func deemedAcceptance() async throws {
        // Received Wednesday 2026-09-30; 10-01…10-07 off, 10-10 (Saturday) a make-up working day:
        // the 5 working days are 10-08, 10-09, 10-10, 10-12, 10-13.
        try await withIntakeNode(today: CivilDate(year: 2026, month: 9, day: 30)!) { node in
            try await node.publishSampleCatalogue()
            let submitted = try await node.intake.submitApplication(try Fixtures.submit([Self.hygiene]), metadata: try node.clerk)
            #expect(submitted.application.intakeDeadline.dueOn.civilDate == CivilDate(year: 2026, month: 10, day: 13))
            let sweeper = DeemedAcceptanceSweeper(api: node.api, batchSize: 1)

            node.clock.set(CivilDate(year: 2026, month: 10, day: 13)!)
            #expect(try await sweeper.sweepOnce() == 0)
            node.clock.set(CivilDate(year: 2026, month: 10, day: 14)!)
            async let first = sweeper.sweepOnce()
            async let second = DeemedAcceptanceSweeper(api: node.api).sweepOnce()
            #expect(try await first + second == 1)

            let application = try await node.intake.getApplication(Intake_GetApplicationRequest.with { $0.applicationID = submitted.application.applicationID }, metadata: try node.clerk).application
            #expect(application.status == .accepted)
            #expect(application.outcome == .deemedAccepted)
            #expect(application.receipt.acceptedOn.civilDate == CivilDate(year: 2026, month: 9, day: 30))
            #expect(!application.hasDecidedBy)
            let accepted = OutboxRows.of(Intake_ApplicationAccepted.self, in: try await node.outbox())
            #expect(accepted.count == 2)  // approval + evaluation, once
            #expect(try Intake_ApplicationAccepted(serializedBytes: accepted[0].payload).acceptanceKind == .deemed)
            // Too late for the clerk now.
            await #expect {
                _ = try await node.intake.rejectApplication(Intake_RejectApplicationRequest.with {
                    $0.applicationID = application.applicationID; $0.ground = .other; $0.reason = "迟到的决定"; $0.legalBasis = "第三十二条"
                }, metadata: try node.clerk)
            } throws: { rpcFailure($0)?.code == .failedPrecondition }
        }
    }

    @Test("a retried submit never makes two applications; a reused key with another request is refused")
    func idempotentResubmission() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let request = try Fixtures.submit([Self.food], key: "window07-20261123-0001")
            let first = try await node.intake.submitApplication(request, metadata: try node.clerk)
            let again = try await node.intake.submitApplication(request, metadata: try node.clerk)
            #expect(again.application.applicationID == first.application.applicationID)
            // The same key in metadata, five retries at once.
            var keyless = request
            keyless.idempotencyKey = ""
            var keyed = try node.clerk
            keyed.addString("window07-20261123-0002", forKey: "idempotency-key")
            let viaMetadata = keyless
            let metadata = keyed
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<5 { group.addTask { try await node.intake.submitApplication(viaMetadata, metadata: metadata).application.applicationID } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(ids.count == 1)
            #expect(try await node.database.query("SELECT count(*)::int8 AS n FROM applications").one().decode("n", as: Int.self) == 2)

            var different = request
            different.windowID = "08"
            await #expect { _ = try await node.intake.submitApplication(different, metadata: try node.clerk) } throws: {
                rpcFailure($0)?.reasons == ["idempotency_key.reused"]
            }
            await #expect { _ = try await node.intake.submitApplication(keyless, metadata: try node.clerk) } throws: {
                rpcFailure($0)?.fields == ["idempotency_key"]
            }
        }
    }

    @Test("a bundle of three items shares its business licence and becomes three cases approved together")
    func bundleOfThree() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let request = try Fixtures.submit([Self.food, Self.hygiene, Self.publishing])
            #expect(request.materials.filter { $0.requirementCode == "M02" }.count == 1)  // 营业执照 once
            let submitted = try await node.intake.submitApplication(request, metadata: try node.clerk)
            #expect(submitted.checkFindings.isEmpty)
            let accepted = try await node.intake.accept(Intake_AcceptRequest.with { $0.applicationID = submitted.application.applicationID }, metadata: try node.clerk)
            #expect(accepted.application.items.map(\.progress) == [.inApproval, .inApproval, .inApproval])
            let event = try Intake_ApplicationAccepted(serializedBytes: try await node.outbox().first { $0.destination == "approval@371302" }!.payload)
            #expect(event.items.map(\.implementationCode) == [Self.food, Self.hygiene, Self.publishing])
            #expect(event.bundleID == submitted.application.applicationID)
            // Food promises 5 working days, hygiene 3, publishing the longest decides the receipt's date.
            #expect(accepted.application.receipt.promisedOn.civilDate! >= CivilDate(year: 2026, month: 11, day: 30)!)
        }
    }

    @Test("a county window forwards a city item (审核转报) through the outbox with its first-review opinion")
    func forwardedCountyCase() async throws {
        try await withIntakeNode(node: "371302", today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let submitted = try await node.intake.submitApplication(try Fixtures.submit([Self.water]), metadata: try node.clerk)
            let id = submitted.application.applicationID
            let accepted = try await node.intake.accept(Intake_AcceptRequest.with { $0.applicationID = id }, metadata: try node.clerk)
            #expect(accepted.application.items[0].progress == .pendingIntake)
            #expect(try await node.outbox().filter { $0.destination.hasPrefix("approval@") }.isEmpty)

            await #expect { _ = try await node.intake.forwardToCity(Intake_ForwardToCityRequest.with { $0.applicationID = id; $0.firstReviewOpinion = "同意" }, metadata: try node.clerk) } throws: {
                rpcFailure($0)?.reasons == ["opinion.too_vague"]
            }
            let forwarded = try await node.intake.forwardToCity(Intake_ForwardToCityRequest.with {
                $0.applicationID = id
                $0.firstReviewOpinion = "经初审，取水地点位于沂河兰山段，水资源论证报告结论明确，材料齐全，建议准予"
            }, metadata: try node.clerk)
            #expect(forwarded.application.status == .forwarded)
            #expect(forwarded.application.forwarding.toNode.divisionCode == "371300")
            #expect(forwarded.application.forwarding.firstReviewDeadline.workingDaysTotal == 20)
            let all = try await node.outbox()
            let events = OutboxRows.of(Intake_ApplicationForwarded.self, in: all)
            #expect(events.map(\.destination) == ["approval@371300", "evaluation@371302"], "outbox: \(all.map { "\($0.destination) \($0.type)" })")
            let message = try Intake_ApplicationForwarded(serializedBytes: events[0].payload)
            #expect(message.accepted.items.map(\.implementationCode) == [Self.water])
            #expect(message.accepted.channel == .forwarded)
            #expect(message.forwarding.firstReviewOpinion.hasPrefix("经初审"))
            await #expect { _ = try await node.intake.forwardToCity(Intake_ForwardToCityRequest.with { $0.applicationID = id; $0.firstReviewOpinion = "再次转报的初审意见内容" }, metadata: try node.clerk) } throws: {
                rpcFailure($0)?.code == .failedPrecondition
            }
        }
    }

    @Test("bad resident IDs and USCCs are refused naming every field, and nothing is stored")
    func badIdentities() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            var person = Fixtures.person
            person.idNumber = "371302199001011234"  // check digit should be 3
            person.phone = "12345"
            var request = try Fixtures.submit([Self.forestry], applicant: person)
            await #expect { _ = try await node.intake.submitApplication(request, metadata: try node.clerk) } throws: { error in
                let failure = rpcFailure(error)
                return failure?.code == .invalidArgument
                    && failure?.fields == ["applicant.id_number", "applicant.phone"]
                    && failure?.reasons == ["id_number.checksum", "phone.format"]
            }
            var company = Fixtures.company
            company.idNumber = "91371302MA3C1234X0"  // check character should be 7
            company.legalRepresentative = ""
            request = try Fixtures.submit([Self.food], applicant: company)
            request.channel = .unspecified
            await #expect { _ = try await node.intake.submitApplication(request, metadata: try node.clerk) } throws: { error in
                let fields = rpcFailure(error)?.fields ?? []
                return fields.contains("applicant.id_number") && fields.contains("applicant.legal_representative") && fields.contains("channel")
            }
            var unknown = try Fixtures.submit([Self.food])
            unknown.items.append(Intake_RequestedItem.with { $0.implementationCode = "000000000000000000999" })
            await #expect { _ = try await node.intake.submitApplication(unknown, metadata: try node.clerk) } throws: {
                rpcFailure($0)?.code == .notFound && rpcFailure($0)?.message.contains("items[1]") == true
            }
            #expect(try await node.database.query("SELECT count(*)::int8 AS n FROM applications").one().decode("n", as: Int.self) == 0)
            #expect(try await node.outbox().isEmpty)
            await #expect { _ = try await node.intake.getApplication(Intake_GetApplicationRequest.with { $0.applicationID = "nope" }, metadata: try node.clerk) } throws: {
                rpcFailure($0)?.fields == ["application_id"]
            }
            await #expect { _ = try await node.intake.getApplication(Intake_GetApplicationRequest.with { $0.applicationID = UUID().uuidString }, metadata: try node.clerk) } throws: {
                rpcFailure($0)?.code == .notFound
            }
        }
    }

    @Test("personal data: sealed at rest, masked for readers, full for this node's clerks with every read logged; window acts are this node's clerks'")
    func personalDataAndRoles() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let submitted = try await node.intake.submitApplication(try Fixtures.submit([Self.forestry], applicant: Fixtures.person), metadata: try node.clerk)
            let id = submitted.application.applicationID
            let leaks = try await node.database.query("""
                SELECT count(*)::int8 AS n FROM applications
                WHERE position(convert_to(\(Fixtures.residentID), 'UTF8') in applicant_sealed) > 0
                   OR state::text LIKE '%' || \(Fixtures.residentID) || '%'
                   OR position(convert_to('13812345678', 'UTF8') in applicant_sealed) > 0
                """).one().decode("n", as: Int.self)
            #expect(leaks == 0)

            let asOfficer = try await node.intake.getApplication(Intake_GetApplicationRequest.with { $0.applicationID = id }, metadata: try node.metadata(.officer, subject: "officer-3"))
            #expect(asOfficer.application.applicant.idNumber == "3713**********1233")
            #expect(asOfficer.application.applicant.phone == "138****5678")
            #expect(asOfficer.application.applicant.masked)
            #expect(asOfficer.application.queryCode.isEmpty)
            let asClerk = try await node.intake.getApplication(Intake_GetApplicationRequest.with { $0.applicationNumber = submitted.application.applicationNumber }, metadata: try node.clerk)
            #expect(asClerk.application.applicant.idNumber == Fixtures.residentID)
            let reads = try await node.database.query("SELECT subject, purpose FROM personal_data_reads ORDER BY seq").map { try $0.decode("purpose", as: String.self) }
            #expect(reads == ["submit", "get"])
            // A list read in full logs one row per application shown, in one statement.
            let listed = try await node.intake.listApplications(Intake_ListApplicationsRequest(), metadata: try node.clerk)
            #expect(!listed.applications.isEmpty)
            let listReads = try await node.database.query("SELECT application_id, xmin::text AS tx FROM personal_data_reads WHERE purpose = 'list'").map {
                (try $0.decode("application_id", as: UUID.self).uuidString.lowercased(), try $0.decode("tx", as: String.self))
            }
            #expect(Set(listReads.map(\.0)) == Set(listed.applications.map { $0.applicationID.lowercased() }) && listReads.count == listed.applications.count)
            #expect(Set(listReads.map(\.1)).count == 1)

            // A city clerk cannot act at the county window; an integrator cannot decide; no token, no entry.
            await #expect {
                _ = try await node.intake.accept(Intake_AcceptRequest.with { $0.applicationID = id }, metadata: try node.metadata(.windowClerk, node: "371300"))
            } throws: { rpcFailure($0)?.code == .permissionDenied }
            await #expect {
                _ = try await node.intake.accept(Intake_AcceptRequest.with { $0.applicationID = id }, metadata: try node.metadata(.integrator))
            } throws: { rpcFailure($0)?.code == .permissionDenied }
            await #expect { _ = try await node.intake.accept(Intake_AcceptRequest.with { $0.applicationID = id }) } throws: {
                rpcFailure($0)?.code == .unauthenticated
            }

            // The public look-up: number + query code, a masked name, no personal data.
            let progress = try await node.intake.trackProgress(Intake_TrackProgressRequest.with {
                $0.applicationNumber = submitted.application.applicationNumber; $0.queryCode = submitted.application.queryCode
            })
            #expect(progress.maskedApplicantName == "张*")
            #expect(progress.status == .submitted)
            #expect(progress.steps.map(\.description_p) == ["已收件，等待受理审查"])
            await #expect {
                _ = try await node.intake.trackProgress(Intake_TrackProgressRequest.with { $0.applicationNumber = submitted.application.applicationNumber; $0.queryCode = "000000" == submitted.application.queryCode ? "000001" : "000000" })
            } throws: { rpcFailure($0)?.code == .notFound }
        }
    }

    @Test("results come back as events; delivery waits for every item and for missing materials")
    func resultsAndDelivery() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let submitted = try await node.intake.submitApplication(try Fixtures.submit([Self.food], leaving: ["M05"]), metadata: try node.clerk)
            let id = submitted.application.applicationID
            _ = try await node.intake.acceptWithDeficiency(Intake_AcceptWithDeficiencyRequest.with {
                $0.applicationID = id; $0.missing = submitted.checkFindings; $0.undertaking = "承诺十个工作日内补齐管理制度文本"
            }, metadata: try node.clerk)
            await #expect {
                _ = try await node.intake.recordDelivery(Intake_RecordDeliveryRequest.with { $0.applicationID = id; $0.delivery.method = .electronic }, metadata: try node.clerk)
            } throws: { rpcFailure($0)?.code == .failedPrecondition }

            // Approval opens and grants the case, certificate issues the licence: delivered through EventSink.
            var header = Approval_CaseHeader()
            header.caseID = "case-1"
            header.caseNumber = submitted.application.applicationNumber.prefix(14) + "01" + submitted.application.applicationNumber.suffix(6)
            header.applicationID = id
            header.implementationCode = Self.food
            header.itemName = "食品经营许可"
            var opened = Approval_CaseOpened()
            opened.header = header
            var decided = Approval_CaseDecided()
            decided.header = header
            decided.decision.grant = Approval_Grant()
            var issued = Certificate_LicenceIssued()
            issued.applicationID = id
            issued.licence.content.caseID = "case-1"
            issued.licence.content.implementationCode = Self.food
            issued.licence.content.licenceNumber = "JY23713020000123"
            issued.licence.content.licenceIdentifier = "1.2.156.3005.2.11100000MB01432663001.11371302MB28520001.001.1"
            let sink = Events_EventSink.Client(wrapping: node.grpc)
            var deliver = Events_DeliverRequest()
            for (type, payload) in [
                (Approval_CaseOpened.protoMessageName, try opened.serializedBytes() as [UInt8]),
                (Approval_CaseDecided.protoMessageName, try decided.serializedBytes()),
                (Certificate_LicenceIssued.protoMessageName, try issued.serializedBytes()),
                ("oneseal.approval.v1.SomethingNew", [UInt8]()),
            ] {
                deliver.events.append(Events_EventEnvelope.with {
                    $0.eventID = UUID().uuidString; $0.type = type; $0.sourceNode = "371302"; $0.payload = Data(payload)
                })
            }
            let acknowledged = try await sink.deliver(deliver, metadata: try node.metadata(.peerNode, subject: "approval@371302"))
            #expect(acknowledged.acceptedEventIds.count == 4)
            _ = try await sink.deliver(deliver, metadata: try node.metadata(.peerNode, subject: "approval@371302"))  // redelivery: no effect

            var application = try await node.intake.getApplication(Intake_GetApplicationRequest.with { $0.applicationID = id }, metadata: try node.clerk).application
            #expect(application.items[0].progress == .licenceIssued)
            #expect(application.items[0].caseID == "case-1")
            #expect(application.items[0].licence.licenceNumber == "JY23713020000123")
            #expect(application.status == .readyForDelivery)
            #expect(try await node.database.query("SELECT type FROM unmatched_events").map { try $0.decode("type", as: String.self) } == ["oneseal.approval.v1.SomethingNew"])

            // Still owes M05: not handed out until it arrives.
            await #expect {
                _ = try await node.intake.recordDelivery(Intake_RecordDeliveryRequest.with { $0.applicationID = id; $0.delivery.method = .electronic }, metadata: try node.clerk)
            } throws: { rpcFailure($0)?.message.contains("容缺受理") == true }
            let materials = Fixtures.materials(for: try SampleCatalogue.items.filter { $0.implementationCode == Self.food }).filter { $0.requirementCode == "M05" }
            _ = try await node.intake.submitCorrection(Intake_SubmitCorrectionRequest.with { $0.applicationID = id; $0.materials = materials }, metadata: try node.clerk)
            await #expect {
                _ = try await node.intake.recordDelivery(Intake_RecordDeliveryRequest.with { $0.applicationID = id; $0.delivery.method = .mail }, metadata: try node.clerk)
            } throws: { rpcFailure($0)?.fields == ["delivery.tracking_number"] }
            application = try await node.intake.recordDelivery(Intake_RecordDeliveryRequest.with {
                $0.applicationID = id
                $0.delivery.method = .window
                $0.delivery.recipient = Fixtures.person
            }, metadata: try node.clerk).application
            #expect(application.status == .delivered)
            #expect(application.delivery.recipient.idNumber == "3713**********1233")
            #expect(application.delivery.licences.map(\.licenceNumber) == ["JY23713020000123"])
            #expect(application.items[0].progress == .delivered)
            let delivered = OutboxRows.of(Intake_ResultDelivered.self, in: try await node.outbox())
            #expect(try Intake_ResultDelivered(serializedBytes: delivered[0].payload).caseIds == ["case-1"])

            // Later the department withdraws the licence: approval cancels the grant (with the facts),
            // certificate marks the licence CANCELLED. The window and the public look-up show it once.
            var cancelled = Approval_GrantCancelled()
            cancelled.header = header
            cancelled.cancellation.facts = "因销售过期食品被依法吊销许可证"
            cancelled.cancellation.effectiveOn = Common_CivilDate.with { $0.year = 2026; $0.month = 12; $0.day = 1 }
            var status = Certificate_LicenceStatusChanged()
            status.caseID = "case-1"
            status.licence.licenceNumber = "JY23713020000123"
            status.previousStatus = .valid
            status.status = .cancelled
            var unknownCase = status
            unknownCase.caseID = "case-of-another-node"
            let later: [(type: String, payload: [UInt8], from: String)] = [
                (Approval_GrantCancelled.protoMessageName, try cancelled.serializedBytes(), "approval@371302"),
                (Certificate_LicenceStatusChanged.protoMessageName, try status.serializedBytes(), "certificate@371302"),
                (Certificate_LicenceStatusChanged.protoMessageName, try unknownCase.serializedBytes(), "certificate@371302"),
            ]
            for (type, payload, from) in later {
                var request = Events_DeliverRequest()
                request.events = [Events_EventEnvelope.with {
                    $0.eventID = UUID().uuidString; $0.type = type; $0.sourceNode = "371302"; $0.payload = Data(payload)
                }]
                #expect(try await sink.deliver(request, metadata: try node.metadata(.peerNode, subject: from)).acceptedEventIds.count == 1)
            }
            application = try await node.intake.getApplication(Intake_GetApplicationRequest.with { $0.applicationID = id }, metadata: try node.clerk).application
            #expect(application.items[0].progress == .cancelled)
            #expect(application.status == .delivered)
            let tracked = try await node.intake.trackProgress(Intake_TrackProgressRequest.with {
                $0.applicationNumber = application.applicationNumber; $0.queryCode = submitted.application.queryCode
            })
            #expect(tracked.items[0].progress == .cancelled)
            #expect(tracked.steps.filter { $0.description_p.contains("注销") }.map(\.description_p)
                == ["食品经营许可：行政许可已注销（2026-12-01起）：因销售过期食品被依法吊销许可证"])
            #expect(try await node.database.query("SELECT reason FROM unmatched_events WHERE type = \(Certificate_LicenceStatusChanged.protoMessageName)")
                .map { try $0.decode("reason", as: String.self) } == ["no case 'case-of-another-node' at this node's window"])
            try await expectStoredStatesRoundTrip(ApplicationState.self, table: "applications", encode: ApplicationStore.stateJSON, decoder: ApplicationStore.stateDecoder(), in: node.database)
        }
    }

    @Test("consultations are recorded per item and window")
    func consultations() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let answer = try await node.intake.consult(Intake_ConsultRequest.with {
                $0.implementationCode = Self.food; $0.question = "开小吃店要带什么材料？"; $0.channel = .window; $0.windowID = "07"
                $0.askerPhone = "13912345678"
            }, metadata: try node.clerk)
            #expect(answer.item.name == "食品经营许可")
            #expect(answer.item.materials.count == 6)
            let stored = try await node.database.query("SELECT implementation_code, window_id, position(convert_to('13912345678','UTF8') in asker_sealed) AS leak FROM consultations").one()
            #expect(try stored.decode("window_id", as: String.self) == "07")
            #expect(try stored.decode("leak", as: Int.self) == 0)
            #expect(try await node.outbox().map(\.type) == ["oneseal.intake.v1.ConsultationRecorded"])
            await #expect {
                _ = try await node.intake.consult(Intake_ConsultRequest.with { $0.implementationCode = "nope"; $0.question = "?"; $0.channel = .phone }, metadata: try node.clerk)
            } throws: { rpcFailure($0)?.code == .notFound }
        }
    }

    @Test("the application list pages by key: every application once in submission order, filters narrow, a made-up token is refused")
    func listPages() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            var submitted: [String] = []
            for _ in 0..<7 {
                submitted.append(try await node.intake.submitApplication(try Fixtures.submit([Self.food]), metadata: try node.clerk).application.applicationID)
            }
            var listed: [String] = []
            var tokens: [String] = []
            var token = ""
            repeat {
                let page = try await node.intake.listApplications(.with { $0.page = .with { $0.pageSize = 3; $0.pageToken = token } }, metadata: try node.clerk)
                #expect(page.page.totalSize == 7)
                listed += page.applications.map(\.applicationID)
                token = page.page.nextPageToken
                if !token.isEmpty { tokens.append(token) }
            } while !token.isEmpty
            // The harness's clock stands still, so all seven share one submitted_at: the id breaks
            // the tie, and the keyset pages still give each once, in the table's order.
            let order = try await node.database.query("SELECT id FROM applications ORDER BY submitted_at, id").map { try $0.decode("id", as: UUID.self).uuidString.lowercased() }
            #expect(listed == order && Set(listed) == Set(submitted) && listed.count == 7)
            #expect(tokens.count == 2 && tokens.allSatisfy { $0.hasPrefix("t1.") })
            // A filter the applications do not match lists nothing; one status that they do, all.
            let accepted = try await node.intake.listApplications(.with { $0.statuses = [.accepted] }, metadata: try node.clerk)
            #expect(accepted.applications.isEmpty && accepted.page.totalSize == 0 && accepted.page.nextPageToken.isEmpty)
            let waiting = try await node.intake.listApplications(.with { $0.statuses = [.submitted]; $0.page = .with { $0.pageSize = 5 } }, metadata: try node.clerk)
            #expect(waiting.applications.map(\.applicationID) == Array(order.prefix(5)) && waiting.page.totalSize == 7)
            let rest = try await node.intake.listApplications(.with { $0.statuses = [.submitted]; $0.page = .with { $0.pageSize = 5; $0.pageToken = waiting.page.nextPageToken } }, metadata: try node.clerk)
            #expect(rest.applications.map(\.applicationID) == Array(order.suffix(2)) && rest.page.nextPageToken.isEmpty)
            // An offset (the old token) or a made-up one is a clear error naming the field.
            for bad in ["3", "t1.x.y", tokens[0] + "0"] {
                await #expect {
                    _ = try await node.intake.listApplications(.with { $0.page = .with { $0.pageToken = bad } }, metadata: try node.clerk)
                } throws: { rpcFailure($0)?.fields == ["page.page_token"] }
            }
        }
    }
}
