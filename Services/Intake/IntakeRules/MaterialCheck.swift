/// The automatic check of what the applicant provided against the pinned item versions: every
/// missing required material and every defective provided one, each with its reason. It pre-fills
/// the correction notice and is what the one-time-notice rule compares the notice with.
public struct MaterialCheck: Sendable, Hashable, Codable {
    /// Every problem, sorted by item then material; shared materials of a bundle appear once.
    public let problems: [MaterialProblem]

    /// True when nothing is missing or defective: the clerk may accept.
    public var isComplete: Bool { problems.isEmpty }

    /// The materials with a problem, as compared with a notice or a deficiency list.
    public var problemKeys: Set<MaterialKey> { Set(problems.map(\.key)) }

    public init(problems: [MaterialProblem]) { self.problems = problems }

    /// Checks `provided` against every item (one item, or a bundle). A material listed with the
    /// same code by every item of a bundle is shared: checked once and reported once with an empty
    /// implementation code.
    public init(items: [CatalogueItem], provided: [ProvidedMaterial]) {
        var perItem: [(item: String, problem: MaterialProblem)] = []
        for item in items {
            for requirement in item.materials {
                let offered = provided.filter { $0.requirementCode == requirement.code && $0.serves(item.implementationCode) }
                if offered.isEmpty {
                    if requirement.required {
                        perItem.append((item.implementationCode, MaterialCheck.missing(requirement, item: item.implementationCode)))
                    }
                    continue
                }
                // Several uploads for one requirement: the best one counts (a later upload replaces
                // an earlier one in the service; here any sound one satisfies the requirement).
                let findings = offered.map { MaterialCheck.defects(of: $0, against: requirement, item: item.implementationCode) }
                if findings.contains(where: \.isEmpty) { continue }
                perItem.append(contentsOf: findings[0].map { (item.implementationCode, $0) })
            }
        }
        // Collapse a problem that every item of the bundle has into one shared problem.
        let allItems = Set(items.map(\.implementationCode))
        var result: [MaterialProblem] = []
        var done = Set<String>()
        for (_, problem) in perItem {
            let signature = "\(problem.requirementCode)|\(problem.kind.rawValue)"
            let sameAcrossItems = perItem.filter { $0.problem.requirementCode == problem.requirementCode && $0.problem.kind == problem.kind }
            if allItems.count > 1, Set(sameAcrossItems.map(\.item)) == allItems {
                if done.insert(signature).inserted {
                    var shared = problem
                    shared.implementationCode = ""
                    result.append(shared)
                }
            } else {
                result.append(problem)
            }
        }
        problems = result.sorted { ($0.key, $0.kind.rawValue) < ($1.key, $1.kind.rawValue) }
    }

    static func missing(_ requirement: Material, item: String) -> MaterialProblem {
        var fix = "请提交“\(requirement.name)”"
        let forms = requirement.forms.map(\.chineseName).joined(separator: "或")
        if !forms.isEmpty { fix += "（\(forms)" + (requirement.copies > 0 ? "，\(requirement.copies)份）" : "）") }
        if !requirement.licenceTypeCode.isEmpty { fix += "；可出示电子证照代替" }
        return MaterialProblem(implementationCode: item, requirementCode: requirement.code, materialName: requirement.name, kind: .missing, howToFix: fix)
    }

    /// The defects of one provided material; empty when it satisfies the requirement.
    static func defects(of material: ProvidedMaterial, against requirement: Material, item: String) -> [MaterialProblem] {
        func problem(_ kind: MaterialProblemKind, _ fix: String) -> MaterialProblem {
            MaterialProblem(implementationCode: item, requirementCode: requirement.code, materialName: requirement.name, kind: kind, howToFix: fix)
        }
        if let licence = material.electronicLicence {
            guard !requirement.licenceTypeCode.isEmpty else {
                return [problem(.wrongForm, "“\(requirement.name)”不能以电子证照代替，请提交\(requirement.forms.map(\.chineseName).joined(separator: "或"))")]
            }
            if !licence.licenceTypeCode.isEmpty, licence.licenceTypeCode.uppercased() != requirement.licenceTypeCode.uppercased() {
                return [problem(.inconsistent, "所出示电子证照的类型（\(licence.licenceTypeCode)）不是“\(requirement.name)”要求的类型（\(requirement.licenceTypeCode)）")]
            }
            guard material.licenceVerified else {
                let detail = material.licenceVerificationDetail.lowercased()
                if detail.contains("expired") || detail.contains("revoked") || detail.contains("cancelled") {
                    return [problem(.expired, "电子证照已失效（\(material.licenceVerificationDetail)），请提交有效的“\(requirement.name)”")]
                }
                let why = material.licenceVerificationDetail.isEmpty ? "" : "（\(material.licenceVerificationDetail)）"
                return [problem(.unverifiable, "电子证照未能核验\(why)，请提交“\(requirement.name)”")]
            }
            return []
        }
        var found: [MaterialProblem] = []
        guard let form = material.form else {
            return [problem(.wrongForm, "未注明“\(requirement.name)”的形式（原件、复印件或电子件）")]
        }
        if !requirement.forms.contains(form) {
            found.append(problem(.wrongForm, "“\(requirement.name)”须为\(requirement.forms.map(\.chineseName).joined(separator: "或"))，所交为\(form.chineseName)"))
        }
        if material.fileID?.isBlank ?? true {
            found.append(problem(.incomplete, "“\(requirement.name)”未附文件或扫描件"))
        } else if form.isPaper, requirement.forms.contains(form), material.copies < requirement.copies {
            found.append(problem(.incomplete, "“\(requirement.name)”须\(requirement.copies)份，所交\(material.copies)份"))
        }
        return found
    }
}

extension MaterialForm {
    /// As printed on notices.
    public var chineseName: String {
        switch self {
        case .original: "原件"
        case .copy: "复印件"
        case .electronic: "电子件"
        }
    }
}
