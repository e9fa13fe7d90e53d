import Testing
import WebRules

/// The application page's delivery choice form: each missing or bad field named in Chinese next to it.
@Suite("Delivery choice form")
struct DeliveryFormTests {
    @Test("window needs nothing more; mail needs recipient, phone and address, each named")
    func validation() throws {
        #expect(try DeliveryForm.validate([DeliveryForm.methodField: "window", DeliveryForm.addressField: "ignored"]).get() == DeliveryForm(method: .window))
        guard case .failure(let none) = DeliveryForm.validate([:]) else { Issue.record("no method accepted"); return }
        #expect(Array(none.errors.keys) == [DeliveryForm.methodField])
        guard case .failure(let empty) = DeliveryForm.validate([DeliveryForm.methodField: "mail", DeliveryForm.codeField: "2760"]) else { Issue.record("empty mail accepted"); return }
        #expect(Set(empty.errors.keys) == [DeliveryForm.nameField, DeliveryForm.phoneField, DeliveryForm.addressField, DeliveryForm.codeField])
        guard case .failure(let long) = DeliveryForm.validate([
            DeliveryForm.methodField: "mail", DeliveryForm.nameField: String(repeating: "李", count: 151), DeliveryForm.phoneField: "13900001111",
            DeliveryForm.addressField: "山东省临沂市兰山区\n金雀山路18号",
        ]) else { Issue.record("long name accepted"); return }
        #expect(Set(long.errors.keys) == [DeliveryForm.nameField, DeliveryForm.addressField])
        #expect(long.values[DeliveryForm.phoneField] == "13900001111", "what was typed is shown again")
        let mail = try DeliveryForm.validate([
            DeliveryForm.methodField: "mail", DeliveryForm.nameField: " 李四 ", DeliveryForm.phoneField: "139 0000 1111",
            DeliveryForm.addressField: "山东省临沂市兰山区金雀山路18号", DeliveryForm.codeField: "276000",
        ]).get()
        #expect(mail == DeliveryForm(method: .mail, recipientName: "李四", phone: "13900001111", postalAddress: "山东省临沂市兰山区金雀山路18号", postalCode: "276000"))
    }

    @Test("intake's field paths land next to the page's fields")
    func serviceFields() {
        #expect(DeliveryForm.errors(forServiceFields: ["address.phone", "address.postal_address"]).keys.sorted() == [DeliveryForm.phoneField, DeliveryForm.addressField].sorted())
    }
}
