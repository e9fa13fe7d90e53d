import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealProto
import SwiftProtobuf
import Testing
@testable import IntakeService

/// ChooseDelivery (#18 item 6) through real RPC over a real PostgreSQL: the applicant's own act on
/// their own application, every field checked, the address sealed at rest and masked for readers,
/// an idempotent repeat, and RecordDelivery honouring the choice.
@Suite("Intake: the applicant's delivery choice", .serialized)
struct DeliveryChoiceServiceTests {
    static let food = "000117005000371302001"
    static let monday = CivilDate(year: 2026, month: 11, day: 23)!
    static let street = "山东省临沂市兰山区金雀山路18号"

    static var address: Intake_DeliveryAddress {
        .with { $0.recipientName = "李四"; $0.phone = "13900001111"; $0.postalAddress = street; $0.postalCode = "276000" }
    }

    @Test("applicant only, own application only; bad input names the field and stores nothing; sealed at rest; masked for readers; idempotent; honoured by RecordDelivery")
    func chooseDelivery() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let submitted = try await node.intake.submitApplication(try Fixtures.submit([Self.food], applicant: Fixtures.person), metadata: try node.clerk)
            let id = submitted.application.applicationID
            let owner = try node.metadata(.applicant, subject: Fixtures.residentID)
            let stranger = try node.metadata(.applicant, subject: IntakeSafetyTests.otherPerson)
            func choose(_ method: Intake_DeliveryMethod, _ address: Intake_DeliveryAddress?, as metadata: Metadata, id: String = id) async throws -> Intake_ChooseDeliveryResponse {
                try await node.intake.chooseDelivery(.with {
                    $0.applicationID = id
                    $0.method = method
                    if let address { $0.address = address }
                }, metadata: metadata)
            }
            let revision = submitted.application.revision

            // Bad input: each field named, nothing stored.
            await #expect { _ = try await choose(.unspecified, nil, as: owner) } throws: { rpcFailure($0)?.fields == ["method"] }
            await #expect { _ = try await choose(.mail, nil, as: owner) } throws: { rpcFailure($0)?.fields == ["address"] }
            var bad = Self.address
            bad.phone = "123"
            bad.postalCode = "27600"
            await #expect { _ = try await choose(.mail, bad, as: owner) } throws: { rpcFailure($0)?.fields == ["address.phone", "address.postal_code"] }
            var long = Self.address
            long.recipientName = String(repeating: "李", count: 151)
            await #expect { _ = try await choose(.mail, long, as: owner) } throws: {
                rpcFailure($0)?.fields == ["address.recipient_name"] && rpcFailure($0)?.reasons == ["text.too_long"]
            }
            var twoLines = Self.address
            twoLines.postalAddress = Self.street + "\n2单元"
            await #expect { _ = try await choose(.mail, twoLines, as: owner) } throws: { rpcFailure($0)?.fields == ["address.postal_address"] }
            await #expect { _ = try await choose(.window, Self.address, as: owner) } throws: { rpcFailure($0)?.fields == ["address"] }

            // Only the applicant, only their own: a stranger, the clerk, no token; an unknown id.
            await #expect { _ = try await choose(.window, nil, as: stranger) } throws: { rpcFailure($0)?.code == .permissionDenied }
            await #expect { _ = try await choose(.window, nil, as: try node.clerk) } throws: { rpcFailure($0)?.code == .permissionDenied }
            await #expect { _ = try await node.intake.chooseDelivery(.with { $0.applicationID = id; $0.method = .window }) } throws: { rpcFailure($0)?.code == .unauthenticated }
            await #expect { _ = try await choose(.window, nil, as: owner, id: UUID().uuidString) } throws: { rpcFailure($0)?.code == .notFound }
            let untouched = try await node.intake.getApplication(.with { $0.applicationID = id }, metadata: try node.clerk).application
            #expect(untouched.revision == revision && !untouched.hasDeliveryChoice)

            // The choice: the owner sees their own address in full.
            let chosen = try await choose(.mail, Self.address, as: owner)
            #expect(chosen.changed)
            #expect(chosen.application.deliveryChoice.method == .mail)
            #expect(chosen.application.deliveryChoice.address == Self.address)
            #expect(chosen.application.deliveryChoice.hasChosenAt)
            // The same again: nothing written.
            let again = try await choose(.mail, Self.address, as: owner)
            #expect(!again.changed)
            #expect(again.application.revision == chosen.application.revision)

            // Sealed at rest: no part of the address in the row, its steps or the outbox.
            let leaks = try await node.database.query("""
                SELECT (SELECT count(*) FROM applications
                        WHERE position(convert_to(\("金雀山路"), 'UTF8') in applicant_sealed) > 0
                           OR position(convert_to(\("13900001111"), 'UTF8') in applicant_sealed) > 0
                           OR position(convert_to(\("李四"), 'UTF8') in applicant_sealed) > 0
                           OR state::text LIKE '%金雀山路%' OR state::text LIKE '%13900001111%' OR state::text LIKE '%李四%')
                     + (SELECT count(*) FROM application_steps WHERE description LIKE '%金雀山路%' OR description LIKE '%李四%')
                     + (SELECT count(*) FROM outbox WHERE position(convert_to(\("金雀山路"), 'UTF8') in payload) > 0) AS n
                """).one().decode("n", as: Int64.self)
            #expect(leaks == 0)
            let state = try await node.database.query("SELECT state->'deliveryPreference'->>'method' AS method FROM applications WHERE id = \(UUID(uuidString: id)!)").one()
            #expect(try state.decode("method", as: String?.self) == "mail")

            // The window (who posts it) sees it whole; the back office masked, by the one rule.
            let asClerk = try await node.intake.getApplication(.with { $0.applicationID = id }, metadata: try node.clerk).application
            #expect(asClerk.deliveryChoice.address == Self.address)
            let asOfficer = try await node.intake.getApplication(.with { $0.applicationID = id }, metadata: try node.metadata(.officer, subject: "officer-3")).application
            #expect(asOfficer.deliveryChoice.address.recipientName == "李*")
            #expect(asOfficer.deliveryChoice.address.phone == "139****1111")
            #expect(asOfficer.deliveryChoice.address.postalAddress == "山东省临沂市****")

            // Changing one's mind before delivery: window, then mail again.
            #expect(try await choose(.window, nil, as: owner).application.deliveryChoice.method == .window)
            #expect(try await choose(.mail, Self.address, as: owner).changed)

            // Accept, decide, issue: ready for delivery.
            _ = try await node.intake.accept(.with { $0.applicationID = id }, metadata: try node.clerk)
            var header = Approval_CaseHeader()
            header.caseID = "case-mail"
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
            issued.licence.content.caseID = "case-mail"
            issued.licence.content.implementationCode = Self.food
            issued.licence.content.licenceNumber = "JY23713020000777"
            var deliver = Events_DeliverRequest()
            for (type, payload) in [
                (Approval_CaseOpened.protoMessageName, try opened.serializedBytes() as [UInt8]),
                (Approval_CaseDecided.protoMessageName, try decided.serializedBytes()),
                (Certificate_LicenceIssued.protoMessageName, try issued.serializedBytes()),
            ] {
                deliver.events.append(.with { $0.eventID = UUID().uuidString; $0.type = type; $0.sourceNode = "371302"; $0.payload = Data(payload) })
            }
            _ = try await Events_EventSink.Client(wrapping: node.grpc).deliver(deliver, metadata: try node.metadata(.peerNode, subject: "approval@371302"))

            // The clerk names no method: the applicant's choice (mail) is used, and needs the tracking number.
            await #expect {
                _ = try await node.intake.recordDelivery(.with { $0.applicationID = id; $0.delivery = Intake_Delivery() }, metadata: try node.clerk)
            } throws: { rpcFailure($0)?.fields == ["delivery.tracking_number"] }
            let delivered = try await node.intake.recordDelivery(.with {
                $0.applicationID = id
                $0.delivery.trackingNumber = "EMS1234567890"
            }, metadata: try node.clerk).application
            #expect(delivered.status == .delivered)
            #expect(delivered.delivery.method == .mail)
            #expect(delivered.delivery.trackingNumber == "EMS1234567890")
            #expect(delivered.delivery.address == Self.address)
            let delivery = OutboxRows.of(Intake_ResultDelivered.self, in: try await node.outbox())
            #expect(delivery.count == 1)
            #expect(!(try Intake_ResultDelivered(serializedBytes: delivery[0].payload)).delivery.hasAddress, "the address never travels in an event")

            // After delivery: a different choice is refused, the same one still answered.
            await #expect { _ = try await choose(.window, nil, as: owner) } throws: { rpcFailure($0)?.code == .failedPrecondition }
            let retry = try await choose(.mail, Self.address, as: owner)
            #expect(!retry.changed)
            #expect(retry.application.delivery.address == Self.address)
            #expect(retry.application.delivery.trackingNumber == "EMS1234567890")
        }
    }
}
