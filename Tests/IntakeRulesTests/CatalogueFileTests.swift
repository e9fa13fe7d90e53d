import Foundation
import OneSealCore
import Testing

@testable import IntakeRules

@Suite("Catalogue file")
struct CatalogueFileTests {
    @Test("the shipped sample decodes, validates and covers every tier and both levels")
    func sample() throws {
        let data = try Data(contentsOf: Fixtures.sampleCatalogueURL)
        let items = try CatalogueFile.decode(data)
        #expect(items.count >= 12)
        for (index, item) in items.enumerated() {
            #expect(item.validate(prefix: "items[\(index)]").isEmpty)
            #expect(item.statutoryDays >= item.promisedDays)
            #expect(!item.legalBasis.isEmpty && item.legalBasis.contains("第"))
        }
        #expect(Set(items.compactMap(\.tier)) == Set(ApprovalTier.allCases))
        #expect(Set(items.compactMap(\.level)) == [.city, .county])
        #expect(Set(items.map(\.implementationCode)).count == items.count)
        let names = items.map(\.name)
        for expected in ["食品经营许可", "公共场所卫生许可", "建筑工程施工许可", "林木采伐许可证核发", "取水许可", "危险化学品经营许可",
                         "民办非企业单位成立登记", "道路旅客运输经营许可", "医疗机构执业登记"] {
            #expect(names.contains(expected), "sample lacks \(expected)")
        }
        #expect(items.contains(where: \.commitmentAllowed) && items.contains(where: \.deficiencyAllowed))
        // Every special path of the law is met by a county item (issue #20 item 9): joint handling
        // (Art. 42 ¶2: 45 days, +15), instant rule-based approval whose only material is an
        // electronic licence of another sample item, a renewable licence with a hearing right.
        let county = items.filter { $0.level == .county }
        let joint = try #require(county.first { $0.jointHandling })
        #expect(joint.statutoryDays == 45 && joint.approvalPeriod.maximumExtension == 15)
        let instant = try #require(county.first { $0.instantApprovalAllowed })
        #expect(instant.instantRuleSet == "e-licence-complete" && !instant.commitmentAllowed && !instant.deficiencyAllowed)
        #expect(instant.materials.allSatisfy { $0.forms == [.electronic] && items.map(\.licenceTypeCode).contains($0.licenceTypeCode) })
        #expect(county.contains { $0.licenceValidityMonths > 0 && $0.specialProcedures.contains(.hearing) })
    }

    @Test("encode then decode gives the same items")
    func roundTrip() throws {
        let items = [Fixtures.foodLicence(), Fixtures.foodLicence(commitmentAllowed: true, code: "X-2")]
        let data = CatalogueFile.encode(items)
        #expect(try CatalogueFile.decode(data) == items)
        let sample = try CatalogueFile.decode(try Data(contentsOf: Fixtures.sampleCatalogueURL))
        #expect(try CatalogueFile.decode(CatalogueFile.encode(sample)) == sample)
    }

    @Test("errors name the item index and the field, all at once")
    func preciseErrors() throws {
        var items = try JSONSerialization.jsonObject(with: CatalogueFile.encode([Fixtures.foodLicence(), Fixtures.foodLicence(code: "X-2")])) as! [String: Any]
        var list = items["items"] as! [[String: Any]]
        list[0]["statutory_days"] = "twenty"
        list[0]["statutory_day"] = 20
        var materials = list[1]["materials"] as! [[String: Any]]
        materials[2]["forms"] = ["scan"]
        materials[1]["name"] = ""
        list[1]["materials"] = materials
        list[1]["tier"] = "mayor"
        list[1]["implementation_code"] = list[0]["implementation_code"]
        items["items"] = list
        let data = try JSONSerialization.data(withJSONObject: items)
        let error = intakeError { _ = try CatalogueFile.decode(data) }
        let texts = Set(error?.fieldViolations.map(\.text) ?? [])
        #expect(error?.statusCodeName == "INVALID_ARGUMENT")
        #expect(texts.contains("items[0].statutory_days: must be an integer, found a string"))
        #expect(texts.contains("items[0].statutory_day: unknown field"))
        #expect(texts.contains("items[1].materials[2].forms[0]: unknown value “scan”; expected one of: original, copy, electronic"))
        #expect(texts.contains("items[1].materials[1].name: required"))
        #expect(texts.contains("items[1].tier: unknown value “mayor”; expected one of: sole, section, deputy, collective"))
        #expect(texts.contains("items[1].implementation_code: “000117005000371302001” is already used by items[0]"))
        // Wrong values are reported once, not again as "required" by validation.
        #expect(!texts.contains("items[1].tier: required"))
    }

    @Test("a missing required field and a wrong format are reported")
    func missingAndFormat() {
        let json = #"{"format": "oneseal-catalogue/9", "items": [{"name": "x"}], "extra": 1}"#
        let error = intakeError { _ = try CatalogueFile.decode(Data(json.utf8)) }
        let fields = Set(error?.fieldViolations.map(\.field) ?? [])
        #expect(fields.isSuperset(of: ["format", "extra", "items[0].basic_code", "items[0].implementation_code", "items[0].legal_basis",
                                        "items[0].competent_department", "items[0].implementing_node", "items[0].materials",
                                        "items[0].statutory_days", "items[0].promised_days", "items[0].type", "items[0].level", "items[0].tier"]))
    }

    @Test("text that is not JSON is refused with a syntax violation")
    func notJSON() {
        let error = intakeError { _ = try CatalogueFile.decode(Data("{ items: ".utf8)) }
        #expect(error?.fieldViolations.first?.reason == "syntax")
    }
}
