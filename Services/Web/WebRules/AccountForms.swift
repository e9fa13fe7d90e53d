import OneSealCore

/// Who holds an account: a natural person (resident ID, GB 11643) or an organisation (USCC,
/// GB 32100) acting through its legal representative.
public enum AccountKind: String, Sendable, Hashable, CaseIterable, Codable {
    case person
    case company
}

/// Limits of the account forms, checked at the edge before anything is hashed or stored.
public enum AccountLimits {
    /// A name as a person or a company is registered (the longest company names run to about 50
    /// characters; 64 is the front's field limit, W8).
    public static let maximumNameCharacters = 64
    /// bcrypt reads at most 72 bytes of a password; a longer one would be silently cut, so it is
    /// refused and the limit shown instead.
    public static let maximumPasswordBytes = 72
    /// NIST SP 800-63B's floor for a memorised secret chosen by the user is 8; the hall asks 10.
    public static let minimumPasswordCharacters = 10
}

/// The registration form (注册): what the account needs and nothing more. Every error is in
/// Chinese and keyed by the field it belongs to, so the page shows it next to that field.
public struct Registration: Sendable, Hashable {
    public var kind: AccountKind
    /// 姓名 (person) or 单位名称 (company).
    public var name: String
    /// The normalised resident ID or USCC (`IdentityCode.normalized`): the token subject and the
    /// blind index input (W16).
    public var identityCode: String
    /// 法定代表人 (company only; nil for a person).
    public var legalRepresentative: String?
    /// 11 digits, mainland mobile number.
    public var phone: String
    public var password: String

    public static let kindField = "kind"
    public static let nameField = "name"
    public static let identityField = "identity_code"
    public static let representativeField = "legal_representative"
    public static let phoneField = "phone"
    public static let passwordField = "password"
    public static let confirmField = "password_confirm"

    /// The Chinese label of each field, as the page prints it (and the errors name it).
    public static func label(_ field: String, kind: AccountKind) -> String {
        switch field {
        case nameField: kind == .person ? "姓名" : "单位名称"
        case identityField: kind == .person ? "公民身份号码" : "统一社会信用代码"
        case representativeField: "法定代表人"
        case phoneField: "手机号码"
        case passwordField: "密码"
        case confirmField: "确认密码"
        default: "账户类型"
        }
    }

    /// Checks the raw form fields; `today` (Beijing) bounds the birth date of a resident ID.
    /// On failure the values to show again never include the passwords.
    public static func validate(_ fields: [String: String], today: CivilDate) -> Result<Registration, FormErrors> {
        var errors: [String: String] = [:]
        let applicant = applicantFields(fields, today: today, errors: &errors)
        let (kind, name, code, representative, phone) = (applicant.kind, applicant.name, applicant.code, applicant.representative, applicant.phone)
        let password = fields[passwordField] ?? ""
        if let problem = PasswordRule.problem(password, identityCode: code, phone: phone) { errors[passwordField] = problem }
        if (fields[confirmField] ?? "") != password { errors[confirmField] = "两次输入的密码不一致" }
        guard errors.isEmpty else { return .failure(FormErrors(errors: errors, values: applicant.values)) }
        return .success(Registration(kind: kind, name: name, identityCode: code, legalRepresentative: representative, phone: phone, password: password))
    }

    /// The person or company as typed — kind, name, identity code (GB 11643 / GB 32100 checked),
    /// legal representative, mobile phone — with each problem added to `errors` by its field, and
    /// the values to show again. Shared by registration and the window's new application (W43).
    public static func applicantFields(_ fields: [String: String], today: CivilDate, errors: inout [String: String])
        -> (kind: AccountKind, name: String, code: String, representative: String?, phone: String, values: [String: String]) {
        let kind = AccountKind(rawValue: fields[kindField] ?? "") ?? .person
        if let raw = fields[kindField], AccountKind(rawValue: raw) == nil { errors[kindField] = "请选择个人或法人账户" }
        let name = AccountText.tidy(fields[nameField] ?? "")
        if let problem = AccountText.nameProblem(name, label: label(nameField, kind: kind)) { errors[nameField] = problem }
        let code = IdentityCode.normalized(fields[identityField] ?? "")
        if let problem = Self.identityProblem(code, kind: kind, today: today) { errors[identityField] = problem }
        var representative: String?
        if kind == .company {
            let text = AccountText.tidy(fields[representativeField] ?? "")
            if let problem = AccountText.nameProblem(text, label: "法定代表人") { errors[representativeField] = problem }
            representative = text
        }
        let phone = (fields[phoneField] ?? "").filter { !$0.isWhitespace && $0 != "-" }
        if phone.isEmpty {
            errors[phoneField] = "请填写手机号码"
        } else if phone.count != 11 || !phone.allSatisfy({ $0.isASCII && $0.isNumber }) || !phone.hasPrefix("1") || !"3456789".contains(Array(phone)[1]) {
            // Intake's rule for a mobile number (13–19), so an online application never fails on it.
            errors[phoneField] = "手机号码为以13–19开头的11位数字"
        }
        var values = [kindField: kind.rawValue, nameField: String(name.prefix(AccountLimits.maximumNameCharacters)),
                      identityField: String(code.prefix(WebLimits.maximumFieldCharacters)), phoneField: String(phone.prefix(WebLimits.maximumFieldCharacters))]
        if let representative { values[representativeField] = String(representative.prefix(AccountLimits.maximumNameCharacters)) }
        return (kind, name, code, representative, phone, values)
    }

    /// The identity code's problem in the words of the field's label, or nil when it is valid.
    public static func identityProblem(_ code: String, kind: AccountKind, today: CivilDate) -> String? {
        let label = label(identityField, kind: kind)
        if code.isEmpty { return "请填写\(label)" }
        if code.count > WebLimits.maximumFieldCharacters { return "\(label)过长" }
        switch kind {
        case .person:
            do { _ = try ResidentID(code, today: today) } catch {
                switch error {
                case .wrongLength: return "\(label)为18位（现为\(code.count)位）"
                case .invalidCharacter(let position): return position == 18 ? "\(label)第18位应为数字或X" : "\(label)第\(position)位应为数字"
                case .invalidBirthDate: return "\(label)中的出生日期（第7–14位）不是有效日期"
                case .checksumMismatch: return "\(label)校验位不符，请检查是否输错"
                }
            }
        case .company:
            do { _ = try UnifiedSocialCreditCode(code) } catch {
                return code.count == 18 ? "\(label)校验不通过，请检查是否输错" : "\(label)为18位字母或数字（现为\(code.count)位）"
            }
        }
        return nil
    }
}

/// The sign-in form (登录): the identity code and the password.
public struct SignIn: Sendable, Hashable {
    public var identityCode: String
    public var password: String

    public static func validate(_ fields: [String: String]) -> Result<SignIn, FormErrors> {
        var errors: [String: String] = [:]
        let code = IdentityCode.normalized(fields[Registration.identityField] ?? "")
        if code.isEmpty {
            errors[Registration.identityField] = "请填写公民身份号码或统一社会信用代码"
        } else if code.count != 18 || !code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
            errors[Registration.identityField] = "公民身份号码或统一社会信用代码为18位"
        }
        let password = fields[Registration.passwordField] ?? ""
        if password.isEmpty {
            errors[Registration.passwordField] = "请填写密码"
        } else if password.utf8.count > AccountLimits.maximumPasswordBytes {
            errors[Registration.passwordField] = "密码过长"
        }
        guard errors.isEmpty else {
            return .failure(FormErrors(errors: errors, values: [Registration.identityField: String(code.prefix(WebLimits.maximumFieldCharacters))]))
        }
        return .success(SignIn(identityCode: code, password: password))
    }
}

/// The password rule: long enough, not longer than bcrypt reads, not the account's own ID or
/// phone number (the first things an attacker who knows the person would try).
public enum PasswordRule {
    public static func problem(_ password: String, identityCode: String, phone: String) -> String? {
        if password.isEmpty { return "请设置密码" }
        if password.count < AccountLimits.minimumPasswordCharacters { return "密码至少\(AccountLimits.minimumPasswordCharacters)个字符" }
        if password.utf8.count > AccountLimits.maximumPasswordBytes { return "密码最多\(AccountLimits.maximumPasswordBytes)字节（约24个汉字或72个字母数字）" }
        if password.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) { return "密码不能含控制字符" }
        let upper = password.uppercased()
        if (!identityCode.isEmpty && upper.contains(identityCode)) || (!phone.isEmpty && password.contains(phone)) {
            return "密码不能包含身份号码或手机号码"
        }
        if Set(password).count < 4 { return "密码过于简单，请混用不同字符" }
        return nil
    }
}

/// Names as typed: trimmed, inner runs of spaces kept single; refused when empty, too long, or
/// holding control or invisible characters (which would print as nothing on a document).
public enum AccountText {
    public static func tidy(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    public static func nameProblem(_ text: String, label: String) -> String? {
        if text.isEmpty { return "请填写\(label)" }
        if text.count > AccountLimits.maximumNameCharacters { return "\(label)最多\(AccountLimits.maximumNameCharacters)个字（现为\(text.count)个）" }
        let invisible = text.unicodeScalars.contains { scalar in
            switch scalar.properties.generalCategory {
            case .control, .format, .privateUse, .unassigned, .surrogate: true
            default: false
            }
        }
        return invisible ? "\(label)含有不可见字符，请重新输入" : nil
    }
}

/// The rating form (好差评, #18 item 7): one of five levels, the 差评 reasons from a fixed list, a
/// comment. A bad rating (非常不满意, 不满意) must say why — a reason or a comment — as the
/// evaluation service requires, so the applicant learns it next to the field, not from a refusal.
public struct RatingForm: Sendable, Hashable {
    /// 1 (非常不满意) … 5 (非常满意), the evaluation service's RatingLevel numbers.
    public var level: Int
    public var reasons: [String]
    public var comment: String

    public static let levelField = "level"
    public static let reasonField = "reason"
    public static let commentField = "comment"
    public static let maximumCommentCharacters = 500

    public static let levels: [(value: Int, label: String)] = [
        (5, "非常满意"), (4, "满意"), (3, "基本满意"), (2, "不满意"), (1, "非常不满意"),
    ]
    /// The reasons offered for a bad rating (what the provincial 好差评 forms list most often).
    public static let badReasons = ["态度不好", "多次跑腿", "办理超时", "材料要求不清楚", "网上办事系统不好用", "收费不合理"]

    public var isBad: Bool { level <= 2 }

    public init(level: Int, reasons: [String], comment: String) {
        self.level = level
        self.reasons = reasons
        self.comment = comment
    }

    /// `fields` holds the single fields; `reasons` the checked boxes (a form may repeat `reason`).
    public static func validate(_ fields: [String: String], reasons: [String]) -> Result<RatingForm, FormErrors> {
        var errors: [String: String] = [:]
        let level = Int(fields[levelField] ?? "") ?? 0
        if !(1...5).contains(level) { errors[levelField] = "请选择满意程度" }
        let comment = (fields[commentField] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if comment.count > maximumCommentCharacters {
            errors[commentField] = "评价内容最多\(maximumCommentCharacters)字（现为\(comment.count)字）"
        } else if comment.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" && $0 != "\r" }) {
            errors[commentField] = "评价内容含有不可见字符"
        }
        let picked = Array(Set(reasons.filter { badReasons.contains($0) })).sorted { badReasons.firstIndex(of: $0)! < badReasons.firstIndex(of: $1)! }
        if reasons.contains(where: { !badReasons.contains($0) }) { errors[reasonField] = "请从列出的原因中选择" }
        if (1...2).contains(level), picked.isEmpty, comment.isEmpty, errors[commentField] == nil {
            errors[reasonField] = "不满意时请选择原因或写明情况，以便整改"
        }
        guard errors.isEmpty else {
            return .failure(FormErrors(errors: errors, values: [levelField: String(level), commentField: String(comment.prefix(maximumCommentCharacters))]))
        }
        return .success(RatingForm(level: level, reasons: level <= 2 ? picked : [], comment: comment))
    }
}
