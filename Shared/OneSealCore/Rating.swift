/// A rating of a service (好差评, 国办发〔2019〕51号; GB/T 39734-2020): five levels, the raw value
/// is the level so it can be stored and averaged as a number.
public enum Rating: Int, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case veryDissatisfied = 1
    case dissatisfied = 2
    case basicallySatisfied = 3
    case satisfied = 4
    case verySatisfied = 5

    /// The level 1…5, or nil for any other number.
    public init?(level: Int) { self.init(rawValue: level) }

    public var level: Int { rawValue }

    /// Levels 1 and 2 are bad reviews (差评): each opens a rectification ticket.
    public var isBadReview: Bool { rawValue <= 2 }

    public var chineseName: String {
        switch self {
        case .verySatisfied: "非常满意"
        case .satisfied: "满意"
        case .basicallySatisfied: "基本满意"
        case .dissatisfied: "不满意"
        case .veryDissatisfied: "非常不满意"
        }
    }

    public static func < (lhs: Rating, rhs: Rating) -> Bool { lhs.rawValue < rhs.rawValue }
}
