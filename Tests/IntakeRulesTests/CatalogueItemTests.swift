import Foundation
import OneSealCore
import Testing

@testable import IntakeRules

@Suite("Catalogue item validation")
struct CatalogueItemTests {
    @Test("a sound item has no violations")
    func soundItem() {
        #expect(Fixtures.foodLicence().validate().isEmpty)
    }

    @Test("every problem is returned at once, each naming its field")
    func everyProblemAtOnce() {
        var item = Fixtures.foodLicence()
        item.name = " "
        item.legalBasis = ""
        item.tier = nil
        item.promisedDays = 25
        item.materials[2].name = ""
        item.materials[1].forms = []
        item.materials[3].deficiencyAllowed = true
        item.materials.append(Material(code: "M01", name: "重复", forms: [.electronic], copies: 2))
        item.implementingNode.divisionCode = "37130"
        item.licenceTypeCode = "ABC"
        item.fees = [Fee(name: "工本费", amountFen: 500)]
        let found = Set(item.validate().map(\.text))
        #expect(found == [
            "name: required",
            "legal_basis: required",
            "tier: required",
            "implementing_node.division_code: “37130” is not a six-digit division code",
            "promised_days: the promised limit (25) may not exceed the statutory limit (20)",
            "materials[1].forms: at least one accepted form (original, copy, electronic)",
            "materials[2].name: required",
            "materials[3].deficiency_allowed: an optional material can simply be left out; 容缺 applies to required non-core materials",
            "materials[4].copies: only the electronic form is accepted, so copies must be 0",
            "materials[4].code: “M01” is already used by materials[0]",
            "licence_type_code: “ABC” must be an 18-character agency code followed by 3 digits",
            "fees[0].basis: required",
        ])
    }

    @Test("a non-core flag on an item that never allows 容缺受理 is refused")
    func deficiencyFlagNeedsItemFlag() {
        var item = Fixtures.foodLicence(deficiencyAllowed: false)
        item.materials[2].deficiencyAllowed = true
        #expect(item.validate().map(\.field) == ["materials[2].deficiency_allowed"])
        item = Fixtures.foodLicence(deficiencyAllowed: true)
        item.materials[2].deficiencyAllowed = false
        #expect(item.validate().map(\.field) == ["deficiency_allowed"])
    }

    @Test("validation paths carry the file prefix")
    func prefix() {
        var item = Fixtures.foodLicence()
        item.materials[0].name = ""
        #expect(item.validate(prefix: "items[7]").map(\.text) == ["items[7].materials[0].name: required"])
    }

    @Test("the approval period follows Art. 42: +10 normally, +15 under joint handling")
    func approvalPeriod() {
        var item = Fixtures.foodLicence()
        #expect(item.approvalPeriod == StatutoryPeriod(workingDays: 20, maximumExtension: 10))
        item.jointHandling = true
        item.statutoryDays = 45
        #expect(item.approvalPeriod == StatutoryPeriod(workingDays: 45, maximumExtension: 15))
    }
}

@Suite("Item versions")
struct ItemVersionTests {
    @Test("the content hash is SHA-256 in lower-case hex (FIPS 180-2 examples)")
    func sha256() {
        #expect(ContentHash.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(ContentHash.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(ContentHash.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test("first publication is version 1; unchanged is a no-op; a change is version + 1")
    func publishingRule() throws {
        let item = Fixtures.foodLicence()
        let first = try ItemVersion.publishing(item, over: nil)
        #expect(first.createdNewVersion && first.version.version == 1)
        #expect(first.version.contentHash.count == 64)

        let again = try ItemVersion.publishing(Fixtures.foodLicence(), over: first.version)
        #expect(!again.createdNewVersion)
        #expect(again.version == first.version)

        var changed = item
        changed.promisedDays = 3
        let second = try ItemVersion.publishing(changed, over: first.version)
        #expect(second.createdNewVersion && second.version.version == 2)
        #expect(second.version.contentHash != first.version.contentHash)

        var materialChanged = changed
        materialChanged.materials[3].required = true
        #expect(try ItemVersion.publishing(materialChanged, over: second.version).version.version == 3)
    }

    @Test("publishing over another item's version is refused")
    func otherItem() {
        let first = try! ItemVersion.publishing(Fixtures.foodLicence(), over: nil)
        let error = intakeError { _ = try ItemVersion.publishing(Fixtures.foodLicence(code: "OTHER-1"), over: first.version) }
        #expect(error?.statusCodeName == "FAILED_PRECONDITION")
    }

    @Test("a pin must match the content it names")
    func pinMatchesContent() {
        let version = try! ItemVersion.publishing(Fixtures.foodLicence(), over: nil).version
        var changed = Fixtures.foodLicence()
        changed.statutoryDays = 10
        #expect(intakeError { _ = try PinnedItem(version: version, item: changed) } != nil)
    }
}
