import Foundation
import IntakeRules
import OneSealCore
import OneSealProto
import OneSealStore
import OneSealTestSupport
import SwiftProtobuf
import Testing

@testable import IntakeService

/// Migration 0005 moves what only the stored wire record held into the application's state and
/// drops the record: an application written the old way reads back the same afterwards.
@Suite("intake migration 0005: one state per application")
struct ApplicationStateMigrationTests {
    static let item = CatalogueItem(
        basicCode: "000117005000", implementationCode: "000117005000371302001", name: "食品经营许可",
        legalBasis: "《中华人民共和国食品安全法》第三十五条", level: .county,
        competentDepartment: DepartmentRef(code: "SCJG", name: "市场准入科", node: "371302"),
        tier: .sole, statutoryDays: 20, promisedDays: 5,
        materials: [Material(code: "M01", name: "食品经营许可申请书")],
        implementingNode: NodeRef(divisionCode: "371302", name: "兰山区行政审批服务局", level: .county),
        licenceTypeCode: "91110000600037341L101", licenceName: "食品经营许可证", resultName: "食品经营许可证")

    static func document(_ number: String, on date: CivilDate) -> Common_IssuedDocument {
        Common_IssuedDocument.with {
            $0.documentID = "A-\(number)"
            $0.number = number
            $0.title = "通知书"
            $0.issuedOn = Common_CivilDate(date)
            $0.issuingAgency = "测试审批局"
            $0.content = Data("测试审批局\n通知书\n\(number)".utf8)
            $0.contentType = "text/plain; charset=utf-8"
        }
    }

    static func timestamp(_ seconds: Int64) -> Google_Protobuf_Timestamp {
        Google_Protobuf_Timestamp.with { $0.seconds = seconds }
    }

    @Test("an application stored with its wire record reads back the same after the record column is dropped")
    func oldRowsKeepTheirRecord() async throws {
        let received = try CivilDate(parsing: "2026-03-02")
        let accepted = try CivilDate(parsing: "2026-03-04")
        let publication = try ItemVersion.publishing(Self.item, over: nil)
        var state = try ApplicationState(items: [try PinnedItem(version: publication.version, item: Self.item)], materials: [], receivedOn: received)
        let problems = state.check.problems
        try state.apply(.issueCorrectionNotice(problems: problems, on: received))
        try state.apply(.supplyCorrection(materials: [ProvidedMaterial(requirementCode: "M01", implementationCodes: [], form: .original, copies: 1, fileID: "f-1")], on: accepted))
        try state.apply(.accept(on: accepted))

        // The state as the old code wrote it: none of the keys this migration adds.
        var oldState = try JSONSerialization.jsonObject(with: Data(try ApplicationStore.stateJSON(state).utf8)) as! [String: Any]
        for key in ["acceptingNode", "itemTracks", "receipt", "notAcceptedDocument", "forwarding", "delivery", "decidedBy", "decidedAt", "visits"] {
            oldState[key] = nil
        }
        // The old code stored each pinned item with its content (decision 73 stores the version).
        oldState["items"] = [[
            "version": try JSONSerialization.jsonObject(with: JSONEncoder().encode(publication.version)),
            "item": try JSONSerialization.jsonObject(with: JSONEncoder().encode(Self.item)),
        ]]
        var notice = oldState["correctionNotice"] as! [String: Any]
        notice["document"] = nil
        oldState["correctionNotice"] = notice
        let oldStateText = String(decoding: try JSONSerialization.data(withJSONObject: oldState, options: [.sortedKeys]), as: UTF8.self)

        // The record as the old code kept it, with every part only it held.
        let clerk = Common_ActorRef.with {
            $0.subject = "clerk-07"; $0.role = "window_clerk"; $0.node = "371302"; $0.name = "张伟"
            $0.department = Common_DepartmentRef.with { $0.code = "CK"; $0.name = "窗口科"; $0.node = "371302" }
        }
        var record = Intake_Application()
        record.acceptingNode = Common_NodeRef.with { $0.divisionCode = "371302"; $0.name = "测试审批局" }
        record.items = [Intake_ApplicationItem.with {
            $0.implementationCode = Self.item.implementationCode
            $0.itemVersion = 1
            $0.itemName = Self.item.name
            $0.progress = .licenceIssued
            $0.caseID = "case-1"
            $0.caseNumber = "371302-2026-000001"
            $0.implementingNode = Common_NodeRef.with { $0.divisionCode = "371300"; $0.name = "临沂市行政审批服务局"; $0.level = .city }
            $0.deadline = Common_Deadline.with {
                $0.startedOn = Common_CivilDate(accepted); $0.dueOn = Common_CivilDate(try! CivilDate(parsing: "2026-04-01"))
                $0.workingDaysTotal = 20; $0.workingDaysUsed = 3; $0.workingDaysLeft = 17; $0.suspended = true
                $0.extensionWorkingDays = 0; $0.warning = .yellow
            }
            $0.licence = Common_LicenceRef.with { $0.licenceIdentifier = "1.2.156.3005.2.X"; $0.licenceNumber = "JY1"; $0.licenceTypeCode = "T"; $0.licenceName = "食品经营许可证" }
            $0.denialSummary = ""
            $0.notices = [Self.document("371300停〔2026〕1号", on: accepted)]
        }]
        record.receipt = Intake_Receipt.with {
            $0.receiptNumber = "371302受〔2026〕1号"
            $0.acceptedOn = Common_CivilDate(accepted)
            $0.promisedOn = Common_CivilDate(try! CivilDate(parsing: "2026-03-11"))
            $0.document = Self.document("371302受〔2026〕1号", on: accepted)
        }
        record.correctionNotices = [Intake_CorrectionNotice.with {
            $0.noticeNumber = "371302补〔2026〕1号"
            $0.issuedOn = Common_CivilDate(received)
            $0.problems = problems.map(\.proto)
            $0.document = Self.document("371302补〔2026〕1号", on: received)
        }]
        record.forwarding = Intake_Forwarding.with {
            $0.toNode = Common_NodeRef.with { $0.divisionCode = "371300"; $0.name = "临沂市行政审批服务局"; $0.level = .city }
            $0.forwardedAt = Self.timestamp(1_772_600_000)
            $0.firstReviewOpinion = "材料齐全，现场核查符合条件"
            $0.forwardedBy = clerk
            $0.firstReviewDeadline = Common_Deadline.with { $0.startedOn = Common_CivilDate(accepted); $0.workingDaysTotal = 20; $0.finishedOn = Common_CivilDate(accepted) }
        }
        record.delivery = Intake_Delivery.with {
            $0.method = .window
            $0.deliveredAt = Self.timestamp(1_773_000_000)
            $0.recipient = Common_Applicant.with {
                $0.kind = .naturalPerson; $0.name = "李四"; $0.idType = .residentID; $0.idNumber = "3713**********1233"; $0.phone = "138****5678"; $0.masked = true
            }
            $0.licences = [record.items[0].licence]
            $0.documentIds = ["A-1", "A-2"]
            $0.clerk = clerk
        }
        record.decidedBy = clerk
        record.decidedAt = Self.timestamp(1_772_500_000)
        record.visits = 2
        record.updatedAt = Self.timestamp(1_773_000_001)
        let recordBytes: [UInt8] = try record.serializedBytes()

        let migrations = try IntakeServiceDefinition.make().migrations
        #expect(migrations.contains { $0.version == 5 })
        try await withTestDatabase(prefix: "intake_migration") { database in
            _ = try await Migrator.apply(migrations.filter { $0.version < 5 }, on: database)
            let id = UUID()
            try await database.execute("""
                INSERT INTO applications (id, application_number, query_code, channel, window_id, status, outcome, state, record, applicant_sealed,
                                          applicant_id_index, applicant_kind, idempotency_key, request_digest, submitted_at, submitted_on,
                                          intake_deadline, revision)
                VALUES (\(id), '371302-20260302-0001', 'ABCDEFGH23', 'window', '7', 'delivered', 'accepted', \(oldStateText)::jsonb, \(recordBytes),
                        \([UInt8]([1])), \([UInt8]([2])), 'natural_person', 'key-1', \([UInt8]([3])), now(), '2026-03-02', '2026-03-09', 7)
                """)
            #expect(try await Migrator.apply(migrations.filter { $0.version <= 5 }, on: database) == [5])

            let columns = try await database.query(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'applications' AND column_name = 'record'")
            #expect(columns.isEmpty)
            let stored = try #require(try await database.withConnection { try await ApplicationStore.find(id: id, on: $0) })
            #expect(stored.state.visits == 2)
            #expect(stored.state.itemTracks.map(\.progress) == [.licenceIssued])
            let rendered = stored.record(calendar: .china)
            #expect(rendered.acceptingNode == record.acceptingNode)
            #expect(rendered.items == record.items)
            #expect(rendered.receipt == record.receipt)
            #expect(rendered.correctionNotices == record.correctionNotices)
            #expect(rendered.forwarding == record.forwarding)
            #expect(rendered.delivery == record.delivery)
            #expect(rendered.decidedBy == record.decidedBy)
            #expect(rendered.decidedAt == record.decidedAt)
            #expect(rendered.visits == record.visits)
            #expect(rendered.updatedAt == record.updatedAt)
            #expect(rendered.channel == .window)
            #expect(rendered.windowID == "7")
            #expect(rendered.revision == 7)
        }
    }
}
