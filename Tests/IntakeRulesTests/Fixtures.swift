import Foundation
import OneSealCore
import Testing

@testable import IntakeRules

/// A date literal; traps on a typo so a bad literal cannot pass silently.
func day(_ text: String) -> CivilDate {
    do { return try CivilDate(parsing: text) } catch { fatalError("bad test date \(text): \(error)") }
}

enum Fixtures {
    static let businessLicenceType = "91110000600037341L001"

    /// A county food business licence: M01 and M02 core, M03 non-core (容缺 allowed), M04 optional.
    static func foodLicence(commitmentAllowed: Bool = false, deficiencyAllowed: Bool = true, code: String = "000117005000371302001") -> CatalogueItem {
        CatalogueItem(
            basicCode: "000117005000", implementationCode: code, name: "食品经营许可",
            legalBasis: "《中华人民共和国食品安全法》第三十五条", level: .county,
            competentDepartment: DepartmentRef(code: "SCJG", name: "市场准入科", node: "371302"),
            tier: .sole, statutoryDays: 20, promisedDays: 5,
            materials: [
                Material(code: "M01", name: "食品经营许可申请书"),
                Material(code: "M02", name: "营业执照", forms: [.copy, .electronic], source: .government,
                         sourceDescription: "市场监督管理部门", licenceTypeCode: businessLicenceType),
                Material(code: "M03", name: "食品安全管理制度文本", forms: [.copy], deficiencyAllowed: deficiencyAllowed),
                Material(code: "M04", name: "专业技术人员名单", required: false, forms: [.copy]),
            ],
            commitmentAllowed: commitmentAllowed, deficiencyAllowed: deficiencyAllowed,
            implementingNode: NodeRef(divisionCode: "371302", name: "兰山区行政审批服务局", level: .county),
            licenceTypeCode: "91110000600037341L101", licenceName: "食品经营许可证", licenceValidityMonths: 60,
            resultName: "食品经营许可证", specialProcedures: [.siteInspection])
    }

    static func pinned(_ item: CatalogueItem) -> PinnedItem {
        let publication = try! ItemVersion.publishing(item, over: nil)
        return try! PinnedItem(version: publication.version, item: item)
    }

    static func paper(_ code: String, _ form: MaterialForm = .original, copies: Int = 1, items: [String] = []) -> ProvidedMaterial {
        ProvidedMaterial(requirementCode: code, implementationCodes: items, form: form, copies: copies, fileID: "file-\(code)")
    }

    /// Everything the food licence requires, in good order.
    static var completeFoodMaterials: [ProvidedMaterial] {
        [paper("M01"), paper("M02", .copy), paper("M03", .copy)]
    }

    static func application(_ item: CatalogueItem = foodLicence(), materials: [ProvidedMaterial], receivedOn: String = "2026-03-02") -> ApplicationState {
        try! ApplicationState(items: [pinned(item)], materials: materials, receivedOn: day(receivedOn))
    }

    static var sampleCatalogueURL: URL {
        // Tests/IntakeRulesTests/Fixtures.swift → repository root.
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Services/Intake/catalogue/sample-catalogue.json")
    }
}

/// The intake error `body` throws, or nil when it succeeds; any other error fails the test.
func intakeError(_ body: () throws -> Void) -> IntakeRuleError? {
    do {
        try body()
        return nil
    } catch let error as IntakeRuleError {
        return error
    } catch {
        Issue.record("expected an IntakeRuleError, got \(error)")
        return nil
    }
}

/// `state` through its stored form and back, the pinned items' content read from a catalogue of
/// `state`'s own versions (as the service reads them from its catalogue, decision 73).
func storedRoundTrip(_ state: ApplicationState) throws -> ApplicationState {
    let held = Dictionary(uniqueKeysWithValues: state.items.map { ($0.version, $0.item) })
    let decoder = JSONDecoder()
    decoder.userInfo[PinnedItem.catalogueKey] = { @Sendable (version: ItemVersion) in held[version] } as PinnedItem.Catalogue
    return try decoder.decode(ApplicationState.self, from: JSONEncoder().encode(state))
}
