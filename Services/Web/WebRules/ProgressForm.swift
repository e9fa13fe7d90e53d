import Foundation

/// The progress look-up form (办件查询): the receipt's application number (受理编号, 22 digits on
/// the acceptance notice) and its query code (查询码, 10 letters and digits). Checked here so a
/// mistyped value is named next to its field before intake is asked (and before a wrong try counts
/// against the application's lock-out).
public struct ProgressForm: Sendable, Hashable {
    public var applicationNumber: String
    public var queryCode: String

    /// Field name → the error shown next to it, in Chinese.
    public typealias Errors = [String: String]

    public static let numberField = "application_number"
    public static let codeField = "query_code"

    /// Validates the raw form values: spaces are dropped (numbers are read aloud and copied in
    /// groups), the code is upper-cased (it has no lower-case letters).
    public static func validate(_ fields: [String: String]) -> Result<ProgressForm, FormErrors> {
        var errors: Errors = [:]
        let number = (fields[numberField] ?? "").filter { !$0.isWhitespace }
        let code = (fields[codeField] ?? "").filter { !$0.isWhitespace }.uppercased()
        if number.isEmpty {
            errors[numberField] = "请填写受理编号"
        } else if number.count > WebLimits.maximumFieldCharacters || !number.allSatisfy({ $0.isASCII && $0.isNumber }) {
            errors[numberField] = "受理编号只含数字，见受理通知书"
        } else if number.count != 22 {
            errors[numberField] = "受理编号为22位数字（现为\(number.count)位）"
        }
        if code.isEmpty {
            errors[codeField] = "请填写查询码"
        } else if code.count != 10 || !code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
            errors[codeField] = "查询码为10位字母或数字，见受理通知书"
        }
        guard errors.isEmpty else {
            return .failure(FormErrors(errors: errors, values: [numberField: String(number.prefix(WebLimits.maximumFieldCharacters)), codeField: ""]))
        }
        return .success(ProgressForm(applicationNumber: number, queryCode: code))
    }
}

/// Errors by field, with the values to show again (never the query code: it is a secret).
public struct FormErrors: Error, Sendable, Hashable {
    public var errors: ProgressForm.Errors
    public var values: [String: String]

    public init(errors: ProgressForm.Errors, values: [String: String] = [:]) {
        self.errors = errors
        self.values = values
    }
}
