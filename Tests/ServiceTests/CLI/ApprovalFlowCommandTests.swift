import Foundation
import IntakeRules
import OneSealProto
import Testing

/// A sole-officer application from submission to licence, driven only through the `oneseal` binary
/// with `--json`, the test reading each step's output as a script would.
extension CLICommandTests {
    static let food = "000117005000371302001"
    static let uscc = "91371302MA3C1234X7"
    static let review = "经审查，申请材料齐全，现场核查经营场所布局合理，符合《食品经营许可管理办法》第十一条规定"

    static var catalogueFile: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Services/Intake/catalogue/sample-catalogue.json").path
    }

    static var boundaryFile: String {
        URL(fileURLWithPath: catalogueFile).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("../Supervision/boundary/sample-boundary.json").standardized.path
    }

    /// `--material CODE=@PATH` for every required material of the food item: the CLI uploads each
    /// stand-in scan (`FixtureFiles`) to the material store first, as the same caller.
    static func materialFlags() throws -> [String] {
        let items = try CatalogueFile.decode(try Data(contentsOf: URL(fileURLWithPath: catalogueFile)))
        let item = try #require(items.first { $0.implementationCode == food })
        return try item.materials.filter(\.required).flatMap { ["--material", "\($0.code)=@\(try scanFile($0.code))"] }
    }

    /// The stand-in scan of `code` on disk (written once per process).
    static func scanFile(_ code: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-cli-scans-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("\(code).pdf").path
        if !FileManager.default.fileExists(atPath: path) {
            try Data(FixtureFiles.content(code)).write(to: URL(fileURLWithPath: path), options: .atomic)
        }
        return path
    }

    static func submitArguments(idNumber: String = uscc) throws -> [String] {
        ["application", "submit", "--item", food, "--name", "临沂市兰山区好味道餐饮有限公司", "--id-type", "uscc", "--id-number", idNumber,
         "--legal-representative", "李四", "--contact-name", "王五", "--contact-phone", "13812345678", "--window", "07"] + (try materialFlags())
    }

    @Test("the case goes from open to granted by CLI commands; the licence verifies with its log proof; the audit chain is intact")
    func soleOfficerFlow() async throws {
        try await withCLINode { node in
            let imported = try await node.cli(["catalogue", "import", "--file", Self.catalogueFile, "--json"])
            #expect(imported.status == 0, "\(imported)")
            let importedCount = try imported.object()["items"] as? Int ?? 0
            #expect(importedCount > 0)
            #expect(try imported.object()["new_versions"] as? Int == importedCount)
            #expect(imported.stderr.isEmpty, "no progress bar when stderr is not a terminal: \(imported.stderr)")
            let boundary = try await node.cli(["supervision", "boundary", "import", "--file", Self.boundaryFile])
            #expect(boundary.status == 0, "\(boundary)")

            let submitted = try await node.cli(try Self.submitArguments() + ["--json"])
            #expect(submitted.status == 0, "\(submitted)")
            let application = try #require(try submitted.object()["application"] as? [String: Any])
            let applicationID = try #require(application["application_id"] as? String)
            #expect(application["status"] as? String == "APPLICATION_STATUS_SUBMITTED")
            #expect(try submitted.object()["check_findings"] == nil, "the flags supplied every required material")

            let accepted = try await node.cli(["application", "accept", "--application", applicationID, "--json"])
            #expect(accepted.status == 0, "\(accepted)")
            #expect((try accepted.object()["application"] as? [String: Any])?["status"] as? String == "APPLICATION_STATUS_ACCEPTED")
            // The window's work list, with no filter (once refused by intake's date filter).
            let worklist = try await node.cli(["application", "list", "--json"])
            #expect(worklist.status == 0, "\(worklist)")
            #expect(try worklist.array().contains { $0["application_id"] as? String == applicationID }, "\(worklist)")

            // Intake's ApplicationAccepted reaches approval through the outbox relay and opens the case.
            var cases: [[String: Any]] = []
            let opened = try await eventually {
                let listed = try await node.cli(["case", "list", "--application", applicationID, "--json"])
                cases = listed.status == 0 ? try listed.array() : []
                return cases.count == 1
            }
            #expect(opened)
            let caseID = try #require(cases.first?["case_id"] as? String)
            #expect(cases.first?["status"] as? String == "CASE_STATUS_IN_PROGRESS")

            let text = try await node.cli(["case", "show", "--case", caseID])
            #expect(text.status == 0, "\(text)")
            #expect(text.stdout.contains("status in_progress"), "\(text)")

            // 专家评审 stops the clock; its result restarts it; the director grants the one extension.
            let badProcedure = try await node.cli(["case", "suspend", "--case", caseID, "--procedure", "coffee-break", "--notice", "x"])
            #expect(badProcedure.status == 64 && badProcedure.stderr.contains("--procedure"), "\(badProcedure)")
            let suspended = try await node.cli(["case", "suspend", "--case", caseID, "--procedure", "expert-review", "--expected-days", "5",
                                                "--notice", "因需组织专家评审，审批期限中止，评审时间不计入审批期限", "--subject", "officer-li", "--json"])
            #expect(suspended.status == 0, "\(suspended)")
            #expect((try suspended.object()["case"] as? [String: Any])?["status"] as? String == "CASE_STATUS_SUSPENDED")
            let resumed = try await node.cli(["case", "resume", "--case", caseID, "--result", "专家组评审通过", "--subject", "officer-li", "--json"])
            #expect(resumed.status == 0, "\(resumed)")
            #expect(try resumed.object()["status"] as? String == "CASE_STATUS_IN_PROGRESS")
            let reason = "现场核查发现需补充检测报告，二十日内难以作出决定，经本机关负责人批准延长十日"
            let extended = try await node.cli(["case", "extend", "--case", caseID, "--reason", reason, "--subject", "director-zhou", "--json"])
            #expect(extended.status == 0, "\(extended)")
            #expect((try extended.object()["extension"] as? [String: Any])?["extension_days"] as? Int == 10, "\(extended)")
            let again = try await node.cli(["case", "extend", "--case", caseID, "--reason", reason, "--subject", "director-zhou"])
            #expect(again.status == 2 && again.stderr.contains("FAILED_PRECONDITION"), "only one extension: \(again)")

            let reviewed = try await node.cli(["case", "review", "--case", caseID, "--conclusion", "grant", "--opinion", Self.review, "--subject", "officer-li", "--json"])
            #expect(reviewed.status == 0, "\(reviewed)")
            let steps = try #require(try reviewed.object()["steps"] as? [[String: Any]])
            #expect(steps.first?["conclusion"] as? String == "STEP_CONCLUSION_PROPOSE_GRANT")

            let decided = try await node.cli(["case", "decide", "--case", caseID, "--decision", "grant", "--scope", "预包装食品销售，散装食品销售",
                                              "--place", "兰山区解放路1号", "--subject", "officer-li", "--json"])
            #expect(decided.status == 0, "\(decided)")
            let decidedCase = try decided.object()
            #expect(decidedCase["status"] as? String == "CASE_STATUS_GRANTED")
            let decision = try #require(decidedCase["decision"] as? [String: Any])
            #expect((decision["grant"] as? [String: Any])?["scope"] as? String == "预包装食品销售，散装食品销售")

            // The window sees the grant; the certificate service issues the licence and logs it.
            var progress = ""
            let windowKnows = try await eventually {
                let shown = try await node.cli(["application", "show", "--application", applicationID, "--json"])
                progress = ((try shown.object()["items"] as? [[String: Any]])?.first?["progress"] as? String) ?? ""
                return progress == "ITEM_PROGRESS_GRANTED" || progress == "ITEM_PROGRESS_LICENCE_ISSUED"
            }
            #expect(windowKnows, "progress \(progress)")

            var identifier = ""
            let issued = try await eventually {
                let listed = try await node.cli(["licence", "list", "--case", caseID, "--json"])
                identifier = (try listed.array().first?["content"] as? [String: Any])?["licence_identifier"] as? String ?? ""
                return !identifier.isEmpty
            }
            #expect(issued)
            var verification: [String: Any] = [:]
            let logged = try await eventually {
                let verified = try await node.cli(["licence", "verify", "--identifier", identifier, "--json"], token: false)
                verification = verified.status == 0 ? try verified.object() : [:]
                return (verification["log"] as? [String: Any])?["checked"] as? Bool == true
            }
            #expect(logged, "\(verification)")
            #expect(verification["valid"] as? Bool == true)

            // The window hands the licence out once it knows it (出件).
            let ready = try await eventually {
                let shown = try await node.cli(["application", "show", "--application", applicationID, "--json"])
                let status = shown.status == 0 ? try shown.object()["status"] as? String : nil
                return status == "APPLICATION_STATUS_READY_FOR_DELIVERY"
            }
            #expect(ready)
            let noCollector = try await node.cli(["application", "deliver", "--application", applicationID])
            #expect(noCollector.status == 2 && noCollector.stderr.contains("delivery.recipient.name"), "\(noCollector)")
            let delivered = try await node.cli(["application", "deliver", "--application", applicationID, "--recipient-name", "王五",
                                                "--recipient-id-number", "371302199001011233", "--json"])
            #expect(delivered.status == 0, "\(delivered)")
            #expect((try delivered.object()["application"] as? [String: Any])?["status"] as? String == "APPLICATION_STATUS_DELIVERED")

            // The supervising department on the boundary list sees its pushes about the case and claims one.
            let department = ["--role", "department", "--token-department", "SCJG-371302", "--subject", "inspector-1"]
            var pushes: [[String: Any]] = []
            let pushed = try await eventually {
                let listed = try await node.cli(["supervision", "pushes", "--case-id", caseID, "--json"] + department)
                pushes = listed.status == 0 ? try listed.array() : []
                return !pushes.isEmpty
            }
            #expect(pushed)
            #expect(pushes.allSatisfy { ($0["department"] as? [String: Any])?["code"] as? String == "SCJG-371302" })
            let pushID = try #require(pushes.first?["push_id"] as? String)
            let claimed = try await node.cli(["supervision", "claim", "--push", pushID, "--json"] + department)
            #expect(claimed.status == 0, "\(claimed)")
            #expect(try claimed.object()["status"] as? String == "PUSH_STATUS_CLAIMED")
            let claimedList = try await node.cli(["supervision", "pushes", "--case-id", caseID, "--status", "claimed"] + department)
            #expect(claimedList.status == 0 && claimedList.stdout.contains("\(pushID)  ") && claimedList.stdout.contains("claimed on time"), "\(claimedList)")

            // Another applicant withdraws before acceptance (撤回申请).
            let second = try await node.cli(try Self.submitArguments() + ["--json"])
            let secondID = try #require((try second.object()["application"] as? [String: Any])?["application_id"] as? String)
            let withdrawn = try await node.cli(["application", "withdraw", "--application", secondID, "--reason", "申请人决定暂不开业", "--json"])
            #expect(withdrawn.status == 0, "\(withdrawn)")
            #expect((try withdrawn.object()["application"] as? [String: Any])?["status"] as? String == "APPLICATION_STATUS_WITHDRAWN")

            let audit = try await node.cli(["audit", "verify", "--json"])
            #expect(audit.status == 0, "\(audit)")
            #expect(try audit.object()["intact"] as? Bool == true)
            #expect((try audit.object()["entries_checked"] as? Int ?? 0) >= 3)
        }
    }

    @Test("bad input: the service's field violation is named on stderr (exit 2); a bad flag is named before any call (exit 64)")
    func badArguments() async throws {
        try await withCLINode { node in
            #expect(try await node.cli(["catalogue", "import", "--file", Self.catalogueFile]).status == 0)

            // One changed check character: the service names applicant.id_number.
            let bad = try await node.cli(try Self.submitArguments(idNumber: "91371302MA3C1234X8"))
            #expect(bad.status == 2, "\(bad)")
            #expect(bad.stdout.isEmpty)
            #expect(bad.stderr.contains("intake@\(node.node)"), "\(bad)")
            #expect(bad.stderr.contains("INVALID_ARGUMENT"), "\(bad)")
            #expect(bad.stderr.contains("field applicant.id_number:"), "\(bad)")

            let badJSON = try await node.cli(try Self.submitArguments(idNumber: "91371302MA3C1234X8") + ["--json"])
            #expect(badJSON.status == 2)
            let error = try #require((try JSONSerialization.jsonObject(with: Data(badJSON.stderr.utf8)) as? [String: Any])?["error"] as? [String: Any])
            #expect(error["code"] as? String == "INVALID_ARGUMENT")
            let fields = (error["field_violations"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
            #expect(fields.contains("applicant.id_number"), "\(error)")

            let unknownMaterial = try await node.cli(try Self.submitArguments() + ["--material", "M99=scan-x"])
            #expect(unknownMaterial.status == 64, "\(unknownMaterial)")
            #expect(unknownMaterial.stderr.contains("--material M99: no item of this application lists material M99"), "\(unknownMaterial)")

            let noScope = try await node.cli(["case", "decide", "--case", UUID().uuidString, "--decision", "grant"])
            #expect(noScope.status == 64)
            #expect(noScope.stderr.contains("--scope"), "\(noScope)")
            let blankOpinion = try await node.cli(["case", "decide", "--case", UUID().uuidString, "--decision", "grant", "--scope", "预包装食品销售", "--opinion", " "])
            #expect(blankOpinion.status == 64 && blankOpinion.stderr.contains("--opinion"), "\(blankOpinion)")

            let missing = try await node.cli(["application", "accept", "--application", UUID().uuidString.lowercased()])
            #expect(missing.status == 2, "\(missing)")
            #expect(missing.stderr.contains("NOT_FOUND"), "\(missing)")

            let withFlags = try await node.cli(["application", "submit", "--file", "/nonexistent.json", "--name", "张三"])
            #expect(withFlags.status == 64)
            #expect(withFlags.stderr.contains("--file gives the whole request"), "\(withFlags)")

            let noToken = try await node.cli(["case", "list"], token: false)
            #expect(noToken.status == 64)
            #expect(noToken.stderr.contains("--token"), "\(noToken)")
        }
    }

    @Test("submit --file takes the request as protobuf JSON; the same idempotency key gives the same application")
    func submitFromFile() async throws {
        try await withCLINode { node in
            #expect(try await node.cli(["catalogue", "import", "--file", Self.catalogueFile]).status == 0)
            let items = try CatalogueFile.decode(try Data(contentsOf: URL(fileURLWithPath: Self.catalogueFile)))
            let item = try #require(items.first { $0.implementationCode == Self.food })
            var request = Intake_SubmitApplicationRequest()
            request.applicant = Common_Applicant.with {
                $0.kind = .legalPerson; $0.name = "临沂市兰山区好味道餐饮有限公司"; $0.idType = .uscc; $0.idNumber = Self.uscc
                $0.legalRepresentative = "李四"; $0.contactName = "王五"; $0.contactPhone = "13812345678"
            }
            request.items = [Intake_RequestedItem.with { $0.implementationCode = Self.food }]
            // The window scans first (`oneseal material upload` prints the file id), then names them.
            for material in item.materials.filter(\.required) {
                let uploaded = try await node.cli(["material", "upload", "--file", try Self.scanFile(material.code)])
                #expect(uploaded.status == 0, "\(uploaded)")
                #expect(uploaded.stdout.hasPrefix(FixtureFiles.id(material.code)), "\(uploaded)")
            }
            // The uploader reads it back byte for byte; an existing --out is not overwritten.
            let scanned = try #require(item.materials.first { $0.required }).code
            let copy = node.directory.appendingPathComponent("copy.pdf").path
            let downloaded = try await node.cli(["material", "download", "--file-id", FixtureFiles.id(scanned), "--out", copy])
            #expect(downloaded.status == 0, "\(downloaded)")
            #expect(FileManager.default.contents(atPath: copy) == Data(FixtureFiles.content(scanned)))
            let overwrite = try await node.cli(["material", "download", "--file-id", FixtureFiles.id(scanned), "--out", copy])
            #expect(overwrite.status == 64, "\(overwrite)")
            request.materials = item.materials.filter(\.required).map { material in
                Intake_ProvidedMaterial.with { $0.requirementCode = material.code; $0.name = material.name; $0.form = .original; $0.copies = 1; $0.fileID = FixtureFiles.id(material.code) }
            }
            request.channel = .window
            request.windowID = "07"
            let path = node.directory.appendingPathComponent("request.json").path
            try Data(try request.jsonString().utf8).write(to: URL(fileURLWithPath: path))

            let first = try await node.cli(["application", "submit", "--file", path, "--idempotency-key", "cli-file-1", "--json"])
            #expect(first.status == 0, "\(first)")
            let id = try #require((try first.object()["application"] as? [String: Any])?["application_id"] as? String)
            let again = try await node.cli(["application", "submit", "--file", path, "--idempotency-key", "cli-file-1", "--json"])
            #expect(again.status == 0, "\(again)")
            #expect((try again.object()["application"] as? [String: Any])?["application_id"] as? String == id)
            let other = try await node.cli(["application", "submit", "--file", path, "--json"])
            #expect(other.status == 0, "\(other)")
            #expect((try other.object()["application"] as? [String: Any])?["application_id"] as? String != id, "a generated key is a new application")

            try Data("{\"applicant\": 7}".utf8).write(to: URL(fileURLWithPath: path))
            let broken = try await node.cli(["application", "submit", "--file", path])
            #expect(broken.status == 64)
            #expect(broken.stderr.contains("--file \(path): not a oneseal.intake.v1.SubmitApplicationRequest"), "\(broken)")
        }
    }
}
