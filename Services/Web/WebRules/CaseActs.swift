import Foundation

/// The back office's acts on a case page (#19 screen 2), as the forms send them: what the web checks
/// before it calls approval (present, within its domain's length, a number where a number is asked),
/// each problem by its field, every problem at once. Whether an opinion is specific enough, whether
/// the chain allows the act, who may sign: approval's rules decide, and the page shows its answer by
/// the field it names (`CaseAct.field(forService:)`).
public enum CaseAct: String, Sendable, CaseIterable {
    case review, signOff = "sign-off", jointReview = "joint-review", decision, suspend, resume, `extension`, returnStep = "return", reassign

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
    /// The review opinion in the decision form of a sole case decided on the spot: its own name, as
    /// the review form's `opinion` is on the same page.
    public static let reviewOpinionField = "review_opinion"
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
        case (.decision, "opinion"): return CaseAct.reviewOpinionField
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
        case (.jointReview, _): return JointReviewForm.field(forService: path)
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

    /// The decision form of a sole-approval case whose review is still open (独任审批 on the spot,
    /// approval's `DecideRequest.opinion`) carries the review opinion too: both checked, every
    /// error at once.
    public static func validateOnTheSpot(_ fields: [String: String]) -> Result<(form: DecisionForm, opinion: String), FormErrors> {
        var errors: [String: String] = [:]
        let opinion = CaseActText.paragraph(fields[CaseAct.reviewOpinionField], field: CaseAct.reviewOpinionField, label: "审查意见", into: &errors)
        switch validate(fields) {
        case .failure(let failed):
            return .failure(FormErrors(errors: failed.errors.merging(errors) { decision, _ in decision }, values: failed.values))
        case .success(let form):
            guard errors.isEmpty else { return .failure(FormErrors(errors: errors, values: CaseActText.kept(fields))) }
            return .success((form, opinion))
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
        else if !WorkbenchCode.isValid(assignee, maximum: StaffAccountDraft.maximumStaffNumberCharacters) {
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

/// 会审: the meeting the item's tier calls for (科室会审, 分管负责人召集会审, 集体研究), recorded by
/// the one who convened it — where and when it was held, each participant's opinion and vote, the
/// conclusion and the resolution. Empty participant rows are left out; the rows that are filled
/// keep their numbers, so approval's `review.opinions[k]` is shown at the row it came from.
public struct JointReviewForm: Sendable, Hashable {
    public struct Participant: Sendable, Hashable {
        /// The row of the form (1-based).
        public var row: Int
        public var subject: String
        public var name: String
        public var title: String
        public var vote: Vote
        public var opinion: String
    }

    public enum Vote: String, Sendable, Hashable, CaseIterable {
        case agree, disagree, abstain
        public var label: String {
            switch self {
            case .agree: "同意"
            case .disagree: "不同意"
            case .abstain: "弃权"
            }
        }
    }

    /// Rows on the form: a leadership meeting (集体研究) is the director, the deputies and the
    /// sections concerned — nine seats are more than a county bureau's meeting has.
    public static let rows = 9
    public static let locationField = "jr_location"
    public static let heldAtField = "jr_held_at"
    public static let conclusionField = "jr_conclusion"
    public static let outcomeField = "jr_outcome"
    public static let participantsField = "jr_participants"
    public static func field(_ part: String, row: Int) -> String { "jr_\(part)_\(row)" }

    public var location: String
    /// When it was held (nil: now, as approval records it).
    public var heldAt: Date?
    public var conclusion: String
    public var outcome: ProposedConclusion
    public var participants: [Participant]

    /// `minimumParticipants`: 3 for 集体研究, 2 otherwise (approval's rule, checked here first so
    /// the page names the rows).
    public static func validate(_ fields: [String: String], minimumParticipants: Int, now: Date) -> Result<JointReviewForm, FormErrors> {
        var errors: [String: String] = [:]
        let location = CaseActText.tidy(fields[locationField])
        if location.isEmpty { errors[locationField] = "请填写会议地点" } else if location.count > CaseActLimits.maximumLineCharacters || location.contains("\n") {
            errors[locationField] = "会议地点为一行，最多\(CaseActLimits.maximumLineCharacters)个字"
        }
        var heldAt: Date?
        let heldText = CaseActText.tidy(fields[heldAtField])
        if !heldText.isEmpty {
            if let date = beijing(heldText) {
                if date > now.addingTimeInterval(300) { errors[heldAtField] = "会议时间不能晚于现在（会后记录）" } else { heldAt = date }
            } else {
                errors[heldAtField] = "会议时间的格式为 年-月-日T时:分，如 2026-12-04T09:30（留空为现在）"
            }
        }
        let conclusion = CaseActText.paragraph(fields[conclusionField], field: conclusionField, label: "会议结论", into: &errors)
        let outcome = ProposedConclusion(rawValue: fields[outcomeField] ?? "")
        if outcome == nil { errors[outcomeField] = "请选择会议的决议（拟准予或拟不予许可）" }
        var participants: [Participant] = []
        var seen: Set<String> = []
        for row in 1...rows {
            let subject = CaseActText.tidy(fields[field("subject", row: row)])
            let name = CaseActText.tidy(fields[field("name", row: row)])
            let title = CaseActText.tidy(fields[field("title", row: row)])
            let opinion = CaseActText.tidy(fields[field("opinion", row: row)])
            let voteText = fields[field("vote", row: row)] ?? ""
            if subject.isEmpty && name.isEmpty && title.isEmpty && opinion.isEmpty { continue }
            if subject.isEmpty { errors[field("subject", row: row)] = "第\(row)行：请填写参会人工号" }
            else if !WorkbenchCode.isValid(subject, maximum: StaffAccountDraft.maximumStaffNumberCharacters) {
                errors[field("subject", row: row)] = "第\(row)行：工号为字母、数字和 - _ .，最多\(StaffAccountDraft.maximumStaffNumberCharacters)个字符"
            } else if !seen.insert(subject).inserted {
                errors[field("subject", row: row)] = "第\(row)行：\(subject) 已在前面的行中，每位参会人只记一次"
            }
            if name.count > 40 || name.contains("\n") { errors[field("name", row: row)] = "第\(row)行：姓名最多40个字" }
            if title.isEmpty { errors[field("title", row: row)] = "第\(row)行：请填写参会职务，如“食品科科长”" }
            else if title.count > 60 || title.contains("\n") { errors[field("title", row: row)] = "第\(row)行：职务最多60个字" }
            let vote = Vote(rawValue: voteText)
            if vote == nil { errors[field("vote", row: row)] = "第\(row)行：请选择表决意见" }
            let checked = CaseActText.paragraph(opinion, field: field("opinion", row: row), label: "第\(row)行的发表意见", into: &errors)
            participants.append(Participant(row: row, subject: subject, name: name, title: title, vote: vote ?? .abstain, opinion: checked))
        }
        if participants.count < minimumParticipants {
            errors[participantsField] = "至少记录\(minimumParticipants)位参会人的意见，现在\(participants.count)位"
        }
        guard errors.isEmpty, let outcome else { return .failure(FormErrors(errors: errors, values: CaseActText.kept(fields))) }
        return .success(JointReviewForm(location: location, heldAt: heldAt, conclusion: conclusion, outcome: outcome, participants: participants))
    }

    /// The form field for approval's violation path: `review.location`, `review.opinions[k].opinion`
    /// (the k-th filled row), `review.conclusion`, `review.held_at`.
    public static func field(forService path: String, rows filled: [Int] = []) -> String? {
        if path.hasSuffix("location") { return locationField }
        if path.hasSuffix("held_at") { return heldAtField }
        if path.hasSuffix("conclusion") { return conclusionField }
        if path.hasSuffix("outcome") { return outcomeField }
        guard path.contains("opinions") else { return nil }
        guard let open = path.firstIndex(of: "["), let close = path.firstIndex(of: "]"), open < close,
              let k = Int(path[path.index(after: open)..<close]) else { return participantsField }
        let row = k < filled.count ? filled[k] : k + 1
        let part = path.split(separator: ".").last.map(String.init) ?? ""
        switch part {
        case "opinion": return field("opinion", row: row)
        case "title": return field("title", row: row)
        case "vote": return field("vote", row: row)
        case "subject": return field("subject", row: row)
        default: return field("subject", row: row)
        }
    }

    /// `YYYY-MM-DDTHH:MM` (a datetime-local control) in Beijing time.
    static func beijing(_ text: String) -> Date? {
        let parts = text.split(separator: "T")
        guard parts.count == 2, let day = CaseActText.date(String(parts[0])) else { return nil }
        let clock = parts[1].split(separator: ":").map { Int($0) }
        guard clock.count == 2, let hour = clock[0], let minute = clock[1], (0...23).contains(hour), (0...59).contains(minute) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai")!
        return calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day, hour: hour, minute: minute))
    }
}

/// A staff number or a department code as the workbench's forms take it: ASCII letters, digits
/// and `- _ .`, at most `maximum` characters (a department's USCC or the bureau's own code).
public enum WorkbenchCode {
    public static let maximumDepartmentCharacters = 64

    public static func isValid(_ text: String, maximum: Int) -> Bool {
        !text.isEmpty && text.count <= maximum && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
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

/// 改派 a returned push: one or more department codes (checkboxes, each sent as its own
/// `departments` field), the reason, and whether to fix the item's boundary list too.
public struct RerouteForm: Sendable, Hashable {
    public static let departmentsField = "departments"
    public static let reasonField = "reroute_reason"
    public static let boundaryField = "update_boundary"
    /// A push goes to the departments responsible for the item: a handful, never dozens.
    public static let maximumDepartments = 10

    public var departments: [String]
    public var reason: String
    public var updateBoundary: Bool

    /// `raw`: the form body as sent (the department boxes repeat one name).
    public static func validate(_ raw: String) -> Result<RerouteForm, FormErrors> {
        let fields = FormBody.parse(raw).filter { $0.key != departmentsField }
        var errors: [String: String] = [:]
        var departments: [String] = []
        for value in FormBody.values(raw, name: departmentsField).prefix(100) {
            let code = value.trimmingCharacters(in: .whitespaces)
            guard !code.isEmpty, !departments.contains(code) else { continue }
            guard WorkbenchCode.isValid(code, maximum: WorkbenchCode.maximumDepartmentCharacters) else {
                errors[departmentsField] = "部门代码为字母、数字和 - _ .，最多\(WorkbenchCode.maximumDepartmentCharacters)个字符"
                continue
            }
            departments.append(code)
        }
        if departments.isEmpty && errors[departmentsField] == nil { errors[departmentsField] = "请至少选择一个接收部门" }
        else if departments.count > maximumDepartments { errors[departmentsField] = "最多选择\(maximumDepartments)个部门" }
        let reason = CaseActText.paragraph(fields[reasonField], field: reasonField, label: "改派理由", into: &errors)
        let boundary = fields[boundaryField] == "on"
        guard errors.isEmpty else { return .failure(FormErrors(errors: errors, values: CaseActText.kept(fields))) }
        return .success(RerouteForm(departments: departments, reason: reason, updateBoundary: boundary))
    }
}
