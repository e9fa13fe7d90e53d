import Foundation
import OneSealBenchSupport
import OneSealLocalCluster
import OneSealProto
import OneSealStore
import Testing

/// oneseal-web (#18) against both nodes as real processes, in a real browser: a licence is issued
/// through the normal life cycle at the county, then `tests/web/browser_test.py` (Selenium +
/// Debian's chromium) opens its QR URL, the same link at the city (互认), tampered links, and the
/// progress look-up with the right and a wrong query code, at desktop and phone widths, saving
/// screenshots. `scripts/test` installs chromium, chromium-driver and selenium.
@Suite(.serialized) struct WebFrontTests {
    static let county = Hall.county
    static let city = "371300"

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    @Test("a licence's QR URL verifies in the browser (seal, tree head, inclusion checked by WebCrypto), tampered links fail, the progress look-up shows the items")
    func browser() async throws {
        try await withTwoNodes(web: true) { cluster, hall in
            // The normal life cycle: submit and accept at the window, grant, the licence is issued.
            let submitted = try await hall.submit(at: Self.county, items: [Hall.countyFoodItem])
            let applicationID = submitted.application.applicationID
            _ = try await hall.accept(at: Self.county, applicationID)
            let opened = try #require(try await hall.cases(of: applicationID, at: Self.county).first)
            _ = try await hall.grant(opened.caseID, at: Self.county)
            let licence = try await hall.licence(ofCase: opened.caseID, at: Self.county)
            _ = try await hall.awaitProgress(at: Self.county, applicationID, .licenceIssued)
            // The QR text exactly as printed on the licence, and the licence in a signed tree head.
            let rendered = try await hall.clients.certificate(Self.county).renderLicence(
                .with { $0.licenceID = licence.licenceID; $0.format = .svg }, metadata: try hall.clerk(Self.county))
            #expect(rendered.qrPayload.hasPrefix(cluster.webURL(Self.county) + "/verify?"), "QR: \(rendered.qrPayload)")
            // Two more licences, so the log has three leaves and the proofs the browser checks have
            // real audit paths (leaf 0 of 3: two hashes; leaf 2 of 3: one, the RFC's fn == sn case).
            // The third holder is a natural person: the page masks the name and ID number, and the
            // content's bytes (which hold the full ID number) are not sent to the browser.
            let person = Common_Applicant.with {
                $0.kind = .naturalPerson
                $0.name = "张三丰"
                $0.idType = .residentID
                $0.idNumber = Hall.collectorID
                $0.phone = "13812345678"
            }
            var more: [String] = []
            var moreLicences: [(caseID: String, licence: Certificate_Licence)] = []
            var personNumber = ""
            for applicant in [Hall.company, person] {
                let made = try await hall.submit(at: Self.county, items: [Hall.countyFoodItem], applicant: applicant).application
                let application = made.applicationID
                if applicant.idNumber == person.idNumber { personNumber = made.applicationNumber }
                _ = try await hall.accept(at: Self.county, application)
                let opened = try #require(try await hall.cases(of: application, at: Self.county).first)
                _ = try await hall.grant(opened.caseID, at: Self.county)
                let issued = try await hall.licence(ofCase: opened.caseID, at: Self.county)
                moreLicences.append((opened.caseID, issued))
                more.append(try await hall.clients.certificate(Self.county).renderLicence(
                    .with { $0.licenceID = issued.licenceID; $0.format = .svg }, metadata: try hall.clerk(Self.county)).qrPayload)
                _ = try await eventually("the licence is in a signed tree head") {
                    let answer = try await hall.verify(issued.content.licenceIdentifier, at: Self.county)
                    return answer.includedInLog ? answer : nil
                }
            }
            _ = try await eventually("the first licence is in a signed tree head of all three") {
                let answer = try await hall.verify(licence.content.licenceIdentifier, at: Self.county)
                return answer.includedInLog && answer.inclusion.treeHead.treeSize >= 3 ? answer : nil
            }

            // The second licence is withdrawn by the market regulator (吊销) → cancelled (注销): its
            // page says the licence is genuine but no longer in force, and why.
            let (cancelledCase, cancelledLicence) = moreLicences[0]
            let push = try #require(try await hall.pushes(of: cancelledCase, to: Hall.countyMarket, at: Self.county, count: 2).first { $0.kind == .licence })
            _ = try await hall.claim(push.pushID, by: Hall.countyMarket, at: Self.county)
            var finding = Supervision_Finding()
            finding.kind = .licenceWithdrawn
            finding.pushID = push.pushID
            finding.licence.licenceNumber = cancelledLicence.content.licenceNumber
            finding.penalty = Supervision_Penalty.with { $0.decisionNumber = "兰市监罚〔2026〕89号"; $0.penaltyType = "吊销许可证"; $0.decidedOn = push.decidedOn }
            finding.facts = "经营者使用过期原料生产食品，情节严重，依法吊销食品经营许可证"
            finding.occurredOn = push.decidedOn
            _ = try await hall.clients.supervision(Self.county).submitFinding(.with { $0.finding = finding; $0.idempotencyKey = "web-scjg-89" }, metadata: try hall.department(Hall.countyMarket))
            _ = try await eventually("the withdrawn licence is cancelled") {
                let answer = try await hall.verify(cancelledLicence.content.licenceIdentifier, at: Self.county)
                return answer.status == .cancelled ? answer : nil
            }

            let screenshots = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("oneseal-web-screenshots-\(UUID().uuidString.prefix(8))")
            let config: [String: Any] = [
                "screenshots": screenshots.path,
                "county_web": cluster.webURL(Self.county),
                "city_web": cluster.webURL(Self.city),
                "qr_url": rendered.qrPayload,
                "more_qr_urls": more,
                "person_qr_url": more[1],
                "cancelled_qr_url": more[0],
                "person": ["name": person.name, "id_number": person.idNumber],
                "progress": ["number": submitted.application.applicationNumber, "code": submitted.application.queryCode],
                // Accounts (#18 item 3): the natural person registers and finds the window's application.
                "account": ["name": person.name, "id_number": person.idNumber, "phone": person.phone, "application_number": personNumber, "application_count": 1],
            ]
            let configFile = cluster.directory.appendingPathComponent("browser-test.json")
            try JSONSerialization.data(withJSONObject: config).write(to: configFile)
            let output = cluster.directory.appendingPathComponent("browser-test.out")
            let status = try await Pgbench.runToCompletion(
                ["/usr/bin/env", "python3", Self.repositoryRoot.appendingPathComponent("tests/web/browser_test.py").path, configFile.path],
                outputPath: output.path)
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            // Written straight to the descriptor: print's buffer was lost when stdout is a file.
            FileHandle.standardOutput.write(Data((text + "\noneseal-web screenshots: \(screenshots.path)\n").utf8))
            if status != 0 {
                for node in [Self.county, Self.city] {
                    let log = ((try? String(contentsOf: cluster.webLogFile(node), encoding: .utf8)) ?? "").split(separator: "\n").suffix(20).joined(separator: "\n")
                    FileHandle.standardOutput.write(Data("---- web@\(node) ----\n\(log)\n".utf8))
                }
            }
            #expect(status == 0, "the browser test failed:\n\(text)")

            // The front's database holds one account (the refused registrations stored nothing), its
            // personal data sealed: neither the ID number nor the name is in any column in the clear.
            let web = PostgresClient(conninfo: try PostgresConnInfo.replacingDatabase(in: cluster.server(of: Self.county), with: cluster.webDatabases[Self.county]!), maxConnections: 1)
            let rows = try await web.query("SELECT identity_index, sealed, password_hash FROM web_accounts")
            #expect(rows.count == 1)
            for row in rows.rows {
                let index: [UInt8] = try row.decode("identity_index"), sealed: [UInt8] = try row.decode("sealed")
                let stored = index + sealed + Array(try row.decode("password_hash", as: String.self).utf8)
                for secret in [person.idNumber, person.name, person.phone] {
                    let needle = Array(secret.utf8)
                    #expect(!(0...(stored.count - needle.count)).contains { Array(stored[$0..<($0 + needle.count)]) == needle }, "\(secret.prefix(2))… is stored in the clear")
                }
                let hash: String = try row.decode("password_hash")
                #expect(hash.hasPrefix("$2") && hash.contains("$12$"), "a bcrypt hash of cost 12")
            }
            #expect(try await web.query("SELECT count(*) AS n FROM web_sessions").one().decode("n", as: Int.self) >= 1)
            await web.shutdown()
        }
    }

    /// GB 11643's check character for 17 digits (ISO 7064 MOD 11-2): a valid number of no one.
    static func residentID(_ first17: String) -> String {
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        let sum = zip(first17, weights).reduce(0) { $0 + Int(String($1.0))! * $1.1 }
        return first17 + String(Array("10X98765432")[sum % 11])
    }

    /// One phase of tests/web/online_walk.py; returns what the phase wrote to its "out" file.
    static func walk(_ phase: String, _ config: [String: Any], in cluster: LocalCluster) async throws -> [String: Any] {
        var config = config
        let out = cluster.directory.appendingPathComponent("walk-\(phase).out.json")
        config["out"] = out.path
        let file = cluster.directory.appendingPathComponent("walk-\(phase).json")
        try JSONSerialization.data(withJSONObject: config).write(to: file)
        let log = cluster.directory.appendingPathComponent("walk-\(phase).log")
        let status = try await Pgbench.runToCompletion(
            ["/usr/bin/env", "python3", repositoryRoot.appendingPathComponent("tests/web/online_walk.py").path, phase, file.path], outputPath: log.path)
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        FileHandle.standardOutput.write(Data("---- online walk: \(phase) ----\n\(text)\n".utf8))
        if status != 0 {
            let web = ((try? String(contentsOf: cluster.webLogFile(county), encoding: .utf8)) ?? "").split(separator: "\n").suffix(30).joined(separator: "\n")
            FileHandle.standardOutput.write(Data("---- web@\(county) ----\n\(web)\n".utf8))
        }
        #expect(status == 0, "online walk phase \(phase) failed:\n\(text)")
        let data = (try? Data(contentsOf: out)) ?? Data("{}".utf8)
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    @Test("the online hall: register, apply online with uploads, the window's correction answered online, the officer decides, the holder downloads the licence and verifies it; bad files, a forged form and another person's ids refused")
    func onlineWalk() async throws {
        try await withTwoNodes(web: true) { cluster, hall in
            let screenshots = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("oneseal-web-walk-\(UUID().uuidString.prefix(8))")
            let person: [String: String] = [
                "name": "王小明", "id_number": Self.residentID("37130219880808301"), "phone": "13912345678", "password": "兰山 online walk 2026",
            ]
            var config: [String: Any] = ["screenshots": screenshots.path, "web": cluster.webURL(Self.county), "item": Hall.countyFoodItem, "person": person]
            let intake = hall.clients.intake(Self.county)

            // 1. Register and apply online (the browser).
            let applied = try await Self.walk("apply", config, in: cluster)
            let number = try #require(applied["application_number"] as? String)
            var application = try await intake.getApplication(.with { $0.applicationNumber = number }, metadata: try hall.clerk(Self.county)).application
            #expect(application.channel == .online)
            #expect(application.applicant.idNumber == person["id_number"])
            #expect(Set(application.materials.map(\.requirementCode)) == ["M01", "M04", "M05"])
            // The uploads are in intake's store: the window reads the application form back.
            let form = try #require(application.materials.first { $0.requirementCode == "M01" })
            let downloaded = try await intake.downloadMaterial(fileID: form.fileID, metadata: try hall.clerk(Self.county))
            #expect(downloaded.content.starts(with: Array("%PDF-".utf8)))

            // 2. The window: one notice listing everything missing (the government-issued M02, M03).
            _ = try await intake.issueCorrectionNotice(.with {
                $0.applicationID = application.applicationID
                $0.problems = [("M02", "营业执照"), ("M03", "法定代表人（负责人）身份证明")].map { code, name in
                    .with {
                        $0.implementationCode = Hall.countyFoodItem
                        $0.requirementCode = code
                        $0.materialName = name
                        $0.kind = .missing
                        $0.howToFix = "请上传清晰的扫描件"
                    }
                }
            }, metadata: try hall.clerk(Self.county))
            config["application_id"] = application.applicationID
            _ = try await Self.walk("correct", config, in: cluster)
            application = try await hall.application(at: Self.county, application.applicationID)
            #expect(application.status == .submitted)
            #expect(Set(application.materials.map(\.requirementCode)).isSuperset(of: ["M01", "M02", "M03", "M04", "M05"]))

            // 3. The window accepts, the officer grants, the licence is issued and logged.
            _ = try await hall.accept(at: Self.county, application.applicationID)
            let opened = try #require(try await hall.cases(of: application.applicationID, at: Self.county).first)
            _ = try await hall.grant(opened.caseID, at: Self.county)
            let licence = try await hall.licence(ofCase: opened.caseID, at: Self.county)
            _ = try await hall.awaitProgress(at: Self.county, application.applicationID, .licenceIssued)
            _ = try await eventually("the licence is in a signed tree head") {
                let answer = try await hall.verify(licence.content.licenceIdentifier, at: Self.county)
                return answer.includedInLog ? answer : nil
            }
            let rendered = try await hall.clients.certificate(Self.county).renderLicence(
                .with { $0.licenceID = licence.licenceID; $0.format = .svg }, metadata: try hall.clerk(Self.county))

            // Someone else's application and licence, made at the window.
            let other = try await hall.submit(at: Self.county, items: [Hall.countyFoodItem]).application.applicationID
            _ = try await hall.accept(at: Self.county, other)
            let otherCase = try #require(try await hall.cases(of: other, at: Self.county).first)
            _ = try await hall.grant(otherCase.caseID, at: Self.county)
            let otherLicence = try await hall.licence(ofCase: otherCase.caseID, at: Self.county)

            // 4. Results: the holder downloads and verifies; another person's ids are not found.
            config["other_application_id"] = other
            config["other_licence"] = otherLicence.content.licenceIdentifier
            config["qr_url"] = rendered.qrPayload
            let results = try await Self.walk("results", config, in: cluster)

            // 5. The bad rating's rectification: called back (evaluator), rectified (section chief);
            // then the applicant sees it online and gives the verdict.
            let ratingPath = try #require(results["rating_path"] as? String)
            let evaluation = hall.clients.evaluation(Self.county)
            let rated = try await evaluation.getRating(
                .with { $0.ratingID = String(ratingPath.split(separator: "/").last ?? "") }, metadata: try hall.clients.metadata(.evaluator, "evaluator-1", node: Self.county))
            #expect(rated.rating.level == .veryDissatisfied)
            #expect(rated.rating.tags == ["多次跑腿"])
            let ticket = rated.rectification.rectificationID
            _ = try await evaluation.recordCallBack(.with {
                $0.rectificationID = ticket
                $0.callBack.reached = true
                $0.callBack.summary = "电话回访申请人"
                $0.callBack.verifiedFacts = "营业执照可共享，窗口仍要求上传，情况属实"
                $0.callBack.justified = true
            }, metadata: try hall.clients.metadata(.evaluator, "evaluator-1", node: Self.county))
            _ = try await evaluation.completeRectification(.with {
                $0.rectificationID = ticket
                $0.measures = "营业执照改为部门共享获取，网上申报不再要求上传"
                $0.feedback = "已电话致歉并说明改进"
            }, metadata: try hall.clients.metadata(.sectionChief, "chief-zhao", node: Self.county))
            // The applicant chose mail online: the window names no method, records the tracking number.
            let chosen = try await hall.application(at: Self.county, application.applicationID)
            #expect(chosen.deliveryChoice.method == .mail)
            #expect(chosen.deliveryChoice.address.postalAddress == "山东省临沂市兰山区金雀山路18号3单元")
            let posted = try await intake.recordDelivery(.with {
                $0.applicationID = application.applicationID
                $0.delivery.trackingNumber = "EMS1180000001"
            }, metadata: try hall.clerk(Self.county)).application
            #expect(posted.delivery.method == .mail)
            #expect(posted.delivery.address.recipientName == person["name"])
            config["tracking_number"] = "EMS1180000001"
            // The other application's receipt: its number and query code (the rating link, no sign-in).
            let otherRecord = try await hall.application(at: Self.county, other)
            config["other_number"] = otherRecord.applicationNumber
            config["other_code"] = otherRecord.queryCode
            config["rating_path"] = ratingPath
            _ = try await Self.walk("rectified", config, in: cluster)
            FileHandle.standardOutput.write(Data("oneseal-web walk screenshots: \(screenshots.path)\n".utf8))
        }
    }
}
