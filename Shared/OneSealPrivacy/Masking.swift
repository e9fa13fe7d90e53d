/// Masks personal data for roles that do not need the full value (个人信息保护法: minimum
/// necessary). The shapes follow what Chinese government portals print, so a citizen recognises
/// their own record: "3713**********1234", "138****5678", "张*", "临沂**有限公司".
public enum Masking {
    /// ID numbers: the first 4 and last 4 characters kept (region prefix, check digits); short
    /// numbers keep only the last 2.
    public static func idNumber(_ value: String) -> String {
        let characters = Array(value)
        guard !characters.isEmpty else { return "" }
        if characters.count <= 8 {
            return String(repeating: "*", count: max(characters.count - 2, 0)) + String(characters.suffix(2))
        }
        return String(characters.prefix(4)) + String(repeating: "*", count: characters.count - 8) + String(characters.suffix(4))
    }

    /// Phone numbers: mobile "138****5678"; landlines keep the area code and the last 2 digits.
    public static func phone(_ value: String) -> String {
        let characters = Array(value)
        guard !characters.isEmpty else { return "" }
        if characters.count == 11, characters.allSatisfy(\.isNumber) {
            return String(characters.prefix(3)) + "****" + String(characters.suffix(4))
        }
        if let dash = characters.firstIndex(of: "-") {
            let rest = characters[(dash + 1)...]
            return String(characters[...dash]) + String(repeating: "*", count: max(rest.count - 2, 0)) + String(rest.suffix(2))
        }
        return String(repeating: "*", count: max(characters.count - 2, 0)) + String(characters.suffix(2))
    }

    /// A person's name keeps its first character ("张*", "欧阳**").
    public static func personName(_ value: String) -> String {
        let characters = Array(value)
        guard let first = characters.first else { return "" }
        return String(first) + String(repeating: "*", count: max(characters.count - 1, 1))
    }

    /// An organisation's name keeps its first 2 and last 4 characters ("临沂**有限公司"); names are
    /// public registers, but the public progress look-up still shows no more than needed.
    public static func organisationName(_ value: String) -> String {
        let characters = Array(value)
        guard characters.count > 6 else { return personName(value) }
        return String(characters.prefix(2)) + "**" + String(characters.suffix(4))
    }

    /// An address keeps its first 6 characters (province, city, district).
    public static func address(_ value: String) -> String {
        let characters = Array(value)
        guard characters.count > 6 else { return value.isEmpty ? "" : "****" }
        return String(characters.prefix(6)) + "****"
    }
}
