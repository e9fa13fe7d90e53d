import Foundation
import OneSealPrivacy

/// The delivery choice form on the application page (送达方式, #18 item 6): collect at the window,
/// or mail to an address. Checked here so a missing or overlong value is named next to its field in
/// Chinese before intake is asked; intake checks every field again (its edge limits and its rules)
/// and its refusals are shown by the same field names (`errors(forServiceFields:)`).
public struct DeliveryForm: Sendable, Hashable {
    public enum Method: String, Sendable, Hashable {
        case window, mail
    }

    public var method: Method
    public var recipientName: String
    public var phone: String
    public var postalAddress: String
    public var postalCode: String

    public static let methodField = "delivery_method"
    public static let nameField = "recipient_name"
    public static let phoneField = "phone"
    public static let addressField = "postal_address"
    public static let codeField = "postal_code"

    /// The limits of intake's edge (FieldLimits: a name, a telephone number, an address) and a
    /// postal code's six digits, so the page refuses first what intake would.
    public static let maximumNameCharacters = 150
    public static let maximumPhoneCharacters = 32
    public static let maximumAddressCharacters = 300
    /// Three Chinese fields at their limits, percent-encoded (9 bytes a character), and the rest.
    public static let maximumBodyBytes = 8192

    public init(method: Method, recipientName: String = "", phone: String = "", postalAddress: String = "", postalCode: String = "") {
        self.method = method
        self.recipientName = recipientName
        self.phone = phone
        self.postalAddress = postalAddress
        self.postalCode = postalCode
    }

    public static func validate(_ fields: [String: String]) -> Result<DeliveryForm, FormErrors> {
        var errors: [String: String] = [:]
        func value(_ name: String) -> String { (fields[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
        let name = value(nameField), phone = value(phoneField).filter { !$0.isWhitespace }, address = value(addressField), code = value(codeField)
        func oneLine(_ text: String) -> Bool { !text.unicodeScalars.contains { $0.properties.generalCategory == .control } }
        guard let method = Method(rawValue: fields[methodField] ?? "") else {
            return .failure(FormErrors(errors: [methodField: "请选择送达方式"], values: [:]))
        }
        if method == .mail {
            if name.isEmpty { errors[nameField] = "请填写收件人" }
            else if name.count > maximumNameCharacters || !oneLine(name) { errors[nameField] = "收件人最多\(maximumNameCharacters)字，不含换行" }
            if phone.isEmpty { errors[phoneField] = "请填写收件人电话" }
            else if phone.count > maximumPhoneCharacters || !phone.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-" || $0 == "+") }) {
                errors[phoneField] = "请填写手机号或带区号的固定电话"
            }
            if address.isEmpty { errors[addressField] = "请填写邮寄地址" }
            else if address.count > maximumAddressCharacters || !oneLine(address) { errors[addressField] = "邮寄地址最多\(maximumAddressCharacters)字，不含换行" }
            if !code.isEmpty, !(code.count == 6 && code.allSatisfy { $0.isASCII && $0.isNumber }) { errors[codeField] = "邮政编码为6位数字" }
        }
        guard errors.isEmpty else {
            return .failure(FormErrors(errors: errors, values: [
                methodField: method.rawValue, nameField: String(name.prefix(maximumNameCharacters)), phoneField: String(phone.prefix(maximumPhoneCharacters)),
                addressField: String(address.prefix(maximumAddressCharacters)), codeField: String(code.prefix(6)),
            ]))
        }
        return method == .mail
            ? .success(DeliveryForm(method: .mail, recipientName: name, phone: phone, postalAddress: address, postalCode: code))
            : .success(DeliveryForm(method: .window))
    }

    /// Intake's refusal (its field paths, `address.phone` …) as errors next to this form's fields.
    public static func errors(forServiceFields fields: [String]) -> [String: String] {
        var out: [String: String] = [:]
        for field in fields {
            switch field {
            case "address.recipient_name": out[nameField] = "收件人不正确"
            case "address.phone": out[phoneField] = "不是有效的手机号或带区号的固定电话"
            case "address.postal_address": out[addressField] = "邮寄地址不完整：请写明省、市、区县、街道和门牌号"
            case "address.postal_code": out[codeField] = "邮政编码为6位数字"
            case "address": out[addressField] = "请填写邮寄地址"
            default: out[methodField] = "请选择送达方式"
            }
        }
        return out
    }

    /// "窗口领取" / "邮寄".
    public static func methodText(_ method: Method) -> String { method == .mail ? "邮寄" : "窗口领取" }
}


extension DeliveryForm {
    /// A postal address as the page prints it: the shapes of the one masking rule ("李*",
    /// "139****1111", "山东省临沂市****"); the page is often read on a shared or public screen and
    /// the person knows their own address.
    public static func maskedAddress(recipientName: String, phone: String, postalAddress: String, postalCode: String) -> String {
        [Masking.personName(recipientName), Masking.phone(phone), Masking.address(postalAddress), postalCode].filter { !$0.isEmpty }.joined(separator: "，")
    }
}
