/// The rater of a rating link on the receipt (#18 item 7: 好差评 with no sign-in). The web front
/// checks the application number and query code with intake (the progress look-up's check, with its
/// lock-out) and then mints, with its applicant-only key (W16), a short-lived applicant token whose
/// subject is `receipt:<application number>` — never an identity code, which it does not know.
/// Such a token may rate that one application, online, anonymously; it matches no applicant index,
/// no holder and no submitter anywhere else, so it can do nothing more (docs/decisions.md W40).
public enum ReceiptRater {
    public static let prefix = "receipt:"

    /// The application number a receipt subject names, or nil for any other subject. Application
    /// numbers are digits only (22 on the receipt; 6–32 accepted), so no identity code (18
    /// characters, possibly ending in X) can be read as one, and the prefix is in no code.
    public static func applicationNumber(ofSubject subject: String) -> String? {
        guard subject.hasPrefix(prefix) else { return nil }
        let number = subject.dropFirst(prefix.count)
        guard (6...32).contains(number.count), number.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return String(number)
    }

    public static func subject(applicationNumber: String) -> String { prefix + applicationNumber }

    /// What a receipt rater may do: rate `ratedNumber` (the application the rating is about), on the
    /// online channel, anonymously (no name or phone, so no call-back: the link proves possession
    /// of a slip, not who holds it). The refusal's message, or nil when allowed.
    public static func refusal(subject: String, ratedNumber: String, channel: RatingChannel, anonymous: Bool) -> String? {
        guard let number = applicationNumber(ofSubject: subject) else { return "not a receipt subject" }
        if number != ratedNumber { return "a rating link rates only the application on its receipt" }
        if channel != .online { return "a rating link rates on the online channel only" }
        if !anonymous { return "a rating link's rating is anonymous: no rater name or phone" }
        return nil
    }
}
