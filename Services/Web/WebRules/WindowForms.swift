import OneSealCore

/// The window's forms (综合受理, #19 screen 1, W43): accept, the one-time correction notice, not
/// accepted, and handing out the result. Each is checked whole at the edge — every problem at
/// once, by its field, in Chinese — before intake is called; intake's own checks stay the law.
public enum WindowAct: String, Sendable, Hashable, CaseIterable {
    case accept, correction, reject, deficiency, commitment, forward, deliver

    public var path: String { rawValue }

    /// The one-time key and the revision the clerk looked at (intake refuses a changed application).
    public static let keyField = "form_key"
    public static let revisionField = "revision"
    public static let maximumFormBytes = 32 * 1024
}

/// 受理: an optional one-line note for the file.
public struct AcceptForm: Sendable, Hashable {
    public static let noteField = "note"
    public static let maximumNoteCharacters = 200
    public var note: String

    public static func validate(_ fields: [String: String]) -> Result<AcceptForm, FormErrors> {
        let note = (fields[noteField] ?? "").trimmingCharacters(in: .whitespaces)
        if note.count > maximumNoteCharacters || note.contains(where: \.isNewline) {
            return .failure(FormErrors(errors: [noteField: "备注为一行，最多\(maximumNoteCharacters)字"], values: fields))
        }
        return .success(AcceptForm(note: note))
    }
}

/// 一次性告知补正 (Art. 32 ¶4): the clerk ticks exactly the materials that are missing or wrong,
/// says for each what is wrong and how to fix it; every problem in one notice.
public struct CorrectionForm: Sendable, Hashable {
    public struct Problem: Sendable, Hashable {
        public var requirementCode: String
        public var kind: String
        public var howToFix: String
    }

    public static let kinds: [(value: String, label: String)] = [
        ("missing", "未提交"), ("wrong_form", "形式不符（如应交原件）"), ("incomplete", "不完整（缺页、缺签字盖章）"),
        ("inconsistent", "内容不一致"), ("expired", "已过期或失效"), ("other", "其他"),
    ]
    public static let maximumHowToFixCharacters = 200
    public static let listField = "problems"
    public static func tickField(_ code: String) -> String { "problem_\(code)" }
    public static func kindField(_ code: String) -> String { "kind_\(code)" }
    public static func fixField(_ code: String) -> String { "fix_\(code)" }

    public var problems: [Problem]

    /// `requirements`: the codes of the application's items' materials, in the order shown.
    public static func validate(_ fields: [String: String], requirements: [String]) -> Result<CorrectionForm, FormErrors> {
        var errors: [String: String] = [:]
        var problems: [Problem] = []
        for code in requirements where fields[tickField(code)] != nil {
            let kind = fields[kindField(code)] ?? ""
            let fix = (fields[fixField(code)] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if !kinds.contains(where: { $0.value == kind }) { errors[kindField(code)] = "请选择问题类型" }
            if fix.isEmpty {
                errors[fixField(code)] = "请写明需补正的内容，例如“需加盖公章的营业执照复印件一份”"
            } else if fix.count > maximumHowToFixCharacters {
                errors[fixField(code)] = "最多\(maximumHowToFixCharacters)字"
            }
            problems.append(Problem(requirementCode: code, kind: kind, howToFix: fix))
        }
        if problems.isEmpty && errors.isEmpty { errors[listField] = "请勾选需要补正的材料（一次性告知全部问题）" }
        guard errors.isEmpty else { return .failure(FormErrors(errors: errors, values: fields)) }
        return .success(CorrectionForm(problems: problems))
    }
}

/// 不予受理 (Art. 32 ¶1): a ground, the specific reason, the provision, and for a matter outside
/// this agency's powers the agency to apply to.
public struct RejectForm: Sendable, Hashable {
    public static let groundField = "ground"
    public static let reasonField = "reason"
    public static let basisField = "legal_basis"
    public static let agencyField = "competent_agency"
    public static let grounds: [(value: String, label: String)] = [
        ("not_a_licensing_matter", "不需要取得行政许可"), ("outside_powers", "不属于本机关职权范围"),
        ("correction_not_made", "未按补正告知补正"), ("other", "其他法定情形"),
    ]
    public static let maximumReasonCharacters = 500
    public static let maximumBasisCharacters = 200
    public static let maximumAgencyCharacters = 100

    public var ground: String
    public var reason: String
    public var legalBasis: String
    public var competentAgency: String

    public static func validate(_ fields: [String: String]) -> Result<RejectForm, FormErrors> {
        var errors: [String: String] = [:]
        let ground = fields[groundField] ?? ""
        let reason = (fields[reasonField] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let basis = (fields[basisField] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let agency = (fields[agencyField] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if !grounds.contains(where: { $0.value == ground }) { errors[groundField] = "请选择不予受理的理由" }
        if reason.count < 4 { errors[reasonField] = "请具体写明不予受理的原因" } else if reason.count > maximumReasonCharacters { errors[reasonField] = "最多\(maximumReasonCharacters)字" }
        if basis.isEmpty { errors[basisField] = "请写明依据的条款，例如《中华人民共和国行政许可法》第三十二条第一款第二项" } else if basis.count > maximumBasisCharacters { errors[basisField] = "最多\(maximumBasisCharacters)字" }
        if ground == "outside_powers" && agency.isEmpty { errors[agencyField] = "不属于本机关职权范围的，应告知向哪个机关申请" } else if agency.count > maximumAgencyCharacters { errors[agencyField] = "最多\(maximumAgencyCharacters)字" }
        guard errors.isEmpty else { return .failure(FormErrors(errors: errors, values: fields)) }
        return .success(RejectForm(ground: ground, reason: reason, legalBasis: basis, competentAgency: agency))
    }
}

/// 出件 at the window: who collected the result — name and resident ID number (checked as typed,
/// GB 11643), the applicant or an authorised agent.
public struct CollectionForm: Sendable, Hashable {
    public static let nameField = "collector_name"
    public static let idField = "collector_id"
    public static let maximumNameCharacters = 50

    public var name: String
    public var idNumber: String

    public static func validate(_ fields: [String: String], today: CivilDate) -> Result<CollectionForm, FormErrors> {
        var errors: [String: String] = [:]
        let name = (fields[nameField] ?? "").trimmingCharacters(in: .whitespaces)
        let id = IdentityCode.normalized(fields[idField] ?? "")
        if name.isEmpty { errors[nameField] = "请填写领取人姓名" } else if name.count > maximumNameCharacters || name.contains(where: \.isNewline) { errors[nameField] = "姓名为一行，最多\(maximumNameCharacters)字" }
        if let problem = Registration.identityProblem(IdentityCode.normalized(id), kind: .person, today: today) { errors[idField] = problem.replacingOccurrences(of: "公民身份号码", with: "领取人身份证号码") }
        guard errors.isEmpty else { return .failure(FormErrors(errors: errors, values: fields)) }
        return .success(CollectionForm(name: name, idNumber: id))
    }
}

/// 容缺受理: accepted although non-key materials are missing — the clerk ticks them (each must
/// allow it; intake checks), the working days to supply them (node default when empty) and the
/// applicant's signed undertaking as written.
public struct DeficiencyForm: Sendable, Hashable {
    public static func tickField(_ code: String) -> String { "deficient_\(code)" }
    public static let daysField = "supply_within_days"
    public static let undertakingField = "undertaking"
    public static let listField = "deficient"
    public static let maximumUndertakingCharacters = 1000

    public var missing: [String]
    public var days: Int
    public var undertaking: String

    public static func validate(_ fields: [String: String], requirements: [String]) -> Result<DeficiencyForm, FormErrors> {
        var errors: [String: String] = [:]
        let missing = requirements.filter { fields[tickField($0)] != nil }
        if missing.isEmpty { errors[listField] = "请勾选容缺的材料" }
        let daysText = (fields[daysField] ?? "").trimmingCharacters(in: .whitespaces)
        var days = 0
        if !daysText.isEmpty {
            if let value = Int(daysText), (1...60).contains(value), daysText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { days = value } else { errors[daysField] = "补齐期限为1–60个工作日，不填则按本局规定" }
        }
        let undertaking = (fields[undertakingField] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if undertaking.count < 4 { errors[undertakingField] = "请录入申请人签署的补齐承诺" } else if undertaking.count > maximumUndertakingCharacters { errors[undertakingField] = "最多\(maximumUndertakingCharacters)字" }
        guard errors.isEmpty else { return .failure(FormErrors(errors: errors, values: fields)) }
        return .success(DeficiencyForm(missing: missing, days: days, undertaking: undertaking))
    }
}

/// 告知承诺: the applicant's signed commitment (its text as signed) replaces proof of the ticked
/// materials; the department verifies afterwards.
public struct CommitmentForm: Sendable, Hashable {
    public static func tickField(_ code: String) -> String { "replaces_\(code)" }
    public static let textField = "commitment_text"
    public static let maximumTextCharacters = 4000

    public var text: String
    public var replaced: [String]

    public static func validate(_ fields: [String: String], requirements: [String]) -> Result<CommitmentForm, FormErrors> {
        let text = (fields[textField] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if text.count < 10 { return .failure(FormErrors(errors: [textField: "请录入申请人签署的承诺书内容"], values: fields)) }
        if text.count > maximumTextCharacters { return .failure(FormErrors(errors: [textField: "最多\(maximumTextCharacters)字"], values: fields)) }
        return .success(CommitmentForm(text: text, replaced: requirements.filter { fields[tickField($0)] != nil }))
    }
}

/// 审核转报: an item the city implements goes up with the county's first-review opinion.
public struct ForwardForm: Sendable, Hashable {
    public static let opinionField = "first_review_opinion"
    public static let maximumOpinionCharacters = 2000
    public var opinion: String

    public static func validate(_ fields: [String: String]) -> Result<ForwardForm, FormErrors> {
        let opinion = (fields[opinionField] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if opinion.count < 10 { return .failure(FormErrors(errors: [opinionField: "请写明具体的初审意见（查验了什么、结论如何）"], values: fields)) }
        if opinion.count > maximumOpinionCharacters { return .failure(FormErrors(errors: [opinionField: "最多\(maximumOpinionCharacters)字"], values: fields)) }
        return .success(ForwardForm(opinion: opinion))
    }
}
