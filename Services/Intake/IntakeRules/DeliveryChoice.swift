import Foundation
import OneSealCore

/// A postal address for mailing the result (邮寄送达). Personal data: the service keeps it sealed
/// with the applicant's identity, never in the state JSON, an event or a log line — which is why
/// `ApplicationState` holds only a `DeliveryPreference` and this value travels beside it.
public struct DeliveryAddress: Sendable, Hashable, Codable {
    public var recipientName: String
    public var phone: String
    public var postalAddress: String
    public var postalCode: String

    public init(recipientName: String, phone: String, postalAddress: String, postalCode: String = "") {
        self.recipientName = recipientName
        self.phone = phone
        self.postalAddress = postalAddress
        self.postalCode = postalCode
    }

    /// The same address as typed with surrounding blanks removed: "张三 " and "张三" are one choice,
    /// so a repeated request is recognised as the same one.
    public var normalized: DeliveryAddress {
        DeliveryAddress(
            recipientName: recipientName.trimmingCharacters(in: .whitespaces), phone: phone.trimmingCharacters(in: .whitespaces),
            postalAddress: postalAddress.trimmingCharacters(in: .whitespaces), postalCode: postalCode.trimmingCharacters(in: .whitespaces))
    }

    /// Shortest postal address that can be delivered: province/city/district + street + number
    /// is well over this; "临沂市" alone is not an address.
    public static let minimumAddressCharacters = 8

    /// Every problem of the address, each naming its field under `parent` (`address.phone`).
    /// The lengths and characters are the edge's (FieldLimits, by field name); these are the
    /// domain's: present, a real phone number, a six-digit postal code, an address a courier can use.
    public func violations(parent: String = "address") -> [FieldViolation] {
        var out: [FieldViolation] = []
        let address = normalized
        if address.recipientName.isBlank { out.append(.required(joinPath(parent, "recipient_name"))) }
        if address.phone.isEmpty {
            out.append(.required(joinPath(parent, "phone")))
        } else if !PhoneNumber.isValid(address.phone) {
            out.append(FieldViolation(
                field: joinPath(parent, "phone"), description: "“\(address.phone)” is neither a mobile number nor a landline with area code", reason: "phone.format"))
        }
        if address.postalAddress.isBlank {
            out.append(.required(joinPath(parent, "postal_address")))
        } else if address.postalAddress.count < Self.minimumAddressCharacters {
            out.append(FieldViolation(
                field: joinPath(parent, "postal_address"),
                description: "too short to post to: give province, city, district, street and number (at least \(Self.minimumAddressCharacters) characters)",
                reason: "address.incomplete"))
        }
        if !address.postalCode.isEmpty, !(address.postalCode.count == 6 && address.postalCode.allSatisfy { $0.isASCII && $0.isNumber }) {
            out.append(FieldViolation(field: joinPath(parent, "postal_code"), description: "a postal code (邮政编码) is six digits", reason: "postal_code.format"))
        }
        return out
    }
}

/// What the applicant chose (送达方式): collection at the window or mail to an address.
public struct DeliveryChoice: Sendable, Hashable {
    public let method: DeliveryMethod
    /// Set exactly when `method` is mail.
    public let address: DeliveryAddress?

    /// Checks the request: the method is one an applicant chooses (window or mail) and the address
    /// is given, and valid, exactly for mail. Every problem at once, each naming its field.
    public static func make(method: DeliveryMethod?, address: DeliveryAddress?) -> Result<DeliveryChoice, IntakeRuleError> {
        var violations: [FieldViolation] = []
        switch method {
        case nil:
            violations.append(FieldViolation(field: "method", description: "required: window (窗口领取) or mail (邮寄)", reason: "required"))
        case .electronic?:
            violations.append(FieldViolation(
                field: "method", description: "electronic delivery is the hall's to record, not a choice; choose window or mail", reason: "method.not_choosable"))
        case .mail?:
            if let address { violations += address.violations() } else { violations.append(.required("address")) }
        case .window?:
            if address != nil {
                violations.append(FieldViolation(field: "address", description: "an address is given only for mail", reason: "address.unexpected"))
            }
        }
        guard violations.isEmpty, let method else { return .failure(.invalidArgument(violations)) }
        return .success(DeliveryChoice(method: method, address: method == .mail ? address?.normalized : nil))
    }

    init(method: DeliveryMethod, address: DeliveryAddress?) {
        self.method = method
        self.address = address
    }

    /// A choice as read back from the sealed record (already checked when it was made).
    public static func stored(method: DeliveryMethod, address: DeliveryAddress?) -> DeliveryChoice {
        DeliveryChoice(method: method, address: address)
    }
}

/// What the state keeps of the choice: the method and when — no personal data, so the state
/// JSON (and every event rendered from it) never holds the address.
public struct DeliveryPreference: Sendable, Hashable, Codable {
    public let method: DeliveryMethod
    public let chosenAt: Date

    public init(method: DeliveryMethod, chosenAt: Date) {
        self.method = method
        self.chosenAt = chosenAt
    }
}

extension ApplicationState {
    /// Whether the applicant may still choose how the result is delivered: until it is delivered,
    /// and not once the application ended without a result to deliver (not accepted, withdrawn).
    public var deliveryChoiceOpen: Bool {
        delivery == nil && ![.notAccepted, .withdrawn, .delivered].contains(overallStatus)
    }

    /// Records `choice`, made at `at`. `current` is the choice on record with its address (the
    /// service opens it from the seal). Returns false — and changes nothing — when `choice` equals
    /// it (an idempotent repeat); refuses once the result is delivered or there is none to deliver.
    public mutating func chooseDelivery(_ choice: DeliveryChoice, current: DeliveryChoice?, at: Date) throws(IntakeRuleError) -> Bool {
        if let current, current == choice, deliveryPreference?.method == choice.method { return false }
        guard deliveryChoiceOpen else {
            throw .failedPrecondition(delivery != nil
                ? "the result was already delivered (\(delivery!.method.rawValue)); the delivery method can no longer be changed"
                : "the application is \(overallStatus.rawValue): there is no result to deliver")
        }
        deliveryPreference = DeliveryPreference(method: choice.method, chosenAt: at)
        return true
    }
}
