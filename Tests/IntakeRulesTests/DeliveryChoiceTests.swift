import Foundation
import OneSealCore
import Testing

@testable import IntakeRules

/// 送达方式 (#18 item 6): what an applicant may choose, what the address must hold, and until when.
@Suite("Delivery choice: window or mail, the address checked field by field, until the result is delivered")
struct DeliveryChoiceTests {
    let code = "000117005000371302001"
    let clerk = ActorRef(subject: "clerk-07", role: "window_clerk", node: "371302")
    let at = Date(timeIntervalSince1970: 1_772_500_000)
    let address = DeliveryAddress(recipientName: "张三", phone: "13812345678", postalAddress: "山东省临沂市兰山区金雀山路18号", postalCode: "276000")

    func fields(_ result: Result<DeliveryChoice, IntakeRuleError>) -> [String] {
        guard case .failure(let error) = result else { return [] }
        return error.fieldViolations.map(\.field)
    }

    @Test("the method is window or mail; an address exactly for mail; every bad field named at once")
    func validation() throws {
        #expect(fields(DeliveryChoice.make(method: nil, address: nil)) == ["method"])
        #expect(fields(DeliveryChoice.make(method: .electronic, address: nil)) == ["method"])
        #expect(fields(DeliveryChoice.make(method: .mail, address: nil)) == ["address"])
        #expect(fields(DeliveryChoice.make(method: .window, address: address)) == ["address"])
        let bad = DeliveryAddress(recipientName: "  ", phone: "12345", postalAddress: "临沂市", postalCode: "27600A")
        #expect(fields(DeliveryChoice.make(method: .mail, address: bad))
            == ["address.recipient_name", "address.phone", "address.postal_address", "address.postal_code"])
        #expect(fields(DeliveryChoice.make(method: .mail, address: DeliveryAddress(recipientName: "张三", phone: "", postalAddress: "", postalCode: "")))
            == ["address.phone", "address.postal_address"])
        // A landline with area code is a phone a courier can call; the postal code is optional.
        let landline = DeliveryAddress(recipientName: "张三", phone: "0539-8123456", postalAddress: "山东省临沂市兰山区金雀山路18号")
        #expect(try DeliveryChoice.make(method: .mail, address: landline).get().address == landline)
        #expect(try DeliveryChoice.make(method: .window, address: nil).get().address == nil)
    }

    @Test("blanks around what was typed do not make a new choice")
    func normalized() throws {
        let typed = DeliveryAddress(recipientName: " 张三 ", phone: "13812345678 ", postalAddress: " 山东省临沂市兰山区金雀山路18号", postalCode: "276000")
        #expect(try DeliveryChoice.make(method: .mail, address: typed).get() == DeliveryChoice.make(method: .mail, address: address).get())
    }

    func accepted() throws -> ApplicationState {
        var application = Fixtures.application(materials: Fixtures.completeFoodMaterials)
        try application.apply(.accept(on: day("2026-03-03")))
        return application
    }

    @Test("chosen until delivered; the same choice again changes nothing; another replaces it")
    func untilDelivered() throws {
        var application = try accepted()
        let mail = try DeliveryChoice.make(method: .mail, address: address).get()
        let window = try DeliveryChoice.make(method: .window, address: nil).get()
        #expect(try application.chooseDelivery(mail, current: nil, at: at))
        #expect(application.deliveryPreference == DeliveryPreference(method: .mail, chosenAt: at))
        #expect(try application.chooseDelivery(mail, current: mail, at: at.addingTimeInterval(60)) == false)
        #expect(application.deliveryPreference?.chosenAt == at, "a repeat is not a new choice")
        var moved = DeliveryAddress(recipientName: "张三", phone: "13812345678", postalAddress: "山东省临沂市河东区人民大街1号")
        moved.postalCode = "276000"
        let elsewhere = try DeliveryChoice.make(method: .mail, address: moved).get()
        #expect(try application.chooseDelivery(elsewhere, current: mail, at: at.addingTimeInterval(120)))
        #expect(try application.chooseDelivery(window, current: elsewhere, at: at.addingTimeInterval(180)))
        #expect(application.deliveryPreference?.method == .window)

        try application.sentToApproval([code])
        _ = application.updateItem(code) { $0.report(.licenceIssued) }
        #expect(try application.chooseDelivery(mail, current: window, at: at))
        try application.deliver(Delivery(method: .mail, deliveredAt: at, recipient: nil, trackingNumber: "EMS1234567890", licences: [], documentIDs: [], clerk: clerk))
        #expect(application.deliveryChoiceOpen == false)
        #expect(intakeError { _ = try application.chooseDelivery(window, current: mail, at: at) }?.description.contains("delivered") == true)
        #expect(try application.chooseDelivery(mail, current: mail, at: at) == false, "a retry after delivery is still answered, not refused")
    }

    @Test("no choice on an application that will have no result")
    func noResult() throws {
        var refused = Fixtures.application(materials: [])
        try refused.apply(.reject(NotAcceptedDecision(ground: .notALicensingMatter, reason: "所申请事项不属于行政许可范畴", legalBasis: "《中华人民共和国行政许可法》第三十二条第一款第一项"), on: day("2026-03-03")))
        let window = try DeliveryChoice.make(method: .window, address: nil).get()
        #expect(intakeError { _ = try refused.chooseDelivery(window, current: nil, at: at) } != nil)
    }

    @Test("the stored state holds the method and when, never the address")
    func storedForm() throws {
        var application = try accepted()
        _ = try application.chooseDelivery(try DeliveryChoice.make(method: .mail, address: address).get(), current: nil, at: at)
        let json = String(decoding: try JSONEncoder().encode(application), as: UTF8.self)
        #expect(!json.contains("金雀山路") && !json.contains("13812345678"))
        #expect(try storedRoundTrip(application) == application)
    }
}
