import Foundation
import OneSealCore
import Testing
@testable import SupervisionRules

@Suite("Departments and the boundary list")
struct DepartmentAndBoundaryTests {
    static let food = "000117005000371302001"       // 食品经营许可, 兰山区
    static let foodCity = "000117005000371300001"   // the same basic item at the city
    static let market = Department(code: "SCJG-371302", name: "兰山区市场监督管理局", level: .county, node: "371302")

    @Test("a department needs code, name, level, node; endpoint only (and always) for endpoint delivery")
    func departmentValidation() {
        #expect(Self.market.validate().isEmpty)
        var bad = Department(code: "x", name: " ", level: nil, node: "37130", delivery: .endpoint)
        #expect(bad.validate().map(\.field) == ["department.code", "department.name", "department.level", "department.node", "department.endpoint"])
        bad = Department(code: "WJW-371300", name: "临沂市卫生健康委员会", level: .city, node: "371300", delivery: .endpoint, endpoint: "10.1.2.3:70000")
        #expect(bad.validate().map(\.reason) == ["format"])
        bad.endpoint = "10.1.2.3:7400"
        #expect(bad.validate().isEmpty)
        var pull = Self.market
        pull.endpoint = "10.1.2.3:7400"
        #expect(pull.validate().map(\.reason) == ["unexpected"])
        #expect(Department.parseEndpoint("[::1]:7400")?.port == 7400)
    }

    @Test("entries name an implementation or a basic code, registered departments, each with its responsibility")
    func entryValidation() {
        let known: (String) -> Bool = { ["SCJG-371302", "WJW-371300"].contains($0) }
        let good = BoundaryEntry(implementationCode: Self.food, departments: [
            SupervisingDepartment(code: "SCJG-371302", responsibility: "食品经营日常监督检查"),
            SupervisingDepartment(code: "WJW-371300", responsibility: "从业人员健康证明"),
        ])
        #expect(good.validate(known: known).isEmpty)
        let bad = BoundaryEntry(implementationCode: "123", basicCode: "000117005000", departments: [
            SupervisingDepartment(code: "SCJG-371302", responsibility: ""),
            SupervisingDepartment(code: "SCJG-371302", responsibility: "重复"),
            SupervisingDepartment(code: "GA-371302", responsibility: "治安"),
        ])
        #expect(bad.validate(known: known).map(\.field) == [
            "entry.basic_code", "entry.departments[0].responsibility", "entry.departments[1].department.code", "entry.departments[2].department.code",
        ])
        #expect(bad.validate(known: known).map(\.reason).contains("unknown_department"))
        #expect(BoundaryEntry(basicCode: "000117005000", departments: []).validate(known: known).map(\.field) == ["entry.departments"])
        #expect(BoundaryEntry(departments: good.departments).validate(known: known).map(\.field) == ["entry.implementation_code"])
    }

    @Test("an implementation's own entry wins over the basic-code entry that covers every level")
    func lookup() {
        let basic = BoundaryEntry(basicCode: "000117005000", departments: [SupervisingDepartment(code: "SCJG-371300", responsibility: "全市食品经营监管")])
        let own = BoundaryEntry(implementationCode: Self.food, departments: [
            SupervisingDepartment(code: "SCJG-371302", responsibility: "辖区食品经营监管"),
            SupervisingDepartment(code: "SCJG-371300", responsibility: "市级抽检"),
        ])
        let list = BoundaryList([basic, own])
        #expect(list.responsibleDepartments(for: Self.food).map(\.code) == ["SCJG-371302", "SCJG-371300"])
        #expect(list.responsibleDepartments(for: Self.foodCity).map(\.code) == ["SCJG-371300"])
        #expect(list.responsibleDepartments(for: "000105008000371302004").isEmpty)
        #expect(BoundaryEntry.basicCode(of: Self.food) == "000117005000")
    }

    @Test("re-routing with a boundary fix swaps the rejecting department for the new ones")
    func reroutedEntry() {
        let entry = BoundaryEntry(implementationCode: Self.food, departments: [
            SupervisingDepartment(code: "JT-371302", responsibility: "误列"),
            SupervisingDepartment(code: "WJW-371300", responsibility: "健康证明"),
        ])
        let fixed = entry.rerouted(from: "JT-371302", to: ["SCJG-371302", "WJW-371300"], responsibility: "食品经营监管")
        #expect(fixed.departments.map(\.code) == ["WJW-371300", "SCJG-371302"])
        #expect(fixed.departments[0].responsibility == "健康证明")
    }

    @Test("boundary file: round trip, and every problem reported at once with its path")
    func file() throws {
        let contents = BoundaryFile.Contents(
            departments: [Self.market, Department(code: "WJW-371300", name: "临沂市卫生健康委员会", level: .city, node: "371300", contactName: "刘洋", contactPhone: "0539-8721000", delivery: .endpoint, endpoint: "10.0.0.5:7400")],
            entries: [BoundaryEntry(basicCode: "000117005000", itemName: "食品经营许可", departments: [SupervisingDepartment(code: "SCJG-371302", responsibility: "日常监督检查")])])
        let data = BoundaryFile.encode(contents)
        let decoded = try BoundaryFile.decode(data)
        #expect(decoded.departments.sorted { $0.code < $1.code } == contents.departments.sorted { $0.code < $1.code })
        #expect(decoded.entries == contents.entries)

        let bad = Data("""
            {"format": "oneseal-boundary/1",
             "departments": [{"code": "SCJG-371302", "name": "兰山区市场监督管理局", "level": "district", "node": "371302", "phone": "1"}],
             "entries": [{"implementation_code": "000117005000371302001", "departments": [{"code": "GA-371302", "responsibility": "治安"}]}]}
            """.utf8)
        #expect(throws: BoundaryFile.Invalid.self) { try BoundaryFile.decode(bad) }
        do { _ = try BoundaryFile.decode(bad) } catch {
            #expect(error.violations.map(\.field) == ["departments[0].phone", "departments[0].level", "entries[0].departments[0].code"])
        }
    }

    @Test("the sample boundary file decodes; the county's food item goes to the county and the city market regulators")
    func sample() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Services/Supervision/boundary/sample-boundary.json")
        let contents = try BoundaryFile.decode(try Data(contentsOf: url))
        #expect(contents.departments.count == 9 && contents.entries.count == 9)
        #expect(contents.departments.first { $0.code == "WJW-371300" }?.delivery == .endpoint)
        let list = BoundaryList(contents.entries)
        #expect(list.responsibleDepartments(for: Self.food).map(\.code) == ["SCJG-371302", "SCJG-371300"])
        #expect(list.responsibleDepartments(for: "000116001000371300005").map(\.code) == ["SL-371300"])
    }
}
