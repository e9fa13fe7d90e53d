/// Joins a parent path and a child field name: `joinPath("applicant", "name")` = "applicant.name";
/// an empty parent gives the child alone.
func joinPath(_ parent: String, _ child: String) -> String {
    parent.isEmpty ? child : "\(parent).\(child)"
}

/// `indexPath("materials", 2)` = "materials[2]".
func indexPath(_ parent: String, _ index: Int) -> String { "\(parent)[\(index)]" }

extension String {
    /// True when the text has nothing but white space: a blank name is as missing as no name.
    var isBlank: Bool { allSatisfy(\.isWhitespace) }
}
