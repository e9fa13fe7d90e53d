import Foundation
import Testing

/// Renewal, change and hearing (#20) through the `oneseal` binary with `--json`, as a hall's script
/// would drive them: a licence issued, renewed in time, changed as a recorded matter, and a second
/// case taken through the notice of the hearing right, the request and a refused schedule.
extension CLICommandTests {
    /// Submit, accept, and grant the food item, reviewed and decided on the spot by its sole officer
    /// (`--opinion`); returns the case id and the licence identifier.
    func grantedFoodLicence(_ node: CLINode) async throws -> (caseID: String, identifier: String) {
        let caseID = try await openedFoodCase(node)
        let decided = try await node.cli(["case", "decide", "--case", caseID, "--decision", "grant", "--scope", "预包装食品销售，散装食品销售",
                                          "--place", "兰山区解放路1号", "--opinion", Self.review, "--subject", "officer-li", "--json"])
        #expect(decided.status == 0, "\(decided)")
        let steps = (try? decided.object()["steps"] as? [[String: Any]]) ?? []
        #expect(steps.first?["opinion"] as? String == Self.review && steps.first?["status"] as? String == "STEP_STATUS_COMPLETED", "\(decided)")
        var identifier = ""
        _ = try await eventually {
            let listed = try await node.cli(["licence", "list", "--case", caseID, "--json"])
            identifier = (try listed.array().first?["content"] as? [String: Any])?["licence_identifier"] as? String ?? ""
            return !identifier.isEmpty
        }
        return (caseID, identifier)
    }

    /// Submits with `extra` flags, accepts, and waits for the case; returns its id.
    func openedFoodCase(_ node: CLINode, extra: [String] = []) async throws -> String {
        let submitted = try await node.cli(try Self.submitArguments() + extra + ["--json"])
        #expect(submitted.status == 0, "\(submitted)")
        let applicationID = try #require((try submitted.object()["application"] as? [String: Any])?["application_id"] as? String)
        let accepted = try await node.cli(["application", "accept", "--application", applicationID])
        #expect(accepted.status == 0, "\(accepted)")
        var caseID = ""
        _ = try await eventually {
            let listed = try await node.cli(["case", "list", "--application", applicationID, "--json"])
            caseID = (listed.status == 0 ? try listed.array() : []).first?["case_id"] as? String ?? ""
            return !caseID.isEmpty
        }
        return try #require(caseID.isEmpty ? nil : caseID)
    }

    @Test("renewal, change and hearing by CLI commands: --renewal-of, --change-of … re-issued as 002, case hearing notify/request/schedule")
    func lawProcedures() async throws {
        try await withCLINode { node in
            let imported = try await node.cli(["catalogue", "import", "--file", Self.catalogueFile])
            #expect(imported.status == 0, "\(imported)")
            let licence = try await grantedFoodLicence(node)

            // A renewal 60 months ahead is in time; the window shows what it renews.
            let renewal = try await node.cli(try Self.submitArguments() + ["--renewal-of", licence.identifier])
            #expect(renewal.status == 0 && renewal.stdout.contains("renewal (延续) of \(licence.identifier)"), "\(renewal)")
            let both = try await node.cli(try Self.submitArguments() + ["--renewal-of", licence.identifier, "--change-of", licence.identifier, "--change-place", "x"])
            #expect(both.status == 64 && both.stderr.contains("--change-of"), "\(both)")

            // A new address only: a recorded change, granted as the case opens and re-issued as 002.
            let changeCase = try await openedFoodCase(node, extra: ["--change-of", licence.identifier, "--change-place", "兰山区解放路9号"])
            var changed: [String: Any] = [:]
            _ = try await eventually {
                let listed = try await node.cli(["licence", "list", "--case", changeCase, "--json"])
                changed = (listed.status == 0 ? try listed.array() : []).first?["content"] as? [String: Any] ?? [:]
                return !changed.isEmpty
            }
            #expect(changed["version"] as? String == "002", "\(changed)")
            #expect(changed["place"] as? String == "兰山区解放路9号")
            let old = try await node.cli(["licence", "verify", "--identifier", licence.identifier, "--json"], token: false)
            let verification = try old.object()["verification"] as? [String: Any]
            #expect(verification?["status"] as? String == "LICENCE_STATUS_SUPERSEDED", "\(old)")
            #expect(verification?["superseded_by"] as? String == changed["licence_identifier"] as? String, "\(old)")

            // A hearing on a new case: notified, requested (the clock stops), a day too early refused naming --on's field.
            let hearingCase = try await openedFoodCase(node)
            let notified = try await node.cli(["case", "hearing", "notify", "--case", hearingCase, "--reason", "经营场所与居民住宅相邻，直接涉及相邻居民的重大利益关系", "--subject", "officer-li"])
            #expect(notified.status == 0 && notified.stdout.contains("hearing right notified"), "\(notified)")
            let requested = try await node.cli(["case", "hearing", "request", "--case", hearingCase, "--requested-by", "相邻居民代表张三", "--subject", "officer-li", "--json"])
            #expect(requested.status == 0, "\(requested)")
            #expect((try requested.object()["case"] as? [String: Any])?["status"] as? String == "CASE_STATUS_SUSPENDED", "\(requested)")
            let tomorrow = Calendar(identifier: .gregorian).date(byAdding: .day, value: 1, to: Date())!
            let day = ISO8601DateFormatter.string(from: tomorrow, timeZone: TimeZone(identifier: "Asia/Shanghai")!, formatOptions: [.withFullDate])
            let early = try await node.cli(["case", "hearing", "schedule", "--case", hearingCase, "--on", day, "--place", "第三听证室",
                                            "--presiding-officer", "legal-chen", "--subject", "officer-li"])
            #expect(early.status == 2 && early.stderr.contains("hearing_on"), "\(early)")
            let shown = try await node.cli(["case", "show", "--case", hearingCase])
            #expect(shown.stdout.contains("hearing: right notified"), "\(shown)")
        }
    }
}
