import Foundation

/// Converts between `Date` and PostgreSQL's ISO text form without DateFormatter (which is slow and
/// locale-dependent). Sessions are set to `TimeZone=UTC, DateStyle=ISO`, so output is
/// `YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]]`.
public enum PostgresTimestamp {
    /// `timestamptz`'s binary form: microseconds since 2000-01-01 00:00:00 UTC, rounded as
    /// `format` rounds.
    static func microsecondsSince2000(_ date: Date) -> Int64 {
        microsecondsSince1970(date) - 946_684_800_000_000
    }

    /// `date` in whole microseconds (rounded: PostgreSQL keeps no finer).
    static func microsecondsSince1970(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// `date` as a `timestamptz` column holds it and a read answers it (whole microseconds).
    public static func asStored(_ date: Date) -> Date {
        parse(format(date)) ?? date
    }

    static func format(_ date: Date) -> String {
        var micros = microsecondsSince1970(date)
        var days = micros / 86_400_000_000
        micros %= 86_400_000_000
        if micros < 0 {
            micros += 86_400_000_000
            days -= 1
        }
        let (year, month, day) = civil(fromDays: days)
        let seconds = micros / 1_000_000
        let fraction = micros % 1_000_000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2)) \(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2)).\(pad(fraction, 6))+00"
    }

    static func parse(_ text: String) -> Date? {
        switch text {
        case "infinity": return .distantFuture
        case "-infinity": return .distantPast
        default: break
        }
        let b = Array(text.utf8)
        func number(_ start: Int, _ count: Int) -> Int64? {
            guard start + count <= b.count else { return nil }
            var value: Int64 = 0
            for i in start..<start + count {
                let d = b[i] &- UInt8(ascii: "0")
                guard d < 10 else { return nil }
                value = value * 10 + Int64(d)
            }
            return value
        }
        guard b.count >= 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            let year = number(0, 4), let month = number(5, 2), let day = number(8, 2)
        else { return nil }
        var micros = days(fromYear: year, month: month, day: day) * 86_400_000_000
        var i = 10
        if i < b.count, b[i] == UInt8(ascii: " ") || b[i] == UInt8(ascii: "T") {
            guard let h = number(i + 1, 2), let m = number(i + 4, 2), let s = number(i + 7, 2) else { return nil }
            micros += (h * 3600 + m * 60 + s) * 1_000_000
            i += 9
            if i < b.count, b[i] == UInt8(ascii: ".") {
                i += 1
                var fraction: Int64 = 0
                var digits = 0
                while i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") {
                    if digits < 6 {
                        fraction = fraction * 10 + Int64(b[i] - UInt8(ascii: "0"))
                        digits += 1
                    }
                    i += 1
                }
                while digits < 6 {
                    fraction *= 10
                    digits += 1
                }
                micros += fraction
            }
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
                let sign: Int64 = b[i] == UInt8(ascii: "+") ? 1 : -1
                guard let oh = number(i + 1, 2) else { return nil }
                var offset = oh * 3600
                if i + 3 < b.count, b[i + 3] == UInt8(ascii: ":"), let om = number(i + 4, 2) {
                    offset += om * 60
                }
                micros -= sign * offset * 1_000_000
            }
        }
        return Date(timeIntervalSince1970: Double(micros) / 1_000_000)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let s = String(value)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// Howard Hinnant's days_from_civil.
    private static func days(fromYear y0: Int64, month m: Int64, day d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Howard Hinnant's civil_from_days.
    private static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
