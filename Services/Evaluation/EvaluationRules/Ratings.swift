import OneSealCore

/// Where a rating comes from (国办发〔2019〕51号): on-site per visit (一次一评), online per case
/// (一事一评), public comment (12345, media) and government inspection. Case names match the
/// `oneseal.evaluation.v1.RatingChannel` values.
public enum RatingChannel: String, Sendable, Hashable, Codable, CaseIterable {
    case onSite = "on_site"
    case online
    case publicComment = "public_comment"
    case governmentInspection = "government_inspection"

    /// The indicators this channel rates (GB/T 39734/39735-2020): online — overall, efficiency,
    /// guide accuracy, convenience, platform usability; on-site — overall, efficiency, skill,
    /// attitude. Public comment and inspection give an overall level only (E4).
    public var indicators: [Indicator] {
        switch self {
        case .online: [.overall, .efficiency, .guideAccuracy, .convenience, .platformUsability]
        case .onSite: [.overall, .efficiency, .skill, .attitude]
        case .publicComment, .governmentInspection: [.overall]
        }
    }

    /// On-site ratings are per visit, so they name the visit; the others are per case.
    public var isPerVisit: Bool { self == .onSite }

    public var chineseName: String {
        switch self {
        case .onSite: "现场评价"
        case .online: "网上评价"
        case .publicComment: "社会评价"
        case .governmentInspection: "政府督查评价"
        }
    }
}

/// The rated aspects; names match `oneseal.evaluation.v1.Indicator`.
public enum Indicator: String, Sendable, Hashable, Codable, CaseIterable {
    case overall
    case efficiency
    case guideAccuracy = "guide_accuracy"
    case convenience
    case platformUsability = "platform_usability"
    case skill
    case attitude

    public var chineseName: String {
        switch self {
        case .overall: "总体评价"
        case .efficiency: "办事效率"
        case .guideAccuracy: "办事指南准确性"
        case .convenience: "办事便捷度"
        case .platformUsability: "平台易用性"
        case .skill: "业务水平"
        case .attitude: "服务态度"
        }
    }
}

/// A rating as it arrives, before checking: raw numbers so that an out-of-range level is reported
/// (INVALID_ARGUMENT), not silently mapped. `level` 0 = not given (taken from the overall
/// indicator when that is given).
public struct RatingSubmission: Sendable, Hashable {
    public var channel: RatingChannel?
    public var level: Int
    /// Indicator nil = unspecified or unknown on the wire.
    public var indicators: [(indicator: Indicator?, level: Int)]
    public var comment: String
    public var tags: [String]
    public var anonymous: Bool
    public var raterName: String
    public var raterPhone: String
    public var visitID: String

    public init(
        channel: RatingChannel?, level: Int, indicators: [(indicator: Indicator?, level: Int)] = [], comment: String = "",
        tags: [String] = [], anonymous: Bool = false, raterName: String = "", raterPhone: String = "", visitID: String = ""
    ) {
        self.channel = channel
        self.level = level
        self.indicators = indicators
        self.comment = comment
        self.tags = tags
        self.anonymous = anonymous
        self.raterName = raterName
        self.raterPhone = raterPhone
        self.visitID = visitID
    }

    public static func == (lhs: RatingSubmission, rhs: RatingSubmission) -> Bool {
        lhs.channel == rhs.channel && lhs.level == rhs.level && lhs.comment == rhs.comment && lhs.tags == rhs.tags
            && lhs.anonymous == rhs.anonymous && lhs.raterName == rhs.raterName && lhs.raterPhone == rhs.raterPhone
            && lhs.visitID == rhs.visitID && lhs.indicators.map(\.indicator) == rhs.indicators.map(\.indicator)
            && lhs.indicators.map(\.level) == rhs.indicators.map(\.level)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(channel)
        hasher.combine(level)
        hasher.combine(comment)
        hasher.combine(visitID)
    }
}

/// A rating that passed every check.
public struct CheckedRating: Sendable, Hashable, Codable {
    public var channel: RatingChannel
    public var level: Rating
    public var indicators: [Indicator: Rating]
    public var comment: String
    public var tags: [String]
    public var anonymous: Bool
    public var raterName: String
    public var raterPhone: String
    /// The visit for on-site ratings, "" otherwise: with the case and channel, the rating's slot.
    public var visitKey: String

    public init(
        channel: RatingChannel, level: Rating, indicators: [Indicator: Rating], comment: String, tags: [String], anonymous: Bool,
        raterName: String, raterPhone: String, visitKey: String
    ) {
        self.channel = channel
        self.level = level
        self.indicators = indicators
        self.comment = comment
        self.tags = tags
        self.anonymous = anonymous
        self.raterName = raterName
        self.raterPhone = raterPhone
        self.visitKey = visitKey
    }

    public var isBad: Bool { level.isBadReview }
    /// Named bad reviews must be called back (100 %).
    public var callBackRequired: Bool { isBad && !anonymous }
}

public enum RatingRules {
    public static let maximumCommentLength = 1000
    public static let maximumTags = 10
    public static let maximumTagLength = 20

    /// Checks a submission and lists every problem (E3, E4):
    /// - the level is 1–5 (or taken from the overall indicator); indicator levels are 1–5;
    /// - each indicator belongs to the channel and appears once; the overall indicator equals the level;
    /// - on-site ratings name the visit (一次一评), other channels do not;
    /// - a bad review (1–2) says why: a comment or at least one tag;
    /// - named bad reviews give a phone number to call back; anonymous ratings carry no rater.
    public static func check(_ submission: RatingSubmission) throws(EvaluationRuleError) -> CheckedRating {
        var violations: [FieldViolation] = []
        guard let channel = submission.channel else {
            violations.append(FieldViolation(field: "channel", description: "required: on_site, online, public_comment or government_inspection", reason: "required"))
            throw .invalidArgument(violations + levelViolations(submission))
        }
        var indicators: [Indicator: Rating] = [:]
        for (index, score) in submission.indicators.enumerated() {
            let path = "indicators[\(index)]"
            guard let indicator = score.indicator else {
                violations.append(FieldViolation(field: "\(path).indicator", description: "required: one of \(channel.indicators.map(\.rawValue).joined(separator: ", "))", reason: "required"))
                continue
            }
            if !channel.indicators.contains(indicator) {
                violations.append(FieldViolation(
                    field: "\(path).indicator",
                    description: "\(indicator.rawValue) (\(indicator.chineseName)) is not rated on the \(channel.rawValue) channel; it rates \(channel.indicators.map(\.rawValue).joined(separator: ", "))",
                    reason: "indicator.channel"))
            }
            if indicators[indicator] != nil {
                violations.append(FieldViolation(field: "\(path).indicator", description: "\(indicator.rawValue) is given twice", reason: "indicator.duplicate"))
            }
            guard let level = Rating(level: score.level) else {
                violations.append(FieldViolation(field: "\(path).level", description: "must be 1–5, got \(score.level)", reason: "level.range"))
                continue
            }
            indicators[indicator] = level
        }
        var level: Rating?
        if submission.level == 0 {
            level = indicators[.overall]
            if level == nil { violations.append(FieldViolation(field: "level", description: "required: 1–5 (or an overall indicator)", reason: "required")) }
        } else if let given = Rating(level: submission.level) {
            level = given
            if let overall = indicators[.overall], overall != given {
                violations.append(FieldViolation(field: "indicators", description: "the overall indicator (\(overall.level)) differs from the level (\(given.level))", reason: "overall.mismatch"))
            }
        } else {
            violations.append(FieldViolation(field: "level", description: "must be 1–5, got \(submission.level)", reason: "level.range"))
        }
        let visit = submission.visitID.trimmingCharacters(in: .whitespaces)
        if channel.isPerVisit {
            if visit.isEmpty { violations.append(FieldViolation(field: "visit_id", description: "required: on-site ratings are per visit (一次一评)", reason: "required")) }
            else if visit.count > 64 { violations.append(FieldViolation(field: "visit_id", description: "at most 64 characters", reason: "length")) }
        } else if !visit.isEmpty {
            violations.append(FieldViolation(field: "visit_id", description: "only on-site ratings name a visit; \(channel.rawValue) ratings are one per case", reason: "visit.channel"))
        }
        if submission.comment.count > maximumCommentLength {
            violations.append(FieldViolation(field: "comment", description: "at most \(maximumCommentLength) characters, got \(submission.comment.count)", reason: "length"))
        }
        var tags: [String] = []
        if submission.tags.count > maximumTags {
            violations.append(FieldViolation(field: "tags", description: "at most \(maximumTags) tags", reason: "length"))
        }
        for (index, tag) in submission.tags.enumerated() {
            let trimmed = tag.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { violations.append(FieldViolation(field: "tags[\(index)]", description: "blank tag", reason: "required")) }
            else if trimmed.count > maximumTagLength { violations.append(FieldViolation(field: "tags[\(index)]", description: "at most \(maximumTagLength) characters", reason: "length")) }
            else if !tags.contains(trimmed) { tags.append(trimmed) }
        }
        let bad = level?.isBadReview ?? false
        if bad, submission.comment.isBlank, tags.isEmpty {
            violations.append(FieldViolation(field: "comment", description: "a bad review (level 1–2) says why: a comment or at least one tag", reason: "bad_review.reason"))
        }
        if submission.anonymous {
            if !submission.raterName.isEmpty { violations.append(FieldViolation(field: "rater_name", description: "an anonymous rating carries no rater", reason: "anonymous")) }
            if !submission.raterPhone.isEmpty { violations.append(FieldViolation(field: "rater_phone", description: "an anonymous rating carries no rater", reason: "anonymous")) }
        } else {
            if submission.raterName.count > 50 { violations.append(FieldViolation(field: "rater_name", description: "at most 50 characters", reason: "length")) }
            if !submission.raterPhone.isEmpty, !PhoneNumber.isValid(submission.raterPhone) {
                violations.append(FieldViolation(field: "rater_phone", description: "“\(submission.raterPhone)” is neither a mobile number (11 digits, 1…) nor a landline with area code", reason: "phone.format"))
            } else if bad, submission.raterPhone.isEmpty {
                violations.append(FieldViolation(field: "rater_phone", description: "a named bad review must be called back (100 %): give a phone number, or rate anonymously", reason: "required"))
            }
        }
        guard violations.isEmpty, let level else { throw .invalidArgument(violations) }
        return CheckedRating(
            channel: channel, level: level, indicators: indicators, comment: submission.comment, tags: tags,
            anonymous: submission.anonymous, raterName: submission.anonymous ? "" : submission.raterName,
            raterPhone: submission.anonymous ? "" : submission.raterPhone, visitKey: channel.isPerVisit ? visit : "")
    }

    private static func levelViolations(_ submission: RatingSubmission) -> [FieldViolation] {
        guard submission.level != 0, Rating(level: submission.level) == nil else { return [] }
        return [FieldViolation(field: "level", description: "must be 1–5, got \(submission.level)", reason: "level.range")]
    }

    /// A rating already on record for the same case and channel.
    public struct Existing: Sendable, Hashable {
        public var visitKey: String
        public var late: Bool
        public var ratedOn: CivilDate
        public init(visitKey: String, late: Bool, ratedOn: CivilDate) {
            self.visitKey = visitKey
            self.late = late
            self.ratedOn = ratedOn
        }
    }

    /// One rating per case per channel visit (E5), and one later rating (追评) added once the case
    /// is complete (decided, withdrawn, delivered or not accepted) — RULES.md: "One rating per case
    /// per channel visit; a late rating may be added." A slot holds at most two ratings: its first
    /// (at any time) and the 追评 after completion, whether the first came before completion or
    /// after it (E14; before, an applicant who first rated after completion could never add one).
    /// A rating made after completion is marked *late*. Anything else is ALREADY_EXISTS, and a
    /// rating removed on appeal still holds its place (else an upheld appeal would invite a second
    /// bad review).
    /// - Returns: whether the new rating is late.
    public static func slot(
        channel: RatingChannel, visitKey: String, existing: [Existing], completedOn: CivilDate?, subject: String
    ) throws(EvaluationRuleError) -> Bool {
        let same = existing.filter { $0.visitKey == visitKey }
        let where_ = visitKey.isEmpty ? "" : " (visit \(visitKey))"
        guard let first = same.first else { return completedOn != nil }
        if completedOn != nil, same.count == 1 {
            return true
        }
        let followUpUsed = same.count >= 2
        throw .alreadyExists("\(subject) was already rated on the \(channel.rawValue) channel\(where_) on \(first.ratedOn.iso8601)" + (followUpUsed ? "; its one late rating (追评) is used too" : ""))
    }
}

/// Chinese phone numbers as accepted for call-backs: 11-digit mobiles (1[3-9]…) and landlines
/// with an area code (0xx-xxxxxxxx, 0xxx-xxxxxxx, with or without the hyphen).
public enum PhoneNumber {
    public static func isValid(_ text: String) -> Bool {
        let digits = Array(text)
        if digits.count == 11, digits[0] == "1", ("3"..."9").contains(digits[1]), digits.allSatisfy(\.isASCIIDigit) { return true }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        if parts.count == 2 {
            let area = parts[0], number = parts[1]
            return area.first == "0" && (3...4).contains(area.count) && area.allSatisfy(\.isASCIIDigit)
                && (7...8).contains(number.count) && number.allSatisfy(\.isASCIIDigit)
        }
        return digits.first == "0" && (10...12).contains(digits.count) && digits.allSatisfy(\.isASCIIDigit)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
