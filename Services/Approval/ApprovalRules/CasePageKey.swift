import OneSealCore

/// Where a page of the case list ends, carried as the opaque page token: the last row's sort key
/// (due date, acceptance date, case number). The next page starts after that key (keyset
/// paging), so a page costs the same on the 200th page as on the first and a case filed meanwhile
/// neither repeats a row nor skips one — an offset did both, and counted and sorted every match.
///
/// A case without a due date (an instant approval has none) sorts after every dated one.
public struct CasePageKey: Sendable, Hashable {
    public var dueOn: CivilDate?
    public var acceptedOn: CivilDate
    public var caseNumber: String

    /// A case number is at most this long on the wire (FieldLimits' identifier size).
    public static let maximumCaseNumberLength = 64

    public init(dueOn: CivilDate?, acceptedOn: CivilDate, caseNumber: String) {
        self.dueOn = dueOn
        self.acceptedOn = acceptedOn
        self.caseNumber = caseNumber
    }

    /// `c1.` + base64url of "due|accepted|number" ("-" for no due date).
    public var token: String {
        "c1." + Base64URL.encode(Array("\(dueOn?.iso8601 ?? "-")|\(acceptedOn.iso8601)|\(caseNumber)".utf8))
    }

    /// The key a token names, or nil when the text is not one this service issued.
    public init?(token: String) {
        guard token.utf8.count <= 200, token.hasPrefix("c1."), let bytes = Base64URL.decode(token.dropFirst(3)),
              let text = String(validating: bytes, as: UTF8.self) else { return nil }
        let parts = text.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var due: CivilDate?
        if parts[0] != "-" {
            guard let date = try? CivilDate(parsing: parts[0]) else { return nil }
            due = date
        }
        guard let accepted = try? CivilDate(parsing: parts[1]) else { return nil }
        let number = String(parts[2])
        guard !number.isEmpty, number.count <= Self.maximumCaseNumberLength,
              number.unicodeScalars.allSatisfy({ $0.properties.generalCategory != .control }) else { return nil }
        self.init(dueOn: due, acceptedOn: accepted, caseNumber: number)
    }
}
