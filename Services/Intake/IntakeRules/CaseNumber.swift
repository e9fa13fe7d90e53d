import OneSealCore

/// Application and case numbers (受理编号 / 办件编号), 22 digits:
///
///     371302 20260929 00 000123
///     ├node─┤├─date──┤seq├serial┤
///
/// - node: the accepting node's 6-digit GB/T 2260 division code;
/// - date: the day the application was received (yyyyMMdd, Beijing time);
/// - seq: 00 for the application itself, 01…99 for the case of its 1st…99th item (a bundle's
///   cases share the application's node, date and serial);
/// - serial: the node's 6-digit serial for that day, 000001…999999, handed out by the store.
///
/// Digits only, fixed width: it sorts by node then day, reads aloud at a window, and a clerk can
/// tell the node and day at a glance. Generation is pure: the serial is passed in.
public struct CaseNumber: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public static let maximumItemSequence = 99
    public static let maximumSerial = 999_999

    public let node: String
    public let date: CivilDate
    /// 0 for the application, 1…99 for an item's case.
    public let itemSequence: Int
    public let serial: Int

    public init(node: String, date: CivilDate, itemSequence: Int, serial: Int) throws(IntakeRuleError) {
        var violations: [FieldViolation] = []
        if !NodeRef.isDivisionCode(node) {
            violations.append(FieldViolation(field: "node", description: "“\(node)” is not a six-digit division code", reason: "division_code.format"))
        }
        if !(0...Self.maximumItemSequence).contains(itemSequence) {
            violations.append(FieldViolation(field: "item_sequence", description: "must be 0–\(Self.maximumItemSequence), was \(itemSequence)", reason: "out_of_range"))
        }
        if !(1...Self.maximumSerial).contains(serial) {
            violations.append(FieldViolation(field: "serial", description: "must be 1–\(Self.maximumSerial), was \(serial); the day's serials are used up", reason: "out_of_range"))
        }
        guard violations.isEmpty else { throw .invalidArgument(violations) }
        self.node = node
        self.date = date
        self.itemSequence = itemSequence
        self.serial = serial
    }

    /// The application's own number (item sequence 00).
    public static func application(node: String, receivedOn: CivilDate, serial: Int) throws(IntakeRuleError) -> CaseNumber {
        try CaseNumber(node: node, date: receivedOn, itemSequence: 0, serial: serial)
    }

    /// The case number of the application's `sequence`th item (1-based).
    public func forItem(_ sequence: Int) throws(IntakeRuleError) -> CaseNumber {
        guard sequence >= 1 else {
            throw .invalidArgument([FieldViolation(field: "item_sequence", description: "items are numbered from 1", reason: "out_of_range")])
        }
        return try CaseNumber(node: node, date: date, itemSequence: sequence, serial: serial)
    }

    /// Reads a number back, refusing anything but 22 digits with a real date.
    public init(parsing text: String) throws(IntakeRuleError) {
        let digits = Array(text.utf8)
        guard digits.count == 22, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            throw .invalidArgument([FieldViolation(field: "case_number", description: "“\(text)” is not 22 digits", reason: "case_number.format")])
        }
        func number(_ range: Range<Int>) -> Int { digits[range].reduce(0) { $0 * 10 + Int($1 - 48) } }
        guard let date = CivilDate(year: number(6..<10), month: number(10..<12), day: number(12..<14)) else {
            throw .invalidArgument([FieldViolation(field: "case_number", description: "digits 7–14 of “\(text)” are not a real date", reason: "case_number.date")])
        }
        try self.init(node: String(decoding: digits[0..<6], as: UTF8.self), date: date, itemSequence: number(14..<16), serial: number(16..<22))
    }

    public var description: String {
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return node + pad(date.year, 4) + pad(date.month, 2) + pad(date.day, 2) + pad(itemSequence, 2) + pad(serial, 6)
    }

    public static func < (lhs: CaseNumber, rhs: CaseNumber) -> Bool { lhs.description < rhs.description }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { self = try CaseNumber(parsing: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
