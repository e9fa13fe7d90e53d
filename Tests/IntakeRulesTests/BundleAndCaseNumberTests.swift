import OneSealCore
import Testing

@testable import IntakeRules

@Suite("Bundles and case numbers")
struct BundleAndCaseNumberTests {
    /// Food licence + public-place hygiene + publication retail, all needing the business licence (M02).
    var threeItems: [CatalogueItem] {
        var hygiene = Fixtures.foodLicence(code: "HYGIENE-1")
        hygiene.name = "公共场所卫生许可"
        hygiene.materials = [Material(code: "M02", name: "营业执照", forms: [.copy, .electronic], source: .government, sourceDescription: "市场监督管理部门"),
                             Material(code: "H01", name: "卫生检测报告")]
        hygiene.deficiencyAllowed = false
        var books = Fixtures.foodLicence(code: "BOOKS-1")
        books.name = "出版物零售业务经营许可"
        books.materials = [Material(code: "M02", name: "营业执照", forms: [.copy]), Material(code: "B01", name: "经营场所使用权证明", forms: [.copy])]
        books.deficiencyAllowed = false
        return [Fixtures.foodLicence(), hygiene, books]
    }

    @Test("a bundle of three items gives three cases; a shared material is counted once")
    func bundle() throws {
        let bundle = try ApplicationBundle(items: threeItems)
        #expect(bundle.separateMaterialCount == 8)
        #expect(bundle.distinctMaterialCount == 6)
        #expect(bundle.materials.filter(\.isShared).map(\.code) == ["M02"])
        #expect(bundle.materials.first { $0.code == "M02" }?.implementationCodes == ["000117005000371302001", "HYGIENE-1", "BOOKS-1"])

        let number = try CaseNumber.application(node: "371302", receivedOn: day("2026-09-29"), serial: 123)
        let cases = try bundle.caseNumbers(applicationNumber: number)
        #expect(cases.map(\.caseNumber.description) == ["3713022026092901000123", "3713022026092902000123", "3713022026092903000123"])
        #expect(cases.map(\.implementationCode) == ["000117005000371302001", "HYGIENE-1", "BOOKS-1"])
    }

    @Test("the bundle completes only when every item is decided")
    func completion() throws {
        let bundle = try ApplicationBundle(items: threeItems)
        var progress: [String: ItemProgress] = ["000117005000371302001": .granted, "HYGIENE-1": .inApproval, "BOOKS-1": .denied]
        #expect(!bundle.isComplete(progress: progress))
        progress["HYGIENE-1"] = .suspended
        #expect(!bundle.isComplete(progress: progress))
        progress["HYGIENE-1"] = .licenceIssued
        #expect(bundle.isComplete(progress: progress))
        progress["BOOKS-1"] = nil
        #expect(!bundle.isComplete(progress: progress))
    }

    @Test("a missing shared material is reported once for the whole bundle; a bundle application checks every item")
    func sharedMaterialCheck() throws {
        let items = threeItems
        var application = try ApplicationState(items: items.map(Fixtures.pinned), materials: [
            Fixtures.paper("M01"), Fixtures.paper("M03", .copy), Fixtures.paper("H01"), Fixtures.paper("B01", .copy),
        ], receivedOn: day("2026-03-02"))
        let problems = application.check.problems
        #expect(problems.map(\.key.description) == ["M02"])
        #expect(problems.first?.implementationCode == "")
        // A notice may name the shared material once …
        var copy = application
        try copy.apply(.issueCorrectionNotice(problems: problems, on: day("2026-03-02")))
        // … or per item; both list the same thing.
        let perItem = items.map { MaterialProblem(implementationCode: $0.implementationCode, requirementCode: "M02", materialName: "营业执照", kind: .missing, howToFix: "提交营业执照复印件") }
        try application.apply(.issueCorrectionNotice(problems: perItem, on: day("2026-03-02")))
        // One upload (no item named) serves all three.
        try application.apply(.supplyCorrection(materials: [Fixtures.paper("M02", .copy)], on: day("2026-03-03")))
        #expect(application.check.isComplete)
        // Commitment needs every item to allow it.
        #expect(!application.allowedOutcomes.contains(.acceptedByCommitment))
        try application.apply(.accept(on: day("2026-03-03")))
        #expect(items.allSatisfy { application.approvalClock(for: $0.implementationCode) != nil })
    }

    @Test("an empty bundle or a repeated item is refused")
    func bundleChecks() {
        #expect(intakeError { _ = try ApplicationBundle(items: []) }?.statusCodeName == "INVALID_ARGUMENT")
        let item = Fixtures.foodLicence()
        #expect(intakeError { _ = try ApplicationBundle(items: [item, item]) }?.fieldViolations.map(\.field) == ["items[1]"])
    }

    @Test("case numbers: 22 digits, round trip, bad parts refused")
    func caseNumbers() throws {
        let number = try CaseNumber(node: "371300", date: day("2026-02-12"), itemSequence: 0, serial: 1)
        #expect(number.description == "3713002026021200000001")
        #expect(try CaseNumber(parsing: "3713002026021200000001") == number)
        #expect(try number.forItem(2).description == "3713002026021202000001")
        #expect(number < (try number.forItem(1)))
        let bad = intakeError { _ = try CaseNumber(node: "3713", date: day("2026-02-12"), itemSequence: 100, serial: 0) }
        #expect(Set(bad?.fieldViolations.map(\.field) ?? []) == ["node", "item_sequence", "serial"])
        #expect(intakeError { _ = try CaseNumber(parsing: "3713002026023000000001") }?.fieldViolations.first?.reason == "case_number.date")
        #expect(intakeError { _ = try CaseNumber(parsing: "37130020260212000000") }?.fieldViolations.first?.reason == "case_number.format")
    }
}
