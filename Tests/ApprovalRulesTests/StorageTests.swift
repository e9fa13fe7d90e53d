import ApprovalRules
import Foundation
import OneSealCore
import Testing

@Suite("Stored forms")
struct StorageTests {
    @Test("a worked case survives its JSON form (what the service stores) unchanged")
    func roundTrip() throws {
        var state = openCase(.deputy)
        try state.sign(stepID: "s0", conclusion: .proposeGrant, opinion: review, by: People.officer, at: noon("2026-09-22"), asOfficer: true)
        try state.suspend(reason: .hearing, expectedDays: 20, noticeText: "依申请人要求举行听证，预计20个工作日", on: day("2026-09-23"), by: People.officer, id: "sp1")
        try state.resume(suspensionID: "sp1", result: "听证会已举行，申请人陈述意见已记录", on: day("2026-10-12"), by: People.officer)
        try state.extend(days: 10, reason: "听证后需补充核实利害关系人意见", by: People.director, on: day("2026-10-13"), calendar: calendar)
        try state.returnTo(targetIndex: 0, reason: "听证笔录未附卷，请承办人补充后重新审查", by: People.chief, at: noon("2026-10-14"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let decoded = try JSONDecoder().decode(CaseState.self, from: try encoder.encode(state))
        #expect(decoded == state)
        #expect(decoded.clocks.statutory.extensionDays == 10)
        #expect(decoded.returns == 1)
    }

    @Test("instant rule sets are declared as JSON")
    func ruleSetJSON() throws {
        let set = InstantRuleSet(name: "x", rules: [
            InstantRule(id: "area", description: "面积", condition: .factAtMost("area_m2", 200)),
            InstantRule(id: "licences", description: "证照", condition: .verifiedElectronicLicences(["YYZZ"])),
        ], scope: "{item}（智能审批）")
        let decoded = try JSONDecoder().decode(InstantRuleSet.self, from: try JSONEncoder().encode(set))
        #expect(decoded == set)
    }

    @Test("the audit chain notices an altered head, and each entry of a subset is checked on its own")
    func head() {
        var records: [AuditRecord] = []
        for index in 0..<3 {
            records.append(AuditRecord.next(after: records.last.map { (sequence: $0.sequence, hash: $0.entryHash) }, caseID: "c", action: "a\(index)",
                                             actorSubject: "s", actorRole: "officer", actorNode: "371302", atMicros: Int64(index), detailsJSON: "{}"))
        }
        #expect(!AuditChain.verify(records, expectedHead: (sequence: 3, hash: AuditRecord.genesis)).intact)
        #expect(AuditChain.verifyEach([records[0], records[2]]).intact)
        var edited = records[2]
        edited.action = "case.decided"
        #expect(AuditChain.verifyEach([records[0], edited]).firstBrokenSequence == 3)
    }
}
