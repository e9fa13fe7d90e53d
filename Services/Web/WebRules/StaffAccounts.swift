import Foundation

/// The roles a staff account may hold (#19): the token roles of people who work in the hall.
/// Not `applicant` (those are applicant accounts), `integrator` (an outside system) nor `node` (a
/// service): the web's staff key is trusted for exactly these (W31), so a staff account can never
/// be turned into a service's identity. Raw values are the token roles' (`OneSealAuth.Role`).
public enum StaffRole: String, Sendable, Hashable, CaseIterable, Codable {
    case windowClerk = "window_clerk"
    case officer
    case sectionChief = "section_chief"
    case deputyDirector = "deputy_director"
    case director
    case certificateOperator = "certificate_operator"
    case department
    case evaluator
    case leader
    case `operator`

    /// As the hall calls the post.
    public var label: String {
        switch self {
        case .windowClerk: "综合受理窗口"
        case .officer: "承办人"
        case .sectionChief: "科室负责人"
        case .deputyDirector: "分管负责人"
        case .director: "主要负责人"
        case .certificateOperator: "制证中心"
        case .department: "行业主管部门"
        case .evaluator: "效能监督"
        case .leader: "局领导"
        case .operator: "系统运维"
        }
    }

    /// The back office's pages (work list, review, sign-off, decision): the approval roles. A window
    /// clerk, an inspector or an operator is refused there by the page (and by the RPC behind it).
    public var worksCases: Bool {
        switch self {
        case .officer, .sectionChief, .deputyDirector, .director: true
        default: false
        }
    }
}

/// A new staff account as the operator gives it (`oneseal staff add`): checked whole before
/// anything is hashed or stored; each error is keyed by its field and says what is wrong.
public struct StaffAccountDraft: Sendable, Hashable {
    /// 工号: the token subject of everything the person does (`TokenLimits` allows more; this is
    /// the hall's shape), compared without regard to case.
    public var staffNumber: String
    public var displayName: String
    public var role: StaffRole
    /// 窗口号, for a window clerk only (the receipt and the window's figures name it).
    public var windowNumber: String?
    /// The supervising department's code (the token's `dept`), for role `department` only: an
    /// inspector sees only their department's pushes.
    public var departmentCode: String?

    public static let staffNumberField = "staff_number"
    public static let nameField = "display_name"
    public static let roleField = "role"
    public static let windowField = "window"
    public static let departmentField = "department"

    public static let maximumStaffNumberCharacters = 32
    public static let maximumWindowCharacters = 8
    /// The token's `dept` limit (`TokenLimits.maximumDepartmentLength`).
    public static let maximumDepartmentCharacters = 64

    public static func validate(_ fields: [String: String]) -> Result<StaffAccountDraft, FormErrors> {
        var errors: [String: String] = [:]
        let number = StaffNumber.tidy(fields[staffNumberField] ?? "")
        if let problem = StaffNumber.problem(number) { errors[staffNumberField] = problem }
        let name = AccountText.tidy(fields[nameField] ?? "")
        if let problem = AccountText.nameProblem(name, label: "姓名") { errors[nameField] = problem }
        let rawRole = (fields[roleField] ?? "").trimmingCharacters(in: .whitespaces)
        let role = StaffRole(rawValue: rawRole)
        if role == nil {
            errors[roleField] = rawRole.isEmpty
                ? "请选择岗位角色"
                : "岗位角色应为 \(StaffRole.allCases.map(\.rawValue).joined(separator: "、")) 之一"
        }
        let window = (fields[windowField] ?? "").trimmingCharacters(in: .whitespaces)
        let department = (fields[departmentField] ?? "").trimmingCharacters(in: .whitespaces)
        if role == .windowClerk {
            if window.isEmpty {
                errors[windowField] = "综合受理窗口人员须填写窗口号"
            } else if window.count > maximumWindowCharacters || !window.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
                errors[windowField] = "窗口号为1–\(maximumWindowCharacters)位字母或数字"
            }
        } else if !window.isEmpty, role != nil {
            errors[windowField] = "只有综合受理窗口人员有窗口号"
        }
        if role == .department {
            if department.isEmpty {
                errors[departmentField] = "行业主管部门人员须填写部门代码"
            } else if department.count > maximumDepartmentCharacters || !department.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) {
                errors[departmentField] = "部门代码为1–\(maximumDepartmentCharacters)位字母、数字或 . _ -"
            }
        } else if !department.isEmpty, role != nil {
            errors[departmentField] = "只有行业主管部门人员有部门代码"
        }
        guard errors.isEmpty, let role else {
            return .failure(FormErrors(errors: errors, values: [
                staffNumberField: String(number.prefix(maximumStaffNumberCharacters)), nameField: String(name.prefix(AccountLimits.maximumNameCharacters)),
                roleField: String(rawRole.prefix(32)),
            ]))
        }
        return .success(StaffAccountDraft(
            staffNumber: number, displayName: name, role: role,
            windowNumber: role == .windowClerk ? window.uppercased() : nil, departmentCode: role == .department ? department : nil))
    }
}

/// 工号: letters, digits and `. _ -`, 1–32 characters. The token subject allows `@ : +` too; those
/// are left out so a staff number can never look like a service's subject (`intake@371302`).
public enum StaffNumber {
    public static func tidy(_ text: String) -> String { text.trimmingCharacters(in: .whitespaces) }

    public static func problem(_ number: String) -> String? {
        if number.isEmpty { return "请填写工号" }
        if number.count > StaffAccountDraft.maximumStaffNumberCharacters { return "工号最多\(StaffAccountDraft.maximumStaffNumberCharacters)位（现为\(number.count)位）" }
        if !number.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) { return "工号只能含字母、数字和 . _ -" }
        return nil
    }

    /// How staff numbers are compared (sign-in, uniqueness): case does not matter.
    public static func key(_ number: String) -> String { tidy(number).lowercased() }
}

/// Staff passwords: the applicants' rule (`PasswordRule`, W21) with the staff number in place of
/// the identity code; and the one-time passwords the operator hands over (`oneseal staff add` and
/// `reset-password`), which must be changed at the first sign-in.
public enum StaffPassword {
    public static func problem(_ password: String, staffNumber: String) -> String? {
        PasswordRule.problem(password, identityCode: staffNumber.uppercased(), phone: "")
    }

    /// No 0/O, 1/l/I: read aloud or off a slip of paper.
    static let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")

    /// 14 characters from a 56-letter alphabet (≈ 81 bits), satisfying the staff password rule.
    public static func temporary(staffNumber: String) -> String {
        var generator = SystemRandomNumberGenerator()
        while true {
            let candidate = String((0..<14).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
            if problem(candidate, staffNumber: staffNumber) == nil { return candidate }
        }
    }
}

/// The password change form (修改密码), forced at the first sign-in and after a reset: the current
/// password once more (a session left open on a hall PC must not be enough to take the account),
/// the new one twice, and the new one different from the current.
public struct StaffPasswordChange: Sendable, Hashable {
    public var current: String
    public var new: String

    public static let currentField = "current_password"
    public static let newField = "new_password"
    public static let confirmField = "new_password_confirm"

    public static func validate(_ fields: [String: String], staffNumber: String) -> Result<StaffPasswordChange, FormErrors> {
        var errors: [String: String] = [:]
        let current = fields[currentField] ?? ""
        let new = fields[newField] ?? ""
        if current.isEmpty { errors[currentField] = "请填写当前密码" } else if current.utf8.count > AccountLimits.maximumPasswordBytes { errors[currentField] = "密码过长" }
        if let problem = StaffPassword.problem(new, staffNumber: staffNumber) {
            errors[newField] = problem
        } else if new == current {
            errors[newField] = "新密码不能与当前密码相同"
        }
        if (fields[confirmField] ?? "") != new { errors[confirmField] = "两次输入的密码不一致" }
        guard errors.isEmpty else { return .failure(FormErrors(errors: errors, values: [:])) }
        return .success(StaffPasswordChange(current: current, new: new))
    }
}

/// The staff sign-in form: staff number and password (the TOTP code is a second page, W33).
public struct StaffSignIn: Sendable, Hashable {
    public var staffNumber: String
    public var password: String

    public static let passwordField = "password"
    public static let codeField = "code"

    public static func validate(_ fields: [String: String]) -> Result<StaffSignIn, FormErrors> {
        var errors: [String: String] = [:]
        let number = StaffNumber.tidy(fields[StaffAccountDraft.staffNumberField] ?? "")
        if let problem = StaffNumber.problem(number) { errors[StaffAccountDraft.staffNumberField] = problem }
        let password = fields[passwordField] ?? ""
        if password.isEmpty { errors[passwordField] = "请填写密码" } else if password.utf8.count > AccountLimits.maximumPasswordBytes { errors[passwordField] = "密码过长" }
        guard errors.isEmpty else {
            return .failure(FormErrors(errors: errors, values: [StaffAccountDraft.staffNumberField: String(number.prefix(StaffAccountDraft.maximumStaffNumberCharacters))]))
        }
        return .success(StaffSignIn(staffNumber: number, password: password))
    }
}
