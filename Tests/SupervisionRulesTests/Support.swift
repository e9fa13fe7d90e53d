import Foundation
import OneSealCore
@testable import SupervisionRules

/// Real dates on the built-in 2025/2026 calendar, and instants at a Beijing wall-clock time.
enum Dates {
    static func day(_ y: Int, _ m: Int, _ d: Int) -> CivilDate { CivilDate(year: y, month: m, day: d)! }
    static func at(_ y: Int, _ m: Int, _ d: Int, _ hour: Int, _ minute: Int = 0) -> Date {
        day(y, m, d).startOfDayInstant().addingTimeInterval(Double(hour * 3600 + minute * 60))
    }
    static let calendar = WorkingDayCalendar.china
}

func violations(_ body: () throws -> Void) -> [String] {
    do {
        try body()
        return []
    } catch let error as SupervisionRuleError {
        if case .invalidArgument(let list) = error { return list.map(\.field) }
        return ["<\(error)>"]
    } catch {
        return ["<\(error)>"]
    }
}
