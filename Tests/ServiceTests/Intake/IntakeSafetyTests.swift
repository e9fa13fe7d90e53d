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

/// Issue #15 against a running intake (real RPC, real PostgreSQL): who may act on *which*
/// application, what bad text answers, that retries are idempotent, that the public look-up cannot
/// be brute-forced, and the one disclosure rule per role. Each test failed on the code before it.
@Suite("Intake: safe to expose", .serialized)
struct IntakeSafetyTests {
    static let food = IntakeServiceTests.food
    static let monday = IntakeServiceTests.monday
    static let otherPerson = "110101199003070015"

    func count(_ node: IntakeNode, _ sql: SQLQuery) async throws -> Int {
        try await node.database.query(sql).one().decode(at: 0, as: Int.self)
    }

    @Test("per object: an applicant acts only on applications naming them, an integrator only on its own; readers only read")
    func perObjectRules() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let uscc = Fixtures.uscc
            let owner = try node.metadata(.applicant, subject: uscc)
            // The same company typed in lower case is the same company.
            let ownerLower = try node.metadata(.applicant, subject: uscc.lowercased())
            let stranger = try node.metadata(.applicant, subject: Self.otherPerson)
            let platformA = try node.metadata(.integrator, subject: "province-platform")
            let platformB = try node.metadata(.integrator, subject: "other-platform")

            // An applicant submits only in its own name.
            var online = try Fixtures.submit([Self.food])
            online.channel = .online
            online.windowID = ""
            await #expect { _ = try await node.intake.submitApplication(online, metadata: stranger) } throws: {
                rpcFailure($0)?.code == .permissionDenied
            }
            #expect(try await count(node, "SELECT count(*)::int8 FROM applications") == 0)
            try await node.uploadFixtures(for: online.materials, as: owner)
            let mine = try await node.intake.submitApplication(online, metadata: owner).application
            // The owner reads their own in full (the data subject), the query code included.
            let asOwner = try await node.intake.getApplication(.with { $0.applicationID = mine.applicationID }, metadata: ownerLower).application
            #expect(asOwner.applicant.idNumber == uscc)
            #expect(!asOwner.queryCode.isEmpty)

            // Another applicant: cannot read, correct or withdraw it.
            await #expect { _ = try await node.intake.getApplication(.with { $0.applicationID = mine.applicationID }, metadata: stranger) } throws: {
                rpcFailure($0)?.code == .permissionDenied
            }
            var correction = Intake_SubmitCorrectionRequest()
            correction.applicationID = mine.applicationID
            correction.materials = [Intake_ProvidedMaterial.with { $0.requirementCode = "M01"; $0.fileID = "evil"; $0.name = "x" }]
            await #expect { _ = try await node.intake.submitCorrection(correction, metadata: stranger) } throws: {
                rpcFailure($0)?.code == .permissionDenied
            }
            await #expect {
                _ = try await node.intake.withdrawApplication(.with { $0.applicationID = mine.applicationID; $0.reason = "x" }, metadata: stranger)
            } throws: { rpcFailure($0)?.code == .permissionDenied }
            #expect(try await count(node, "SELECT revision::int8 FROM applications") == 1)

            // An integrator acts on what it submitted, not on another integrator's, nor the applicant's.
            var viaPlatform = try Fixtures.submit([Self.food])
            viaPlatform.channel = .integrator
            viaPlatform.windowID = ""
            try await node.uploadFixtures(for: viaPlatform.materials, as: platformA)
            let platformApp = try await node.intake.submitApplication(viaPlatform, metadata: platformA).application
            for metadata in [platformB, platformA] {
                await #expect {
                    _ = try await node.intake.withdrawApplication(.with { $0.applicationID = mine.applicationID; $0.reason = "x" }, metadata: metadata)
                } throws: { rpcFailure($0)?.code == .permissionDenied }
            }
            await #expect {
                _ = try await node.intake.withdrawApplication(.with { $0.applicationID = platformApp.applicationID; $0.reason = "x" }, metadata: platformB)
            } throws: { rpcFailure($0)?.code == .permissionDenied }
            _ = try await node.intake.getApplication(.with { $0.applicationID = platformApp.applicationID }, metadata: platformA)
            let withdrawn = try await node.intake.withdrawApplication(.with { $0.applicationID = platformApp.applicationID; $0.reason = "申请人撤回" }, metadata: platformA)
            #expect(withdrawn.application.status == .withdrawn)

            // The owner withdraws their own.
            let own = try await node.intake.withdrawApplication(.with { $0.applicationID = mine.applicationID; $0.reason = "不再需要" }, metadata: owner)
            #expect(own.application.status == .withdrawn)
        }
    }

    @Test("events rest sealed in the outbox: no ID number, name or phone in any row; the relay's view opens them")
    func outboxPayloadsSealed() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let submitted = try await node.intake.submitApplication(try Fixtures.submit([Self.food], applicant: Fixtures.person), metadata: try node.clerk).application
            _ = try await node.intake.accept(.with { $0.applicationID = submitted.applicationID }, metadata: try node.clerk)
            let leaks = try await count(node, """
                SELECT count(*)::int8 FROM outbox
                WHERE position(convert_to(\(Fixtures.residentID), 'UTF8') in payload) > 0
                   OR position(convert_to('张三', 'UTF8') in payload) > 0
                   OR position(convert_to('13812345678', 'UTF8') in payload) > 0
                """)
            #expect(leaks == 0)
            #expect(try await count(node, "SELECT count(*)::int8 FROM outbox WHERE get_byte(payload, 0) <> 0") == 0)
            // What the relay sends (opened) carries the applicant for approval.
            let accepted = OutboxRows.of(Intake_ApplicationAccepted.self, in: try await node.outbox())
            #expect(!accepted.isEmpty)
            let event = try Intake_ApplicationAccepted(serializedBytes: accepted[0].payload)
            #expect(event.applicant.idNumber == Fixtures.residentID)
        }
    }

    @Test("one disclosure rule per role: the window and the data subject in full, every other reader masked, a person's name as 张*")
    func disclosurePerRole() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let submitted = try await node.intake.submitApplication(try Fixtures.submit([Self.food], applicant: Fixtures.person), metadata: try node.clerk).application
            let id = submitted.applicationID
            let full: [(Role, String)] = [(.windowClerk, "clerk-07"), (.applicant, Fixtures.residentID)]
            for (role, subject) in full {
                let seen = try await node.intake.getApplication(.with { $0.applicationID = id }, metadata: try node.metadata(role, subject: subject)).application
                #expect(seen.applicant.name == "张三", "\(role)")
                #expect(seen.applicant.idNumber == Fixtures.residentID, "\(role)")
                #expect(!seen.applicant.masked, "\(role)")
            }
            for role in [Role.officer, .sectionChief, .deputyDirector, .director, .evaluator, .leader, .operator] {
                let seen = try await node.intake.getApplication(.with { $0.applicationID = id }, metadata: try node.metadata(role, subject: "staff-1")).application
                #expect(seen.applicant.name == "张*", "\(role)")
                #expect(seen.applicant.idNumber == "3713**********1233", "\(role)")
                #expect(seen.applicant.phone == "138****5678", "\(role)")
                #expect(seen.applicant.address == "山东省临沂市****", "\(role)")
                #expect(seen.applicant.masked, "\(role)")
                #expect(seen.queryCode.isEmpty, "\(role)")
            }
            // A clerk of another node is not this node's window.
            await #expect {
                _ = try await node.intake.getApplication(.with { $0.applicationID = id }, metadata: try node.metadata(.windowClerk, node: "371300"))
            } throws: { rpcFailure($0)?.code == .permissionDenied }
        }
    }

    @Test("bad text is refused at the edge naming the field (INVALID_ARGUMENT, never UNAVAILABLE), and nothing is stored")
    func badTextAtTheEdge() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            func refused(_ request: Intake_SubmitApplicationRequest, field: String, reason: String) async {
                await #expect {
                    _ = try await node.intake.submitApplication(request, metadata: try node.clerk)
                } throws: { error in
                    guard let failure = rpcFailure(error) else { return false }
                    return failure.code == .invalidArgument && failure.fields.contains(field) && failure.reasons.contains(reason)
                }
            }
            var nul = try Fixtures.submit([Self.food])
            nul.applicant.name = "临沂\u{0}公司"
            await refused(nul, field: "applicant.name", reason: "text.nul")
            var huge = try Fixtures.submit([Self.food])
            huge.applicant.address = String(repeating: "兰", count: 1_000_000)
            await refused(huge, field: "applicant.address", reason: "text.too_long")
            var newline = try Fixtures.submit([Self.food])
            newline.applicant.idNumber = "91371302MA3C1234X7\n"
            await refused(newline, field: "applicant.id_number", reason: "text.control")
            var material = try Fixtures.submit([Self.food])
            material.materials[1].fileID = "scan\u{7F}"
            await refused(material, field: "materials[1].file_id", reason: "text.control")
            var unknownEnum = try Fixtures.submit([Self.food])
            unknownEnum.channel = .UNRECOGNIZED(99)
            await refused(unknownEnum, field: "channel", reason: "enum.unknown")
            var many = try Fixtures.submit([Self.food])
            many.materials = Array(repeating: many.materials[0], count: 1001)
            await refused(many, field: "materials", reason: "list.too_long")
            #expect(try await count(node, "SELECT count(*)::int8 FROM applications") == 0)
            #expect(try await count(node, "SELECT count(*)::int8 FROM outbox") == 0)

            // The same on a write that changes an existing application: a 1 MB reason.
            let submitted = try await node.intake.submitApplication(try Fixtures.submit([Self.food]), metadata: try node.clerk).application
            await #expect {
                _ = try await node.intake.rejectApplication(.with {
                    $0.applicationID = submitted.applicationID
                    $0.reason = String(repeating: "理由", count: 500_000)
                }, metadata: try node.clerk)
            } throws: { rpcFailure($0)?.code == .invalidArgument && rpcFailure($0)?.fields == ["reason"] }
            #expect(try await count(node, "SELECT revision::int8 FROM applications") == 1)
        }
    }

    @Test("ListApplications for an applicant lists only the applications naming them (my applications); the window lists all")
    func applicantListsOnlyTheirOwn() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let company = try await node.intake.submitApplication(try Fixtures.submit([Self.food]), metadata: try node.clerk).application
            var asAgent = try Fixtures.submit([Self.food], applicant: Fixtures.company)
            asAgent.agent = Fixtures.person
            let agented = try await node.intake.submitApplication(asAgent, metadata: try node.clerk).application
            _ = try await node.intake.submitApplication(try Fixtures.submit([Self.food], applicant: Fixtures.person), metadata: try node.clerk)

            func listed(_ metadata: Metadata) async throws -> (ids: Set<String>, total: Int64) {
                let response = try await node.intake.listApplications(.with { $0.page = .with { $0.pageSize = 50 } }, metadata: metadata)
                return (Set(response.applications.map(\.applicationID)), response.page.totalSize)
            }
            // The company (its USCC typed in lower case is the same company): its two, in full.
            let owner = try await listed(try node.metadata(.applicant, subject: Fixtures.uscc.lowercased()))
            #expect(owner.ids == [company.applicationID, agented.applicationID] && owner.total == 2)
            let ownView = try await node.intake.listApplications(.with { $0.page = .with { $0.pageSize = 50 } }, metadata: try node.metadata(.applicant, subject: Fixtures.uscc))
            #expect(ownView.applications.allSatisfy { $0.applicant.idNumber == Fixtures.uscc && !$0.queryCode.isEmpty })
            // The person: their own and the one they are the agent of.
            let person = try await listed(try node.metadata(.applicant, subject: Fixtures.residentID))
            #expect(person.ids.count == 2 && person.ids.contains(agented.applicationID) && !person.ids.contains(company.applicationID))
            // Their full reads are logged, never under their ID number (the log is not sealed).
            let readers = try await node.database.query("SELECT DISTINCT subject FROM personal_data_reads WHERE role = 'applicant'").map { try $0.decode("subject", as: String.self) }
            #expect(readers == ["data_subject"])
            // Someone else: nothing, not even a count.
            let stranger = try await listed(try node.metadata(.applicant, subject: Self.otherPerson))
            #expect(stranger.ids.isEmpty && stranger.total == 0)
            // The window: all three.
            #expect(try await listed(try node.clerk).total == 3)
            // Integrators still may not list.
            await #expect { _ = try await listed(try node.metadata(.integrator, subject: "province-platform")) } throws: { rpcFailure($0)?.code == .permissionDenied }
        }
    }

    @Test("online correction: an applicant answers the notice with what it lists and nothing else; nothing changes on a refusal")
    func onlineCorrectionSuppliesOnlyWhatTheNoticeLists() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let owner = try node.metadata(.applicant, subject: Fixtures.uscc)
            var online = try Fixtures.submit([Self.food], leaving: ["M04"])
            online.channel = .online
            online.windowID = ""
            try await node.uploadFixtures(for: try Fixtures.submit([Self.food]).materials, as: owner)
            let submitted = try await node.intake.submitApplication(online, metadata: owner)
            let id = submitted.application.applicationID
            _ = try await node.intake.issueCorrectionNotice(.with { $0.applicationID = id; $0.problems = submitted.checkFindings }, metadata: try node.clerk)
            let before = try await count(node, "SELECT revision::int8 FROM applications")
            let all = try Fixtures.submit([Self.food]).materials
            // M01 (listed first) is not on the notice, which asks for M04: refused, naming it; nothing changed.
            await #expect {
                _ = try await node.intake.submitCorrection(.with { $0.applicationID = id; $0.materials = all.filter { ["M04", "M01"].contains($0.requirementCode) } }, metadata: owner)
            } throws: { rpcFailure($0)?.fields == ["materials[0].requirement_code"] && rpcFailure($0)?.reasons == ["correction.not_listed"] }
            #expect(try await count(node, "SELECT revision::int8 FROM applications") == before)
            #expect(try await count(node, "SELECT count(*)::int8 FROM application_materials WHERE sha256 = \(MaterialStore.hashBytes(FixtureFiles.id("M04")))") == 0)
            // Exactly what it lists: back for a decision.
            let corrected = try await node.intake.submitCorrection(.with { $0.applicationID = id; $0.materials = all.filter { $0.requirementCode == "M04" } }, metadata: owner)
            #expect(corrected.application.status == .submitted && corrected.stillOpen.isEmpty)
        }
    }

    @Test("SubmitCorrection with one idempotency key, retried 20 times at once, makes one revision and counts one visit")
    func correctionIsIdempotent() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let submitted = try await node.intake.submitApplication(try Fixtures.submit([Self.food], leaving: ["M03"]), metadata: try node.clerk).application
            let before = try await count(node, "SELECT revision::int8 FROM applications")
            var correction = Intake_SubmitCorrectionRequest()
            correction.applicationID = submitted.applicationID
            correction.materials = [Intake_ProvidedMaterial.with { $0.requirementCode = "M03"; $0.fileID = FixtureFiles.id("M03"); $0.name = "补充材料"; $0.copies = 1 }]
            correction.idempotencyKey = "window-07-correction-1"
            let clerk = try node.clerk
            let retried = correction
            let revisions = try await withThrowingTaskGroup(of: Int64.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await node.intake.submitCorrection(retried, metadata: clerk).application.revision }
                }
                return try await group.reduce(into: Set<Int64>()) { $0.insert($1) }
            }
            #expect(revisions == [Int64(before + 1)])
            #expect(try await count(node, "SELECT revision::int8 FROM applications") == before + 1)
            #expect(try await count(node, "SELECT count(*)::int8 FROM application_steps WHERE description LIKE '申请人补充%'") == 1)
            // The same key with another request is a mistake, said so.
            correction.materials[0].fileID = FixtureFiles.id("M04")
            await #expect { _ = try await node.intake.submitCorrection(correction, metadata: clerk) } throws: {
                rpcFailure($0)?.reasons == ["idempotency_key.reused"]
            }
        }
    }

    @Test("the public look-up: long query codes, ten wrong codes lock a number for an hour, a flood from one source is cut off")
    func progressLookUpCannotBeGuessed() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let submitted = try await node.intake.submitApplication(try Fixtures.submit([Self.food]), metadata: try node.clerk).application
            #expect(submitted.queryCode.count == 10)
            let number = submitted.applicationNumber
            let right = Intake_TrackProgressRequest.with { $0.applicationNumber = number; $0.queryCode = submitted.queryCode.lowercased() }
            _ = try await node.intake.trackProgress(right)
            for guess in 0..<IntakeAPI.progressLookupFailureLimit {
                await #expect {
                    _ = try await node.intake.trackProgress(.with { $0.applicationNumber = number; $0.queryCode = String(format: "%010d", guess) })
                } throws: { rpcFailure($0)?.code == .notFound }
            }
            // Locked: even the right code answers RESOURCE_EXHAUSTED now.
            await #expect { _ = try await node.intake.trackProgress(right) } throws: { rpcFailure($0)?.code == .resourceExhausted }
            // The lock is per number: the hour over, the right code works again.
            try await node.database.execute("UPDATE progress_lookup_failures SET window_started = now() - interval '2 hours'")
            _ = try await node.intake.trackProgress(right)

            // Per source: the 31st look-up within a minute from one address is refused, whatever the number.
            var refusedAt: Int?
            for attempt in 1...40 where refusedAt == nil {
                do {
                    _ = try await node.intake.trackProgress(.with { $0.applicationNumber = "NO-SUCH-\(attempt)"; $0.queryCode = "AAAAAAAAAA" })
                } catch let error as RPCError where error.code == .resourceExhausted {
                    refusedAt = attempt
                } catch {}
            }
            #expect(refusedAt != nil)
        }
    }
}

@Suite("Request limits and the disclosure rule, without I/O")
struct RequestLimitRuleTests {
    @Test("every text field's limit comes from its domain")
    func limitsByDomain() {
        #expect(FieldLimits.limit(forField: "name") == FieldLimits.name)
        #expect(FieldLimits.limit(forField: "contact_name") == FieldLimits.name)
        #expect(FieldLimits.limit(forField: "application_id") == FieldLimits.identifier)
        #expect(FieldLimits.limit(forField: "contact_phone") == FieldLimits.phone)
        #expect(FieldLimits.limit(forField: "first_review_opinion") == FieldLimits.freeText)
        #expect(FieldLimits.limit(forField: "rejection_reason") == FieldLimits.freeText)
        #expect(FieldLimits.limit(forField: "legal_basis") == FieldLimits.legalText)
        #expect(FieldLimits.limit(forField: "something_new") == FieldLimits.fallback)
        #expect(FieldLimits.limit(forField: "documents_finding") == FieldLimits.finding)
        #expect(FieldLimits.problem(with: String(repeating: "字", count: 1001), field: "materials_finding")?.reason == "text.too_long")
        #expect(FieldLimits.problem(with: "缺营业执照复印件；\n申请书未签字", field: "materials_finding") == nil)
        #expect(FieldLimits.limit(forField: "record") == FieldLimits.legalText)
        #expect(FieldLimits.limit(forField: "renewal_of") == FieldLimits.identifier)
        #expect(FieldLimits.limit(forField: "requested_by") == FieldLimits.name)
        #expect(FieldLimits.limit(forField: "presiding_officer") == FieldLimits.identifier)
        #expect(FieldLimits.problem(with: "经审查，符合规定。\n同意。", field: "opinion") == nil)
        #expect(FieldLimits.problem(with: "张三\n", field: "name")?.reason == "text.control")
        #expect(FieldLimits.problem(with: "a\u{0}", field: "opinion")?.reason == "text.nul")
        #expect(FieldLimits.problem(with: "\u{202E}", field: "opinion") == nil)
        #expect(FieldLimits.problem(with: String(repeating: "字", count: 151), field: "name")?.reason == "text.too_long")
        #expect(FieldLimits.problem(with: String(repeating: "字", count: 150), field: "name") == nil)
    }

    @Test("violations name nested and repeated fields by their proto path")
    func violationPaths() {
        var request = Intake_SubmitApplicationRequest()
        request.applicant.name = "x\u{0}"
        request.materials = [Intake_ProvidedMaterial(), Intake_ProvidedMaterial.with { $0.name = String(repeating: "a", count: 200) }]
        request.formFields = ["k": "v\u{1}"]
        request.channel = .UNRECOGNIZED(42)
        let found = Dictionary(FieldLimits.violations(in: request).map { ($0.field, $0.reason) }, uniquingKeysWith: { a, _ in a })
        #expect(found["applicant.name"] == "text.nul")
        #expect(found["materials[1].name"] == "text.too_long")
        #expect(found["form_fields[value]"] == "text.control")
        #expect(found["channel"] == "enum.unknown")
        #expect(FieldLimits.violations(in: Intake_SubmitApplicationRequest()).isEmpty)
    }

    @Test("the disclosure rule, role by role and node by node")
    func disclosureTable() {
        func caller(_ role: Role, _ node: String = "371302") -> Caller {
            Caller(subject: "s", role: role, node: node, expiresAt: Date().addingTimeInterval(60))
        }
        #expect(Disclosure.of(.application, for: caller(.windowClerk), atNode: "371302") == .full)
        #expect(Disclosure.of(.application, for: caller(.windowClerk, "371300"), atNode: "371302") == .masked)
        #expect(Disclosure.of(.application, for: caller(.officer), atNode: "371302") == .masked)
        #expect(Disclosure.of(.application, for: caller(.applicant), atNode: "371302", isDataSubject: true) == .full)
        #expect(Disclosure.of(.application, for: caller(.applicant), atNode: "371302") == .masked)
        #expect(Disclosure.of(.application, for: nil, atNode: "371302") == .masked)
        #expect(Disclosure.of(.approvalCase, for: caller(.officer), atNode: "371302") == .full)
        #expect(Disclosure.of(.approvalCase, for: caller(.director, "371300"), atNode: "371302") == .masked)
        #expect(Disclosure.of(.approvalCase, for: caller(.department), atNode: "371302") == .supervisory)
        #expect(Disclosure.of(.licence, for: caller(.certificateOperator), atNode: "371302") == .full)
        #expect(Disclosure.of(.licence, for: caller(.windowClerk, "371300"), atNode: "371302") == .masked)
        #expect(Disclosure.of(.licence, for: caller(.integrator), atNode: "371302") == .masked)
        #expect(Disclosure.of(.rating, for: caller(.evaluator), atNode: "371302") == .full)
        #expect(Disclosure.of(.rating, for: caller(.leader), atNode: "371302") == .masked)

        let person = Common_Applicant.with {
            $0.kind = .naturalPerson; $0.name = "欧阳娜娜"; $0.idType = .residentID; $0.idNumber = "371302199001011233"
            $0.phone = "13812345678"; $0.address = "山东省临沂市兰山区解放路1号"; $0.email = "nana@example.cn"
        }
        let masked = person.disclosed(.masked)
        #expect(masked.name == "欧***" && masked.idNumber == "3713**********1233" && masked.phone == "138****5678")
        #expect(masked.address == "山东省临沂市****" && masked.email == "****@example.cn" && masked.masked)
        let supervisory = person.disclosed(.supervisory)
        #expect(supervisory.name == "欧阳娜娜" && supervisory.idNumber == "3713**********1233")
        let company = Common_Applicant.with {
            $0.kind = .legalPerson; $0.name = "临沂市兰山区好味道餐饮有限公司"; $0.idType = .uscc; $0.idNumber = "91371302MA3C1234X7"
            $0.legalRepresentative = "李四"; $0.contactName = "王五"; $0.contactPhone = "13812345678"; $0.address = "兰山区解放路1号"
        }
        let maskedCompany = company.disclosed(.masked)
        #expect(maskedCompany.name == company.name && maskedCompany.idNumber == "9137**********34X7" && maskedCompany.address == company.address)
        #expect(company.disclosed(.supervisory).idNumber == company.idNumber && company.disclosed(.supervisory).email.isEmpty)
        #expect(maskedCompany.legalRepresentative == "李*" && maskedCompany.contactName == "王*" && maskedCompany.contactPhone == "138****5678")
        #expect(person.disclosed(.full) == person)
    }

    @Test("the attempt limiter counts per key in windows and keeps bounded memory")
    func attemptLimiter() {
        var limiter = AttemptLimiter(limit: 3, window: 60, capacity: 10)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        var answers: [Bool] = []
        for _ in 1...4 { answers.append(limiter.attempt("a", now: start)) }
        #expect(answers == [true, true, true, false])
        let other = limiter.attempt("b", now: start.addingTimeInterval(1))
        #expect(other)
        #expect(limiter.retryAfter("a", now: start.addingTimeInterval(2)) == start.addingTimeInterval(60))
        let nextWindow = limiter.attempt("a", now: start.addingTimeInterval(61))
        #expect(nextWindow)
        for index in 0..<1000 { _ = limiter.attempt("k\(index)", now: start.addingTimeInterval(100)) }
        #expect(limiter.trackedKeys <= 10)
    }
}

@Suite("Intake: identity codes as people type them", .serialized)
struct IdentityCodeTests {
    @Test("a USCC typed in lower case with spaces is the same company: stored upper case, one blind index, the same retry")
    func lowerCaseUSCC() async throws {
        try await withIntakeNode(today: IntakeServiceTests.monday) { node in
            try await node.publishSampleCatalogue()
            var typed = try Fixtures.submit([IntakeServiceTests.food], key: "typed-once")
            typed.applicant.idNumber = " " + Fixtures.uscc.lowercased() + " "
            let first = try await node.intake.submitApplication(typed, metadata: try node.clerk).application
            #expect(first.applicant.idNumber == Fixtures.uscc)
            let upper = try await node.intake.submitApplication(try Fixtures.submit([IntakeServiceTests.food]), metadata: try node.clerk).application
            let indexes = try await node.database.query("SELECT DISTINCT applicant_id_index FROM applications").map { try $0.decode(at: 0, as: [UInt8].self) }
            #expect(indexes.count == 1)
            #expect(first.applicationID != upper.applicationID)
            // The retry of the typed request with the same key is the same application.
            let retried = try await node.intake.submitApplication(typed, metadata: try node.clerk).application
            #expect(retried.applicationID == first.applicationID)
            #expect(IdentityCode.normalized(" 37130219900101123x\n") == "37130219900101123X")
        }
    }

    @Test("a resident ID typed with a lower-case x is stored as the X form, and either spelling of the token's subject reads it; another person does not")
    func lowerCaseX() async throws {
        try await withIntakeNode(today: IntakeServiceTests.monday) { node in
            try await node.publishSampleCatalogue()
            let stored = "11010519491231002X"
            var person = Fixtures.person
            person.idNumber = "11010519491231002x"
            let typedByHerself = try node.metadata(.applicant, subject: "11010519491231002x")
            let online = try Fixtures.submit([IntakeServiceTests.food], applicant: person)
            try await node.uploadFixtures(for: online.materials, as: typedByHerself)  // her own scans (the material store binds them to her)
            let submitted = try await node.intake.submitApplication(online, metadata: typedByHerself).application
            #expect(submitted.applicant.idNumber == stored || submitted.applicant.masked)
            var upper = person
            upper.idNumber = stored
            _ = try await node.intake.submitApplication(try Fixtures.submit([IntakeServiceTests.food], applicant: upper), metadata: try node.clerk)
            let indexes = try await node.database.query("SELECT DISTINCT applicant_id_index FROM applications").map { try $0.decode(at: 0, as: [UInt8].self) }
            #expect(indexes.count == 1)
            let full = try await node.intake.getApplication(.with { $0.applicationID = submitted.applicationID }, metadata: try node.clerk).application
            #expect(full.applicant.idNumber == stored)
            // The same person whichever way her token spells the number (a token subject is ASCII).
            for subject in [stored, "11010519491231002x"] {
                let read = try await node.intake.getApplication(.with { $0.applicationID = submitted.applicationID }, metadata: try node.metadata(.applicant, subject: subject))
                #expect(read.application.applicationID == submitted.applicationID)
            }
            await #expect { _ = try await node.intake.getApplication(.with { $0.applicationID = submitted.applicationID }, metadata: try node.metadata(.applicant, subject: Fixtures.residentID)) } throws: {
                ($0 as? RPCError)?.code == .permissionDenied
            }
        }
    }
}

@Suite("Intake: the clerk's note at acceptance", .serialized)
struct AcceptanceNoteTests {
    @Test("AcceptRequest.note is printed on the acceptance notice (it was accepted and thrown away)")
    func notePrinted() async throws {
        try await withIntakeNode(today: IntakeServiceTests.monday) { node in
            try await node.publishSampleCatalogue()
            let submitted = try await node.intake.submitApplication(try Fixtures.submit([IntakeServiceTests.food]), metadata: try node.clerk).application
            let accepted = try await node.intake.accept(.with {
                $0.applicationID = submitted.applicationID
                $0.note = "原件已核验，复印件已留存"
            }, metadata: try node.clerk).application
            let text = String(decoding: accepted.receipt.document.content, as: UTF8.self)
            #expect(text.contains("备注：原件已核验，复印件已留存"), "\(text)")
        }
    }
}
