import Foundation
import OneSealCore
import Testing

@testable import IntakeRules

/// What the window records after the intake decision, now part of the one application state:
/// item progress, the documents, forwarding and delivery, each changed only by its act.
@Suite("Application record: item progress, documents, forwarding, delivery")
struct ApplicationRecordTests {
    let code = "000117005000371302001"
    let clerk = ActorRef(subject: "clerk-07", role: "window_clerk", node: "371302")
    let at = Date(timeIntervalSince1970: 1_772_500_000)

    func document(_ number: String) -> IssuedDocument {
        IssuedDocument(documentID: "A-\(number)", number: number, title: "通知书", issuedOn: day("2026-03-03"),
                       issuingAgency: "测试审批局", content: Data("x".utf8), contentType: "text/plain; charset=utf-8")
    }

    func accepted() throws -> ApplicationState {
        var application = Fixtures.application(materials: Fixtures.completeFoodMaterials)
        try application.apply(.accept(on: day("2026-03-03")))
        try application.issuedReceipt(AcceptanceReceipt(promisedOn: day("2026-03-10"), document: document("受1")), by: clerk, at: at)
        return application
    }

    @Test("a new application tracks each item as waiting for intake; a refusal or withdrawal ends them")
    func pendingItems() throws {
        var refused = Fixtures.application(materials: [])
        #expect(refused.itemTracks.map(\.progress) == [.pendingIntake])
        #expect(refused.itemTracks.map(\.implementingNode.divisionCode) == ["371302"])
        try refused.apply(.reject(NotAcceptedDecision(ground: .other, reason: "不属于许可事项", legalBasis: "第三十二条"), on: day("2026-03-02")))
        #expect(refused.itemTracks.map(\.progress) == [.notAccepted])
        #expect(refused.overallStatus == .notAccepted)
        var withdrawn = Fixtures.application(materials: [])
        try withdrawn.apply(.withdraw(reason: "不办了", on: day("2026-03-02")))
        #expect(withdrawn.itemTracks.map(\.progress) == [.withdrawn])
    }

    @Test("documents are filed once, for the decision they belong to, with who decided and when")
    func documents() throws {
        var application = Fixtures.application(materials: Fixtures.completeFoodMaterials)
        // No receipt before an acceptance, no notice without its decision.
        #expect(intakeError { try application.issuedReceipt(AcceptanceReceipt(promisedOn: day("2026-03-10"), document: document("受1")), by: clerk, at: at) } != nil)
        #expect(intakeError { try application.issuedCorrectionNotice(document("补1"), by: clerk, at: at) } != nil)
        #expect(intakeError { try application.issuedNotAcceptedNotice(document("不受1"), by: clerk, at: at) } != nil)
        try application.apply(.accept(on: day("2026-03-03")))
        try application.issuedReceipt(AcceptanceReceipt(promisedOn: day("2026-03-10"), document: document("受1")), by: nil, at: at)
        #expect(application.receipt?.document.number == "受1")
        #expect(application.decidedBy == nil && application.decidedAt == at)
        #expect(intakeError { try application.issuedReceipt(AcceptanceReceipt(promisedOn: day("2026-03-10"), document: document("受2")), by: clerk, at: at) } != nil)

        var noticed = Fixtures.application(materials: [Fixtures.paper("M01")])
        try noticed.apply(.issueCorrectionNotice(problems: noticed.check.problems, on: day("2026-03-02")))
        try noticed.issuedCorrectionNotice(document("补1"), by: clerk, at: at)
        #expect(noticed.correctionNotice?.document?.number == "补1")
        #expect(noticed.decidedBy == clerk)
        #expect(intakeError { try noticed.issuedCorrectionNotice(document("补2"), by: clerk, at: at) } != nil)
    }

    @Test("event reports move an item forward and never back; unknown items are not touched")
    func itemProgress() throws {
        var application = try accepted()
        try application.sentToApproval([code])
        #expect(application.itemTracks[0].progress == .inApproval)
        _ = application.updateItem(code) { $0.report(.granted); $0.caseID = "case-1" }
        _ = application.updateItem(code) { $0.report(.licenceIssued) }
        // Old news arriving late: the case-opened report keeps the licence.
        _ = application.updateItem(code) { $0.report(.inApproval); $0.caseNumber = "N-1" }
        #expect(application.itemTracks[0].progress == .licenceIssued)
        #expect(application.itemTracks[0].caseID == "case-1" && application.itemTracks[0].caseNumber == "N-1")
        #expect(application.updateItem("unknown") { $0.report(.denied) } == nil)
        #expect(application.overallStatus == .readyForDelivery)
    }

    @Test("forwarding once, for an accepted application; the forwarded items go to approval")
    func forwarding() throws {
        let forwarding = Forwarding(toNode: NodeRef(divisionCode: "371300"), forwardedAt: at, firstReviewOpinion: "材料齐全，符合条件",
                                    forwardedBy: clerk, firstReviewDeadline: nil)
        var waiting = Fixtures.application(materials: Fixtures.completeFoodMaterials)
        #expect(intakeError { try waiting.forward(forwarding, items: [code]) } != nil)
        var application = try accepted()
        try application.forward(forwarding, items: [code])
        #expect(application.itemTracks[0].progress == .inApproval)
        #expect(application.overallStatus == .forwarded)
        #expect(intakeError { try application.forward(forwarding, items: [code]) }?.description.contains("371300") == true)
    }

    @Test("results are handed out once every item has its result, granted items become delivered, a window visit counts")
    func delivery() throws {
        let delivery = Delivery(method: .window, deliveredAt: at, recipient: nil, trackingNumber: "", licences: [], documentIDs: [], clerk: clerk)
        var application = try accepted()
        try application.sentToApproval([code])
        #expect(intakeError { try application.deliver(delivery) } != nil, "the item has no result yet")
        _ = application.updateItem(code) { $0.report(.licenceIssued) }
        let visits = application.visits
        try application.deliver(delivery)
        #expect(application.itemTracks[0].progress == .delivered)
        #expect(application.visits == visits + 1)
        #expect(application.overallStatus == .delivered)
        #expect(intakeError { try application.deliver(delivery) } != nil, "delivered once")
    }

    @Test("the whole state survives its stored form")
    func storedForm() throws {
        var application = try accepted()
        try application.sentToApproval([code])
        _ = application.updateItem(code) { $0.deadline = ReportedDeadline(startedOn: day("2026-03-03"), workingDaysTotal: 20, warning: .yellow); $0.notices = [document("停1")] }
        #expect(try storedRoundTrip(application) == application)
    }

    @Test("the stored form names each pinned version, not its content; the content comes back from the reader's catalogue")
    func storedFormPinsVersions() throws {
        let application = try accepted()
        let pinned = try #require(application.items.first)
        let json = String(decoding: try JSONEncoder().encode(application), as: UTF8.self)
        #expect(json.contains(pinned.version.contentHash))
        #expect(!json.contains(pinned.item.legalBasis) && !json.contains("\"item\""))

        // No catalogue, or one that does not hold the version: the version is named.
        #expect(throws: PinnedItem.UnheldVersion(version: pinned.version)) {
            try JSONDecoder().decode(ApplicationState.self, from: Data(json.utf8))
        }
        let empty = JSONDecoder()
        empty.userInfo[PinnedItem.catalogueKey] = { @Sendable (_: ItemVersion) in nil } as PinnedItem.Catalogue
        #expect(throws: PinnedItem.UnheldVersion(version: pinned.version)) {
            try empty.decode(ApplicationState.self, from: Data(json.utf8))
        }
        // A catalogue answering another item for the version is corrupt, not believed.
        let other = Fixtures.foodLicence(code: "000117005000371302009")
        let wrong = JSONDecoder()
        wrong.userInfo[PinnedItem.catalogueKey] = { @Sendable (_: ItemVersion) in other } as PinnedItem.Catalogue
        #expect(throws: DecodingError.self) { try wrong.decode(ApplicationState.self, from: Data(json.utf8)) }

        // A state stored with its items' content (before decision 73) reads back without one.
        var old = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        old["items"] = [[
            "version": try JSONSerialization.jsonObject(with: JSONEncoder().encode(pinned.version)),
            "item": try JSONSerialization.jsonObject(with: JSONEncoder().encode(pinned.item)),
        ]]
        let oldJSON = try JSONSerialization.data(withJSONObject: old)
        #expect(try JSONDecoder().decode(ApplicationState.self, from: oldJSON) == application)
    }

    @Test("the store writes the state with StreamingJSONEncoder: the JSON Foundation's encoder writes, read back to the same state")
    func storedFormByTheStreamingEncoder() throws {
        let application = try accepted()
        let pinned = try #require(application.items.first)
        let ours = try StreamingJSONEncoder.encode(application)
        let foundation = try JSONEncoder().encode(application)
        #expect(try JSONSerialization.jsonObject(with: Data(ours)) as! NSDictionary == JSONSerialization.jsonObject(with: foundation) as! NSDictionary)
        let decoder = JSONDecoder()
        decoder.userInfo[PinnedItem.catalogueKey] = { @Sendable (version: ItemVersion) in version == pinned.version ? pinned.item : nil } as PinnedItem.Catalogue
        #expect(try decoder.decode(ApplicationState.self, from: Data(ours)) == application)
    }
}
