import OneSealPrivacy

/// What the public pages show of a person. A licence holder that is an organisation (USCC) is on a
/// public register and shown in full; a natural person (resident ID) keeps only the first character
/// of the name, and the ID number arrives masked from the certificate service already.
public enum PublicDisplay {
    public static func holderName(_ name: String, isNaturalPerson: Bool) -> String {
        isNaturalPerson ? Masking.personName(name) : name
    }

    /// A civil date as Chinese pages print it: 2026年3月5日.
    public static func date(year: Int, month: Int, day: Int) -> String {
        guard year > 0 else { return "—" }
        return "\(year)年\(month)月\(day)日"
    }
}
