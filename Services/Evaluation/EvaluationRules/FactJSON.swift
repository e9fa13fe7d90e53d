import OneSealCore

/// Reads the read model's facts from the JSON text PostgreSQL returns for `fact::text`, without
/// Codable. A node's first whole load reads every fact it keeps — two million at a county that
/// already holds a million closed cases — and `JSONDecoder` spent ≈ 16 µs on each, half a minute
/// of a core before the director's board could be drawn (#21, decision 68).
///
/// The reader accepts only what it is sure of and answers nil for anything else, and the caller
/// then decodes that row with `JSONDecoder`: so a row reads the same either way. "Anything else" is
/// a key the reader does not know (a field added to a fact type, which `JSONEncoder` writes —
/// `FactJSONTests` checks the reader knows every stored property, so such a row is only slow),
/// a missing key that Codable requires, a number with a fraction or exponent, malformed text.
///
/// Text that repeats across facts — node and item codes and names, departments, staff — is kept
/// once (`StringPool`): a county's million cases name a dozen items and a few hundred officers.
public enum FactJSON {
    struct Unreadable: Error {}

    /// A fact type the reader knows.
    public protocol Readable: Decodable {
        static func read(_ bytes: [UInt8], pool: inout StringPool) -> Self?
    }

    public static func application(_ bytes: [UInt8], pool: inout StringPool) -> ApplicationFact? {
        read(bytes) { scanner in try scanner.application(pool: &pool) }
    }

    public static func `case`(_ bytes: [UInt8], pool: inout StringPool) -> CaseFact? {
        read(bytes) { scanner in try scanner.case(pool: &pool) }
    }

    public static func push(_ bytes: [UInt8], pool: inout StringPool) -> PushFact? {
        read(bytes) { scanner in try scanner.push(pool: &pool) }
    }

    public static func consultation(_ bytes: [UInt8], pool: inout StringPool) -> ConsultationFact? {
        read(bytes) { scanner in try scanner.consultation(pool: &pool) }
    }

    private static func read<T>(_ bytes: [UInt8], _ body: (inout Scanner) throws -> T) -> T? {
        bytes.withUnsafeBufferPointer { buffer in
            var scanner = Scanner(buffer)
            guard let value = try? body(&scanner), scanner.atEnd() else { return nil }
            return value
        }
    }

    /// The names a fact type's reader knows, in the order of the type's stored properties
    /// (`FactJSONTests` compares them with `Mirror`).
    static let applicationKeys: [StaticString] = [
        "id", "number", "node", "nodeName", "windowID", "channel", "submittedOn", "acceptedOn", "acceptanceKind", "acceptedBy",
        "correctionOn", "notAcceptedOn", "withdrawnOn", "forwardedOn", "deliveredOn", "visits", "items", "itemNames",
        "itemDepartments", "caseIDs", "applicantIndex",
    ]
    static let caseKeys: [StaticString] = [
        "id", "number", "applicationID", "applicationNumber", "implementationCode", "itemName", "acceptingNode", "decidingNode",
        "nodeNames", "department", "officer", "acceptedOn", "openedOn", "clockStartedOn", "dueOn", "workingDaysTotal", "suspended",
        "extended", "returns", "decidedOn", "granted", "onTime", "workingDaysTaken", "withdrawnOn", "revokedOn", "cancelledOn",
        "licenceIssuedOn", "licenceWorkingDays", "applicantIndex",
    ]
    static let pushKeys: [StaticString] = [
        "id", "node", "department", "implementationCode", "caseID", "pushedOn", "claimDueOn", "claimedOn", "rejectedOn",
        "claimOverdue", "findings",
    ]
    static let consultationKeys: [StaticString] = ["id", "node", "implementationCode", "windowID", "on"]
    static let staffKeys: [StaticString] = ["subject", "name"]
    static let departmentKeys: [StaticString] = ["code", "name"]

    /// Keeps one copy of each text longer than Swift keeps inline (15 UTF-8 bytes), up to
    /// `capacity` different ones (then new ones are kept as they come).
    public struct StringPool {
        private var kept: [String: String] = [:]
        public let capacity: Int

        /// `capacity` 0: keeps nothing (one row read on its own).
        public init(capacity: Int = 100_000) { self.capacity = capacity }

        public mutating func intern(_ text: String) -> String {
            guard text.utf8.count > 15 else { return text }
            if let known = kept[text] { return known }
            if kept.count < capacity { kept[text] = text }
            return text
        }
    }

    /// A cursor over one JSON text.
    struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func atEnd() -> Bool {
            skipSpace()
            return index == bytes.count
        }

        mutating func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x0A, 0x0D, 0x09: index += 1
                default: return
                }
            }
        }

        mutating func take(_ byte: UInt8) throws(Unreadable) {
            skipSpace()
            guard index < bytes.count, bytes[index] == byte else { throw Unreadable() }
            index += 1
        }

        mutating func takeIf(_ byte: UInt8) -> Bool {
            skipSpace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        /// Reads `open` element `,` element … `close`, calling `element` with the scanner at each.
        mutating func elements(_ open: UInt8, _ close: UInt8, _ element: (inout Scanner) throws -> Void) throws {
            try take(open)
            if takeIf(close) { return }
            repeat { try element(&self) } while takeIf(UInt8(ascii: ","))
            try take(close)
        }

        /// Reads `{ "key": value, … }`, calling `member` with the position of the key in `keys` and
        /// the scanner at its value; throws for a key not in `keys`. Answers the keys seen, one bit
        /// per position.
        mutating func object(_ keys: [StaticString], _ member: (inout Scanner, Int) throws -> Void) throws -> UInt64 {
            var seen: UInt64 = 0
            try elements(UInt8(ascii: "{"), UInt8(ascii: "}")) { scanner in
                let key = try scanner.plainKey()
                guard let position = keys.firstIndex(where: { Self.equal(scanner.bytes, key, $0) }) else { throw Unreadable() }
                try scanner.take(UInt8(ascii: ":"))
                try member(&scanner, position)
                seen |= 1 << UInt64(position)
            }
            return seen
        }

        /// A key without escapes (every key of the fact types), as a range of the text.
        mutating func plainKey() throws(Unreadable) -> Range<Int> {
            try take(UInt8(ascii: "\""))
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                guard bytes[index] != UInt8(ascii: "\\") else { throw Unreadable() }
                index += 1
            }
            guard index < bytes.count else { throw Unreadable() }
            index += 1
            return start..<(index - 1)
        }

        static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ name: StaticString) -> Bool {
            guard range.count == name.utf8CodeUnitCount else { return false }
            let pointer = name.utf8Start
            for offset in 0..<range.count where bytes[range.lowerBound + offset] != pointer[offset] { return false }
            return true
        }

        /// A JSON string, escapes resolved.
        mutating func string() throws(Unreadable) -> String {
            try take(UInt8(ascii: "\""))
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<(index - 1)]), as: UTF8.self)
                }
                if byte == UInt8(ascii: "\\") { return try escapedString(from: start) }
                guard byte >= 0x20 else { throw Unreadable() }
                index += 1
            }
            throw Unreadable()
        }

        private mutating func escapedString(from start: Int) throws(Unreadable) -> String {
            var text = Array(bytes[start..<index])
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(decoding: text, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { throw Unreadable() }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escape)
                    case UInt8(ascii: "b"): text.append(0x08)
                    case UInt8(ascii: "f"): text.append(0x0C)
                    case UInt8(ascii: "n"): text.append(0x0A)
                    case UInt8(ascii: "r"): text.append(0x0D)
                    case UInt8(ascii: "t"): text.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800...0xDBFF).contains(scalar) {
                            try take(UInt8(ascii: "\\"))
                            guard index < bytes.count, bytes[index] == UInt8(ascii: "u") else { throw Unreadable() }
                            index += 1
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw Unreadable() }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let unicode = Unicode.Scalar(scalar) else { throw Unreadable() }
                        text.append(contentsOf: String(Character(unicode)).utf8)
                    default:
                        throw Unreadable()
                    }
                default:
                    guard byte >= 0x20 else { throw Unreadable() }
                    text.append(byte)
                }
            }
            throw Unreadable()
        }

        private mutating func hex4() throws(Unreadable) -> UInt32 {
            guard index + 4 <= bytes.count else { throw Unreadable() }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                index += 1
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw Unreadable()
                }
                value = value << 4 | UInt32(digit)
            }
            return value
        }

        /// An integer written without fraction or exponent (what `JSONEncoder` and PostgreSQL
        /// write for a Swift `Int`).
        mutating func int() throws(Unreadable) -> Int {
            skipSpace()
            let negative = index < bytes.count && bytes[index] == UInt8(ascii: "-")
            if negative { index += 1 }
            let start = index
            // Accumulated below zero, so Int.min reads too.
            var value = 0
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.subtractingReportingOverflow(Int(bytes[index] - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { throw Unreadable() }
                value = sum
                index += 1
            }
            guard index > start, index - start == 1 || bytes[start] != UInt8(ascii: "0") else { throw Unreadable() }
            if index < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[index]) { throw Unreadable() }
            if negative { return value }
            guard value != .min else { throw Unreadable() }
            return -value
        }

        mutating func bool() throws(Unreadable) -> Bool {
            if literal("true") { return true }
            if literal("false") { return false }
            throw Unreadable()
        }

        /// Consumes `null` if it is next (an Optional's nil).
        mutating func null() -> Bool { literal("null") }

        private mutating func literal(_ word: StaticString) -> Bool {
            skipSpace()
            let end = index + word.utf8CodeUnitCount
            guard end <= bytes.count, Self.equal(bytes, index..<end, word) else { return false }
            index = end
            return true
        }

        /// A date: a string of ten bytes without escapes is parsed in place (a fact holds up to
        /// nine), any other as a string; both as `CivilDate` parses text.
        mutating func date() throws -> CivilDate {
            skipSpace()
            let start = index
            guard start + 12 <= bytes.count, bytes[start] == UInt8(ascii: "\""), bytes[start + 11] == UInt8(ascii: "\""),
                  !bytes[(start + 1)..<(start + 11)].contains(UInt8(ascii: "\\"))
            else { return try CivilDate(parsing: try string()) }
            index = start + 12
            return try CivilDate(utf8: UnsafeBufferPointer(rebasing: bytes[(start + 1)..<(start + 11)]))
        }

        mutating func optionalDate() throws -> CivilDate? { null() ? nil : try date() }

        mutating func strings(pool: inout StringPool) throws -> [String] {
            var values: [String] = []
            try elements(UInt8(ascii: "["), UInt8(ascii: "]")) { scanner in values.append(pool.intern(try scanner.string())) }
            return values
        }

        /// An object of any keys (item codes, node codes), each value read by `value`.
        mutating func map<Value>(_ value: (inout Scanner, inout StringPool) throws -> Value, pool: inout StringPool) throws -> [String: Value] {
            var values: [String: Value] = [:]
            try elements(UInt8(ascii: "{"), UInt8(ascii: "}")) { scanner in
                let key = pool.intern(try scanner.string())
                try scanner.take(UInt8(ascii: ":"))
                values[key] = try value(&scanner, &pool)
            }
            return values
        }

        mutating func staff(pool: inout StringPool) throws -> StaffRef? {
            try textPair(FactJSON.staffKeys, pool: &pool).map { StaffRef(subject: $0, name: $1) }
        }

        mutating func department(pool: inout StringPool) throws -> Department? {
            try textPair(FactJSON.departmentKeys, pool: &pool).map { Department(code: $0, name: $1) }
        }

        /// `null`, or an object of exactly the two text `keys` (a `StaffRef`, a `Department`).
        private mutating func textPair(_ keys: [StaticString], pool: inout StringPool) throws -> (String, String)? {
            if null() { return nil }
            var values = ("", "")
            let seen = try object(keys) { scanner, key in
                if key == 0 { values.0 = pool.intern(try scanner.string()) } else { values.1 = pool.intern(try scanner.string()) }
            }
            guard seen == 0b11 else { throw Unreadable() }
            return values
        }

        /// The bits of the keys Codable requires (the non-Optional properties).
        static func required(_ keys: [StaticString], optional: Set<String>) -> UInt64 {
            var mask: UInt64 = 0
            for (position, key) in keys.enumerated() where !optional.contains(key.description) { mask |= 1 << UInt64(position) }
            return mask
        }

        mutating func application(pool: inout StringPool) throws -> ApplicationFact {
            var fact = ApplicationFact(id: "")
            let seen = try object(FactJSON.applicationKeys) { scanner, key in
                switch key {
                case 0: fact.id = try scanner.string()
                case 1: fact.number = try scanner.string()
                case 2: fact.node = pool.intern(try scanner.string())
                case 3: fact.nodeName = pool.intern(try scanner.string())
                case 4: fact.windowID = pool.intern(try scanner.string())
                case 5: fact.channel = pool.intern(try scanner.string())
                case 6: fact.submittedOn = try scanner.optionalDate()
                case 7: fact.acceptedOn = try scanner.optionalDate()
                case 8: fact.acceptanceKind = pool.intern(try scanner.string())
                case 9: fact.acceptedBy = try scanner.staff(pool: &pool)
                case 10: fact.correctionOn = try scanner.optionalDate()
                case 11: fact.notAcceptedOn = try scanner.optionalDate()
                case 12: fact.withdrawnOn = try scanner.optionalDate()
                case 13: fact.forwardedOn = try scanner.optionalDate()
                case 14: fact.deliveredOn = try scanner.optionalDate()
                case 15: fact.visits = try scanner.int()
                case 16: fact.items = try scanner.strings(pool: &pool)
                case 17: fact.itemNames = try scanner.map({ scanner, pool in pool.intern(try scanner.string()) }, pool: &pool)
                case 18:
                    fact.itemDepartments = try scanner.map({ scanner, pool in
                        guard let department = try scanner.department(pool: &pool) else { throw Unreadable() }
                        return department
                    }, pool: &pool)
                case 19: fact.caseIDs = try scanner.strings(pool: &pool)
                default: fact.applicantIndex = try scanner.string()
                }
            }
            guard seen & Self.applicationRequired == Self.applicationRequired else { throw Unreadable() }
            return fact
        }

        static let applicationRequired = required(FactJSON.applicationKeys, optional: [
            "submittedOn", "acceptedOn", "acceptedBy", "correctionOn", "notAcceptedOn", "withdrawnOn", "forwardedOn", "deliveredOn",
        ])

        mutating func `case`(pool: inout StringPool) throws -> CaseFact {
            var fact = CaseFact(id: "")
            let seen = try object(FactJSON.caseKeys) { scanner, key in
                switch key {
                case 0: fact.id = try scanner.string()
                case 1: fact.number = try scanner.string()
                case 2: fact.applicationID = try scanner.string()
                case 3: fact.applicationNumber = try scanner.string()
                case 4: fact.implementationCode = pool.intern(try scanner.string())
                case 5: fact.itemName = pool.intern(try scanner.string())
                case 6: fact.acceptingNode = pool.intern(try scanner.string())
                case 7: fact.decidingNode = pool.intern(try scanner.string())
                case 8: fact.nodeNames = try scanner.map({ scanner, pool in pool.intern(try scanner.string()) }, pool: &pool)
                case 9: fact.department = try scanner.department(pool: &pool)
                case 10: fact.officer = try scanner.staff(pool: &pool)
                case 11: fact.acceptedOn = try scanner.optionalDate()
                case 12: fact.openedOn = try scanner.optionalDate()
                case 13: fact.clockStartedOn = try scanner.optionalDate()
                case 14: fact.dueOn = try scanner.optionalDate()
                case 15: fact.workingDaysTotal = try scanner.int()
                case 16: fact.suspended = try scanner.bool()
                case 17: fact.extended = try scanner.bool()
                case 18: fact.returns = try scanner.int()
                case 19: fact.decidedOn = try scanner.optionalDate()
                case 20: fact.granted = scanner.null() ? nil : try scanner.bool()
                case 21: fact.onTime = scanner.null() ? nil : try scanner.bool()
                case 22: fact.workingDaysTaken = scanner.null() ? nil : try scanner.int()
                case 23: fact.withdrawnOn = try scanner.optionalDate()
                case 24: fact.revokedOn = try scanner.optionalDate()
                case 25: fact.cancelledOn = try scanner.optionalDate()
                case 26: fact.licenceIssuedOn = try scanner.optionalDate()
                case 27: fact.licenceWorkingDays = scanner.null() ? nil : try scanner.int()
                default: fact.applicantIndex = try scanner.string()
                }
            }
            guard seen & Self.caseRequired == Self.caseRequired else { throw Unreadable() }
            return fact
        }

        static let caseRequired = required(FactJSON.caseKeys, optional: [
            "department", "officer", "acceptedOn", "openedOn", "clockStartedOn", "dueOn", "decidedOn", "granted", "onTime",
            "workingDaysTaken", "withdrawnOn", "revokedOn", "cancelledOn", "licenceIssuedOn", "licenceWorkingDays",
        ])

        mutating func push(pool: inout StringPool) throws -> PushFact {
            var fact = PushFact(id: "")
            let seen = try object(FactJSON.pushKeys) { scanner, key in
                switch key {
                case 0: fact.id = try scanner.string()
                case 1: fact.node = pool.intern(try scanner.string())
                case 2: fact.department = try scanner.department(pool: &pool)
                case 3: fact.implementationCode = pool.intern(try scanner.string())
                case 4: fact.caseID = try scanner.string()
                case 5: fact.pushedOn = try scanner.optionalDate()
                case 6: fact.claimDueOn = try scanner.optionalDate()
                case 7: fact.claimedOn = try scanner.optionalDate()
                case 8: fact.rejectedOn = try scanner.optionalDate()
                case 9: fact.claimOverdue = try scanner.bool()
                default: fact.findings = try scanner.int()
                }
            }
            guard seen & Self.pushRequired == Self.pushRequired else { throw Unreadable() }
            return fact
        }

        static let pushRequired = required(FactJSON.pushKeys, optional: ["department", "pushedOn", "claimDueOn", "claimedOn", "rejectedOn"])

        mutating func consultation(pool: inout StringPool) throws -> ConsultationFact {
            var id = "", node = "", code = "", window = ""
            var on: CivilDate?
            let seen = try object(FactJSON.consultationKeys) { scanner, key in
                switch key {
                case 0: id = try scanner.string()
                case 1: node = pool.intern(try scanner.string())
                case 2: code = pool.intern(try scanner.string())
                case 3: window = pool.intern(try scanner.string())
                default: on = try scanner.date()
                }
            }
            guard seen == 0b11111, let on else { throw Unreadable() }
            return ConsultationFact(id: id, node: node, implementationCode: code, windowID: window, on: on)
        }
    }
}

extension ApplicationFact: FactJSON.Readable {
    public static func read(_ bytes: [UInt8], pool: inout FactJSON.StringPool) -> ApplicationFact? { FactJSON.application(bytes, pool: &pool) }
}

extension CaseFact: FactJSON.Readable {
    public static func read(_ bytes: [UInt8], pool: inout FactJSON.StringPool) -> CaseFact? { FactJSON.case(bytes, pool: &pool) }
}

extension PushFact: FactJSON.Readable {
    public static func read(_ bytes: [UInt8], pool: inout FactJSON.StringPool) -> PushFact? { FactJSON.push(bytes, pool: &pool) }
}

extension ConsultationFact: FactJSON.Readable {
    public static func read(_ bytes: [UInt8], pool: inout FactJSON.StringPool) -> ConsultationFact? { FactJSON.consultation(bytes, pool: &pool) }
}
