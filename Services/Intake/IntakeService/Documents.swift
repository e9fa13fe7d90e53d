import Foundation
import IntakeRules
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealStore

/// The dated written documents Art. 32 requires for every intake outcome (受理通知书, 补正材料
/// 通知书, 不予受理决定书), numbered per kind and year ("371302受〔2026〕12号") and rendered as
/// plain text the window prints under the agency's seal.
struct DocumentPrinter {
    let node: String
    let agency: String

    enum Kind: String {
        case receipt = "受"
        case correction = "补"
        case notAccepted = "不受"

        var title: String {
            switch self {
            case .receipt: "受理通知书"
            case .correction: "补正材料通知书（一次性告知）"
            case .notAccepted: "不予受理决定书"
            }
        }
    }

    /// Takes the next number of `kind` for the year in the caller's transaction and renders the body.
    func issue(_ kind: Kind, on date: CivilDate, applicationNumber: String, body: [String], in transaction: PostgresConnection) async throws -> Common_IssuedDocument {
        let serial = try await ApplicationStore.nextNumber(scope: "document:\(node):\(kind.rawValue):\(date.year)", in: transaction)
        let number = "\(node)\(kind.rawValue)〔\(date.year)〕\(serial)号"
        let text = ([agency, kind.title, number, "", "申请编号：\(applicationNumber)"] + body + ["", agency, "\(date.year)年\(date.month)月\(date.day)日"])
            .joined(separator: "\n")
        var document = Common_IssuedDocument()
        document.documentID = "\(applicationNumber)-\(kind.rawValue == "受" ? "R" : kind.rawValue == "补" ? "C" : "N")\(serial)"
        document.number = number
        document.title = kind.title
        document.issuedOn = Common_CivilDate(date)
        document.issuingAgency = agency
        document.content = Data(text.utf8)
        document.contentType = "text/plain; charset=utf-8"
        return document
    }
}
