import Foundation

/// The back office's acts on a case page (#19 screen 2), as the forms send them: what the web checks
/// before it calls approval (present, within its domain's length, a number where a number is asked),
/// each problem by its field, every problem at once. Whether an opinion is specific enough, whether
/// the chain allows the act, who may sign: approval's rules decide, and the page shows its answer by
/// the field it names (`CaseAct.field(forService:)`).
public enum CaseAct: String, Sendable, CaseIterable {
    case review, signOff = "sign-off", decision, suspend, resume, `extension`, returnStep = "return", reassign

    /// The form's path under `/staff/cases/:id/`.
    public var path: String { rawValue }

    /// Hidden fields every act's form carries.
    public static let keyField = "idempotency_key"
    public static let revisionField = "revision"
    public static let stepField = "step_id"

    /// Field names, one namespace for the whole page (several forms share it), so an error names one
    /// control only.
    public static let conclusionField = "conclusion"
    public static let opinionField = "opinion"
    public static let outcomeField = "outcome"
    public static let scopeField = "scope"
    public static let placeField = "place"
    public static let conditionsField = "conditions"
    public static let validUntilField = "valid_until"
    public static let reasonsField = "reasons"
    public static let legalBasisField = "legal_basis"
    public static let appealRightsField = "appeal_rights"
    public static let procedureField = "procedure"
    public static let expectedDaysField = "expected_days"
    public static let noticeTextField = "notice_text"
    public static let resultField = "result"
    public static let extensionDaysField = "extension_days"
    public static let extensionReasonField = "extension_reason"
    public static let targetStepField = "target_step"
    public static let returnReasonField = "return_reason"
    public static let assigneeField = "new_assignee"
    public static let reassignReasonField = "reassign_reason"

    /// The form field that shows a violation approval reports for this act (its field path, e.g.
    /// `grant.scope`, `denial.reasons[0]`, `reason`); nil: shown above the form.
    public func field(forService path: String) -> String? {
        let last = path.split(separator: ".").last.map(String.init) ?? path
        let name = last.split(separator: "[").first.map(String.init) ?? last
        switch (self, name) {
        case (.review, "opinion"), (.signOff, "opinion"): return CaseAct.opinionField
        case (.review, "conclusion"), (.signOff, "conclusion"): return CaseAct.conclusionField
        case (.decision, "scope"): return CaseAct.scopeField
        case (.decision, "place"): return CaseAct.placeField
        case (.decision, "conditions"): return CaseAct.conditionsField
        case (.decision, "valid_until"), (.decision, "valid_from"): return CaseAct.validUntilField
        case (.decision, "reasons"): return CaseAct.reasonsField
        case (.decision, "legal_basis"): return CaseAct.legalBasisField
        case (.decision, "appeal_rights"), (.decision, "reconsideration_agency"), (.decision, "court"): return CaseAct.appealRightsField
        case (.suspend, "reason"): return CaseAct.procedureField
        case (.suspend, "expected_days"): return CaseAct.expectedDaysField
        case (.suspend, "notice_text"): return CaseAct.noticeTextField
        case (.resume, "result"): return CaseAct.resultField
        case (.extension, "extension_days"): return CaseAct.extensionDaysField
        case (.extension, "reason"): return CaseAct.extensionReasonField
        case (.returnStep, "target_step_index"): return CaseAct.targetStepField
        case (.returnStep, "reason"): return CaseAct.returnReasonField
        case (.reassign, "new_assignee_subject"): return CaseAct.assigneeField
        case (.reassign, "reason"): return CaseAct.reassignReasonField
        default: return nil
        }
    }
}

/// Lengths of the back office's texts, by their domain: an opinion or a notice is a paragraph of
/// legal text (approval's own edge limit is larger; the page stops a pasted document earlier).
public enum CaseActLimits {
    public static let maximumTextCharacters = 2000
    public static let maximumLineCharacters = 500
    public static let maximumLines = 20
    /// A staff form body: a 2,000-character Chinese opinion is 18 KB percent-encoded.
    public static let maximumFormBytes = 65_536
}

/// What a signer concluded: 拟同意 / 拟不同意.
public enum ProposedConclusion: String, Sendable {
    case grant, deny
}

/// The officer's review or a sign-off: conclusion and opinion.
public struct SigningForm: Sendable, Hashable {
    public var conclusion: ProposedConclusion
    public var opinion: String

    public static func validate(_ fields: [String: String]) -> Result<SigningForm, FormErrors> {
        var errors: [String: String] = [:]
        let conclusion = ProposedConclusion(rawValue: fields[CaseAct.conclusionField] ?? "")
        if conclusion == nil { errors[CaseAct.conclusionField] = "请选择“拟同意”或“拟不同意”" }
        let opinion = CaseActText.paragraph(fields[CaseAct.opinionField], field: CaseAct.opinionField, label: "意见", into: &errors)
        guard errors.isEmpty, let conclusion else { return .failure(FormErrors(errors: errors, values: CaseActText.kept(fields))) }
        return .success(SigningForm(conclusion: conclusion, opinion: opinion))
    }
}

/// The decision: a grant with its scope, or a denial with every reason and the remedies text.
public enum DecisionForm: Sendable, Hashable {
    case grant(scope: String, place: String, conditions: [String], validUntil: (year: Int, month: Int, day: Int)?)
    case deny(reasons: [String], legalBasis: String, appealRights: String)

    public static func == (lhs: DecisionForm, rhs: DecisionForm) -> Bool { lhs.key == rhs.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }
    private var key: String {
        switch self {
        case .grant(let scope, let place, let conditions, let until):
            "g|\(scope)|\(place)|\(conditions)|\(until.map { "\($0.year)-\($0.month)-\($0.day)" } ?? "")"
        case .deny(let reasons, let basis, let rights): "d|\(reasons)|\(basis)|\(rights)"
        }
    }

    public static func validate(_ fields: [String: String]) -> Result<DecisionForm, FormErrors> {
        var errors: [String: String] = [:]
        let kept = CaseActText.kept(fields)
        switch fields[CaseAct.outcomeField] ?? "" {
        case "grant":
            let scope = CaseActText.paragraph(fields[CaseAct.scopeField], field: CaseAct.scopeField, label: "许可范围", into: &errors)
            let place = CaseActText.optional(fields[CaseAct.placeField], field: CaseAct.placeField, into: &errors)
            let conditions = CaseActText.lines(fields[CaseAct.conditionsField], field: CaseAct.conditionsField, required: false, label: "附加条件", into: &errors)
            var until: (year: Int, month: Int, day: Int)?
            let text = (fields[CaseAct.validUntilField] ?? "").trimmingCharacters(in: .whitespaces)
            if !text.isEmpty {
                until = CaseActText.date(text)
                if until == nil { errors[CaseAct.validUntilField] = "有效期截止日期格式为 年-月-日，如 2031-12-31；长期有效请留空" }
            }
            guard errors.isEmpty else { return .failure(FormErrors(errors: errors, values: kept)) }
            return .success(.grant(scope: scope, place: place, conditions: conditions, validUntil: until))
        case "deny":
            let reasons = CaseActText.lines(fields[CaseAct.reasonsField], field: CaseAct.reasonsField, required: true, label: "不予许可的理由", into: &errors)
            let basis = CaseActText.optional(fields[CaseAct.legalBasisField], field: CaseAct.legalBasisField, into: &errors)
            let rights = CaseActText.optional(fields[CaseAct.appealRightsField], field: CaseAct.appealRightsField, into: &errors)
            guard errors.isEmpty else { return .failure(FormErrors(errors: errors, values: kept)) }
            return .success(.deny(reasons: reasons, legalBasis: basis, appealRights: rights))
        default:
            return .failure(FormErrors(errors: [CaseAct.outcomeField: "请选择“准予许可”或“不予许可”"], values: kept))
        }
    }
}

/// Stopping the clock for a special procedure (Art. 45), with the written notice's text.
public struct SuspendForm: Sendable, Hashable {
    /// The procedures a case may stop its clock for, by their wire names (`SpecialProcedure`), and
    /// how the page names them.
    public static let procedures: [(value: String, label: String)] = [
        ("site_inspection", "现场核查"), ("testing", "检测"), ("inspection", "检验"), ("expert_review", "专家评审"),
        ("appraisal", "鉴定"), ("quarantine", "检疫"), ("tender", "招标"), ("auction", "拍卖"),
    ]
    public var procedure: String
    public var expectedDays: Int
    public var noticeText: String

    public static func validate(_ fields: [String: String]) -> Result<SuspendForm, FormErrors> {
        var errors: [String: String] = [:]
        let procedure = fields[CaseAct.procedureField] ?? ""
        if !procedures.contains(where: { $0.value == procedure }) { errors[CaseAct.procedureField] = "请选择特别程序" }
        let days = Int((fields[CaseAct.expectedDaysField] ?? "").trimmingCharacters(in: .whitespaces))
        if days == nil || days! < 1 || days! > 120 { errors[CaseAct.expectedDaysField] = "请填写预计所需的工作日数（1–120）" }
        let notice = CaseActText.paragraph(fields[CaseAct.noticeTextField], field: CaseAct.noticeTextField, label: "告知内容", into: &errors)
        guard errors.isEmpty, let days else { return .failure(FormErrors(errors: errors, values: CaseActText.kept(fields))) }
        return .success(SuspendForm(procedure: procedure, expectedDays: days, noticeText: notice))
    }
}

/// Restarting the clock with the procedure's outcome.
public struct ResumeForm: Sendable, Hashable {
    public var result: String

    public static func validate(_ fields: [String: String]) -> Result<ResumeForm, FormErrors> {
        var errors: [String: String] = [:]
        let result = CaseActText.paragraph(fields[CaseAct.resultField], field: CaseAct.resultField, label: "特别程序的结果", into: &errors)
        guard errors.isEmpty else { return .failure(FormErrors(errors: errors, values: CaseActText.kept(fields))) }
        return .success(ResumeForm(result: result))
    }
}

/// 退回重办: the earlier step to redo (its index in the chain) and why.
public struct ReturnForm: Sendable, Hashable {
    public var targetStep: Int
    public var reason: String

    /// `earlier`: the indexes of the steps the case may go back to.
    public static func validate(_ fields: [String: String], earlier: [Int]) -> Result<ReturnForm, FormErrors> {
        var errors: [String: String] = [:]
        let target = Int(fields[CaseAct.targetStepField] ?? "")
        if target == nil || !earlier.contains(target!) { errors[CaseAct.targetStepField] = "请选择退回到哪一环节" }
        let reason = CaseActText.paragraph(fields[CaseAct.returnReasonField], field: CaseAct.returnReasonField, label: "退回理由", into: &errors)
        guard errors.isEmpty, let target else { return .failure(FormErrors(errors: errors, values: CaseActText.kept(fields))) }
        return .success(ReturnForm(targetStep: target, reason: reason))
    }
}

/// 改派: the staff number of the person who takes the active step, and why.
public struct ReassignForm: Sendable, Hashable {
    public var assignee: String
    public var reason: String

    public static func validate(_ fields: [String: String]) -> Result<ReassignForm, FormErrors> {
        var errors: [String: String] = [:]
        let assignee = (fields[CaseAct.assigneeField] ?? "").trimmingCharacters(in: .whitespaces)
        if assignee.isEmpty { errors[CaseAct.assigneeField] = "请填写接办人的工号" }
        else if assignee.count > StaffAccountDraft.maximumStaffNumberCharacters || !assignee.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) {
            errors[CaseAct.assigneeField] = "工号为字母、数字和 - _ .，最多\(StaffAccountDraft.maximumStaffNumberCharacters)个字符"
        }
        let reason = CaseActText.paragraph(fields[CaseAct.reassignReasonField], field: CaseAct.reassignReasonField, label: "改派理由", into: &errors)
        guard errors.isEmpty else { return .failure(FormErrors(errors: errors, values: CaseActText.kept(fields))) }
        return .success(ReassignForm(assignee: assignee, reason: reason))
    }
}

/// The one extension (Art. 42): days (empty = the statutory maximum) and the reason told to the applicant.
public struct ExtensionForm: Sendable, Hashable {
    public var days: Int
    public var reason: String

    public static func validate(_ fields: [String: String]) -> Result<ExtensionForm, FormErrors> {
        var errors: [String: String] = [:]
        let text = (fields[CaseAct.extensionDaysField] ?? "").trimmingCharacters(in: .whitespaces)
        var days = 0
        if !text.isEmpty {
            if let value = Int(text), value >= 1, value <= 15 { days = value } else { errors[CaseAct.extensionDaysField] = "延长的工作日数为 1–15（留空为法定上限）" }
        }
        let reason = CaseActText.paragraph(fields[CaseAct.extensionReasonField], field: CaseAct.extensionReasonField, label: "延期理由", into: &errors)
        guard errors.isEmpty else { return .failure(FormErrors(errors: errors, values: CaseActText.kept(fields))) }
        return .success(ExtensionForm(days: days, reason: reason))
    }
}

/// Text checks the forms share.
enum CaseActText {
    /// What the page gives back after a refusal: the texts typed, never the hidden fields.
    static func kept(_ fields: [String: String]) -> [String: String] {
        fields.filter { ![CSRFTokens.field, CaseAct.keyField, CaseAct.revisionField, CaseAct.stepField].contains($0.key) }
            .mapValues { String($0.prefix(CaseActLimits.maximumTextCharacters)) }
    }

    static func tidy(_ text: String?) -> String {
        (text ?? "").replacingOccurrences(of: "\r\n", with: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func paragraph(_ raw: String?, field: String, label: String, into errors: inout [String: String]) -> String {
        let text = tidy(raw)
        if text.isEmpty { errors[field] = "请填写\(label)" } else if text.count > CaseActLimits.maximumTextCharacters {
            errors[field] = "\(label)最多\(CaseActLimits.maximumTextCharacters)个字，现在\(text.count)个字"
        } else if text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" && $0 != "\t" }) {
            errors[field] = "\(label)含有不可见的控制字符，请重新输入"
        }
        return text
    }

    static func optional(_ raw: String?, field: String, into errors: inout [String: String]) -> String {
        let text = tidy(raw)
        if text.count > CaseActLimits.maximumTextCharacters { errors[field] = "最多\(CaseActLimits.maximumTextCharacters)个字" }
        return text
    }

    static func lines(_ raw: String?, field: String, required: Bool, label: String, into errors: inout [String: String]) -> [String] {
        let lines = tidy(raw).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if required && lines.isEmpty { errors[field] = "请填写\(label)，每行一条" }
        else if lines.count > CaseActLimits.maximumLines { errors[field] = "\(label)最多\(CaseActLimits.maximumLines)条" }
        else if let long = lines.first(where: { $0.count > CaseActLimits.maximumLineCharacters }) {
            errors[field] = "每条最多\(CaseActLimits.maximumLineCharacters)个字（“\(long.prefix(12))…”过长）"
        }
        return lines
    }

    /// `YYYY-MM-DD`, a real calendar date.
    static func date(_ text: String) -> (year: Int, month: Int, day: Int)? {
        let parts = text.split(separator: "-").map { Int($0) }
        guard parts.count == 3, let year = parts[0], let month = parts[1], let day = parts[2], (2000...2199).contains(year) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai")!
        guard let date = calendar.date(from: DateComponents(year: year, month: month, day: day)),
              calendar.component(.month, from: date) == month, calendar.component(.day, from: date) == day else { return nil }
        return (year, month, day)
    }
}
