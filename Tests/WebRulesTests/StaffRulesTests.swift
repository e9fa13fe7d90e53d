import Foundation
import Testing
import WebRules

/// Staff accounts as the operator gives them, the sign-in and password-change forms (#19).
@Suite struct StaffRulesTests {
    @Test func aClerkNeedsAWindowAndAnInspectorADepartment() throws {
        let clerk = try StaffAccountDraft.validate(["staff_number": " W0012 ", "display_name": "李  四", "role": "window_clerk", "window": "a03"]).get()
        #expect(clerk.staffNumber == "W0012" && clerk.displayName == "李 四" && clerk.role == .windowClerk && clerk.windowNumber == "A03" && clerk.departmentCode == nil)
        let inspector = try StaffAccountDraft.validate(["staff_number": "J-07", "display_name": "王五", "role": "department", "department": "SC-01"]).get()
        #expect(inspector.departmentCode == "SC-01" && inspector.windowNumber == nil)
        let officer = try StaffAccountDraft.validate(["staff_number": "G.3", "display_name": "赵六", "role": "officer"]).get()
        #expect(officer.role == .officer && officer.role.worksCases && !StaffRole.windowClerk.worksCases)

        #expect(StaffAccountDraft.validate(["staff_number": "W1", "display_name": "李四", "role": "window_clerk"]).failure?.errors["window"] == "综合受理窗口人员须填写窗口号")
        #expect(StaffAccountDraft.validate(["staff_number": "W1", "display_name": "李四", "role": "window_clerk", "window": "3号"]).failure?.errors["window"] != nil)
        #expect(StaffAccountDraft.validate(["staff_number": "J1", "display_name": "王五", "role": "department"]).failure?.errors["department"] == "行业主管部门人员须填写部门代码")
        #expect(StaffAccountDraft.validate(["staff_number": "G1", "display_name": "赵六", "role": "officer", "window": "3"]).failure?.errors["window"] == "只有综合受理窗口人员有窗口号")
        #expect(StaffAccountDraft.validate(["staff_number": "G1", "display_name": "赵六", "role": "officer", "department": "SC"]).failure?.errors["department"] == "只有行业主管部门人员有部门代码")
    }

    @Test func onlyHallRolesAndTidyStaffNumbers() {
        for role in ["applicant", "integrator", "node", "", "Officer"] {
            #expect(StaffAccountDraft.validate(["staff_number": "G1", "display_name": "赵六", "role": role]).failure?.errors["role"] != nil, "\(role)")
        }
        #expect(Set(StaffRole.allCases.map(\.rawValue)) == [
            "window_clerk", "officer", "section_chief", "deputy_director", "director", "certificate_operator", "department", "evaluator", "leader", "operator",
        ])
        for number in ["", "intake@371302", "a:b", "工号1", "a b", String(repeating: "7", count: 33)] {
            #expect(StaffAccountDraft.validate(["staff_number": number, "display_name": "赵六", "role": "officer"]).failure?.errors["staff_number"] != nil, "\(number)")
        }
        // Every field's error at once, the values to show again kept.
        let errors = StaffAccountDraft.validate(["staff_number": "", "display_name": "", "role": "x"]).failure
        #expect(Set(errors.map { Array($0.errors.keys) } ?? []) == ["staff_number", "display_name", "role"])
        #expect(StaffNumber.key(" W0012 ") == "w0012")
    }

    @Test func temporaryPasswordsPassTheRuleAndDiffer() {
        let a = StaffPassword.temporary(staffNumber: "W0012"), b = StaffPassword.temporary(staffNumber: "W0012")
        #expect(a.count == 14 && a != b)
        #expect(StaffPassword.problem(a, staffNumber: "W0012") == nil)
        #expect(StaffPassword.problem("w0012-and-more", staffNumber: "W0012") == "密码不能包含身份号码或手机号码")
    }

    @Test func passwordChangeNeedsTheCurrentAndANewDifferentOneTwice() throws {
        let change = try StaffPasswordChange.validate(
            ["current_password": "Temp0rary-pass", "new_password": "a new long secret", "new_password_confirm": "a new long secret"], staffNumber: "W1").get()
        #expect(change.new == "a new long secret")
        let same = StaffPasswordChange.validate(["current_password": "a new long secret", "new_password": "a new long secret", "new_password_confirm": "a new long secret"], staffNumber: "W1")
        #expect(same.failure?.errors["new_password"] == "新密码不能与当前密码相同")
        let short = StaffPasswordChange.validate(["current_password": "x", "new_password": "short", "new_password_confirm": "shorter"], staffNumber: "W1")
        #expect(short.failure?.errors["new_password"] != nil && short.failure?.errors["new_password_confirm"] != nil)
        #expect(StaffPasswordChange.validate([:], staffNumber: "W1").failure?.errors["current_password"] == "请填写当前密码")
    }

    @Test func signInFormChecksShapeOnly() throws {
        #expect(try StaffSignIn.validate(["staff_number": " W0012", "password": "whatever it is"]).get().staffNumber == "W0012")
        let failure = StaffSignIn.validate(["staff_number": "W 12", "password": ""]).failure
        #expect(failure?.errors["password"] == "请填写密码" && failure?.errors["staff_number"] != nil)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
