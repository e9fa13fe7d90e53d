import Foundation
import GRPCCore
import Hummingbird
import Logging
import OneSealProto
import OneSealServiceKit
import OneSealWire
import WebRules

/// Apply online (网上申报, #18 item 4): the item's materials as file inputs, each file checked at
/// the edge (PDF/JPEG/PNG by content, the name agreeing, ≤ 20 MiB), then uploaded to intake's
/// material store and submitted with channel ONLINE, all with the person's applicant token. The
/// form's idempotency key (made when the form is shown) goes to intake as the submission's key, so
/// a double click or a reload of the POST returns the same application.
struct ApplyHandlers: Sendable {
    let accounts: AccountHandlers
    let intake: GRPCClient<OneSealClientTransport>
    let node: String

    /// A form body: every material of a large item at the limit would be far beyond what anyone
    /// uploads at once; 64 MiB bounds the memory one request can take.
    static let maximumBodyBytes = 64 << 20
    static let keyField = "idempotency_key"
    static func field(_ requirementCode: String) -> String { "material_" + requirementCode }

    func register(on router: Router<WebContext>) {
        router.get("/apply/:code") { request, context in try await form(request, context) }
        router.post("/apply/:code") { request, context in try await submit(request, context) }
    }

    var options: CallOptions {
        var options = CallOptions.defaults
        options.timeout = .seconds(30)
        return options
    }

    func item(_ code: String) async throws -> Intake_Item? {
        guard CatalogueSearch.isItemCode(code) else { return nil }
        do {
            return try await Intake_IntakeService.Client(wrapping: intake).getItem(.with { $0.implementationCode = code }, options: options).item
        } catch let error as RPCError where error.code == .notFound || error.code == .invalidArgument {
            return nil
        }
    }

    func form(_ request: Request, _ context: WebContext) async throws -> Response {
        let layout = accounts.layout(context)
        guard let account = try await accounts.signedIn(request) else { return AccountHandlers.redirect("/account/signin") }
        guard let item = try await item(context.parameters.get("code") ?? "") else {
            return PageHandlers.html(.notFound, ErrorPage.render(layout: layout, title: "事项不存在", message: "没有这个事项，请从办事指南重新查找。"))
        }
        let token = accounts.csrf.token(for: accounts.binding(request)!)
        return PageHandlers.html(.ok, ApplyPage.render(
            layout: layout, item: item, account: account, csrf: token, idempotencyKey: SessionID.generate().text, errors: [:]))
    }

    func submit(_ request: Request, _ context: WebContext) async throws -> Response {
        let layout = accounts.layout(context)
        guard let account = try await accounts.signedIn(request) else { return AccountHandlers.redirect("/account/signin") }
        let code = context.parameters.get("code") ?? ""
        var request = request
        let form: MultipartForm
        switch try await Self.multipart(&request, layout: layout, page: "申报页面") {
        case .failure(let refusal): return refusal.response
        case .success(let parsed): form = parsed
        }
        let fields = form.fields
        guard accounts.csrf.isValid(fields[CSRFTokens.field], for: accounts.binding(request)) else { return accounts.csrfRefused(context) }
        guard let item = try await item(code) else {
            return PageHandlers.html(.notFound, ErrorPage.render(layout: layout, title: "事项不存在", message: "没有这个事项，请从办事指南重新查找。"))
        }
        let token = accounts.csrf.token(for: accounts.binding(request)!)
        let key = fields[Self.keyField] ?? ""
        guard SessionID(cookie: key) != nil else {
            return PageHandlers.html(.badRequest, ErrorPage.render(layout: layout, title: "表单已失效", message: "表单已失效，请返回事项页面重新打开申报表。"))
        }
        // Every file checked before anything is sent: one bad file stores nothing.
        let accepted: [CheckedMaterial]
        switch Self.check(files: form.files, of: item) {
        case .failure(.unlisted):
            return PageHandlers.html(.badRequest, ErrorPage.render(layout: layout, title: "提交内容不正确", message: "提交了本事项材料清单以外的文件，未做任何处理。"))
        case .failure(.fields(let errors)):
            context.logger.notice("online application refused at the edge", metadata: ["request_id": "\(context.id)", "fields": "\(errors.keys.sorted())"])
            return PageHandlers.html(.badRequest, ApplyPage.render(layout: layout, item: item, account: account, csrf: token, idempotencyKey: key, errors: errors))
        case .success(let checked): accepted = checked
        }
        let metadata = try accounts.applicantMetadata(account)
        let client = Intake_IntakeService.Client(wrapping: intake)
        do {
            let materials = try await Self.upload(accepted, of: item, to: client, metadata: metadata)
            let call = Intake_SubmitApplicationRequest.with {
                $0.applicant = Self.applicant(account)
                $0.items = [.with { $0.implementationCode = item.implementationCode }]
                $0.materials = materials
                $0.channel = .online
                $0.idempotencyKey = "web:\(node):\(key)"
            }
            let submitted: Intake_SubmitApplicationResponse
            do {
                submitted = try await client.submitApplication(call, metadata: metadata, options: options)
            } catch let error as RPCError where error.code == .alreadyExists {
                // Two clicks raced into intake: the loser's unique key lost; the retry finds the winner's.
                submitted = try await client.submitApplication(call, metadata: metadata, options: options)
            }
            context.logger.info("online application submitted", metadata: [
                "request_id": "\(context.id)", "application": "\(submitted.application.applicationID)", "materials": "\(materials.count)"])
            return AccountHandlers.redirect("/account?submitted=" + (submitted.application.applicationNumber.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
        } catch let error as RPCError {
            context.logger.notice("online application failed", metadata: ["request_id": "\(context.id)", "code": "\(error.code)", "message": "\(error.message)"])
            if error.code == .invalidArgument || error.code == .failedPrecondition || error.code == .permissionDenied {
                return PageHandlers.html(.badRequest, ApplyPage.render(
                    layout: layout, item: item, account: account, csrf: token, idempotencyKey: key, errors: [:],
                    notice: "申报未被接收：" + Self.plain(error)))
            }
            return PageHandlers.html(.serviceUnavailable, ApplyPage.render(
                layout: layout, item: item, account: account, csrf: token, idempotencyKey: key, errors: [:], notice: ErrorPage.unavailable))
        }
    }

    /// A multipart form with files, read whole (at most `maximumBodyBytes`) and parsed; otherwise
    /// the page that says the form did not come in one piece. The online form's and the window's.
    static func multipart(_ request: inout Request, layout: Layout, page: String) async throws -> Result<MultipartForm, ResponseBox> {
        guard let boundary = request.headers[.contentType].flatMap(MultipartForm.boundary(contentType:)) else {
            return .failure(.init(PageHandlers.html(.badRequest, ErrorPage.render(layout: layout, title: "提交方式不正确", message: "请从\(page)提交。"))))
        }
        let body = try await request.collectBody(upTo: maximumBodyBytes)
        do { return .success(try MultipartForm.parse(Array(buffer: body), boundary: boundary)) } catch {
            return .failure(.init(PageHandlers.html(.badRequest, ErrorPage.render(layout: layout, title: "提交内容不完整", message: "提交的内容不完整，请返回重新提交。"))))
        }
    }

    typealias CheckedMaterial = (requirement: Intake_MaterialRequirement, part: MultipartForm.Part, kind: MaterialFile.Kind)

    enum FileProblem: Error {
        /// A file for something the item's list does not ask for.
        case unlisted
        /// Problems by field: a required material missing, a file that is not what its name says.
        case fields([String: String])
    }

    /// The files of a form against the item's material list, each checked by content (PDF, JPEG,
    /// PNG) before anything is sent — the online form's and the window's (W27, W43).
    static func check(files: [String: MultipartForm.Part], of item: Intake_Item) -> Result<[CheckedMaterial], FileProblem> {
        var errors: [String: String] = [:]
        var accepted: [CheckedMaterial] = []
        for requirement in item.materials {
            let name = field(requirement.code)
            guard let part = files[name] else {
                // A government-issued material (营业执照 …) the hall can obtain by sharing, and one
                // that may follow after 容缺受理, is not demanded here; intake's check lists it.
                if requirement.required && !requirement.deficiencyAllowed && requirement.source != .government { errors[name] = "请上传“\(requirement.name)”" }
                continue
            }
            switch MaterialFile.check(fileName: part.fileName ?? "", bytes: part.body, label: requirement.name) {
            case .success(let kind): accepted.append((requirement, part, kind))
            case .failure(let problem): errors[name] = problem.message
            }
        }
        let known = Set(item.materials.map { field($0.code) })
        if files.keys.contains(where: { !known.contains($0) }) { return .failure(.unlisted) }
        return errors.isEmpty ? .success(accepted) : .failure(.fields(errors))
    }

    /// Each checked file into intake's material store (bound to the uploader the token names), as
    /// the materials of the application.
    static func upload(_ accepted: [CheckedMaterial], of item: Intake_Item, to client: Intake_IntakeService.Client<OneSealClientTransport>, metadata: Metadata) async throws -> [Intake_ProvidedMaterial] {
        var materials: [Intake_ProvidedMaterial] = []
        for (requirement, part, kind) in accepted {
            let stored = try await client.uploadMaterial(part.body, fileName: part.fileName ?? "", contentType: kind.rawValue, sha256: MaterialFile.sha256(part.body), metadata: metadata)
            materials.append(provided(requirement, item: item.implementationCode, fileID: stored.material.fileID))
        }
        return materials
    }

    /// An uploaded file as the material the list asks for: the form the list names (an upload is
    /// the electronic form where the list allows it, else the scan stands for the listed form, as a
    /// window scan does), the copies it asks for, the file and its hash.
    static func provided(_ requirement: Intake_MaterialRequirement, item: String, fileID: String) -> Intake_ProvidedMaterial {
        .with {
            $0.requirementCode = requirement.code
            $0.implementationCodes = [item]
            $0.name = requirement.name
            $0.form = requirement.forms.contains(.electronic) ? .electronic : (requirement.forms.first ?? .electronic)
            $0.copies = max(requirement.copies, 1)
            $0.fileID = fileID
            $0.sha256 = fileID
        }
    }

    /// The account as intake's applicant: a person by resident ID; a company by USCC with its legal
    /// representative as the contact (the person acting online for it).
    static func applicant(_ account: AccountStore.Account) -> Common_Applicant {
        applicant(kind: account.kind, name: account.person.name, identityCode: account.person.identityCode,
                  legalRepresentative: account.person.legalRepresentative, phone: account.person.phone)
    }

    /// A person by resident ID, or a company by USCC with its legal representative as the contact:
    /// the account's applicant online, and the applicant the window clerk types at 收件 (W43).
    static func applicant(kind: AccountKind, name: String, identityCode: String, legalRepresentative: String?, phone: String) -> Common_Applicant {
        .with {
            $0.name = name
            $0.idNumber = identityCode
            $0.phone = phone
            switch kind {
            case .person:
                $0.kind = .naturalPerson
                $0.idType = .residentID
            case .company:
                $0.kind = .legalPerson
                $0.idType = .uscc
                $0.legalRepresentative = legalRepresentative ?? ""
                $0.contactName = legalRepresentative ?? ""
                $0.contactPhone = phone
            }
        }
    }

    /// Intake's refusal in a sentence the page can show (field names are not for citizens).
    static func plain(_ error: RPCError) -> String {
        let violations = error.fieldViolations
        if violations.contains(where: { $0.field.hasPrefix("materials") }) { return "材料不符合要求，请检查后重新上传。" }
        if violations.contains(where: { $0.field.hasPrefix("applicant") }) { return "账户信息不符合申报要求，请到办事窗口核实。" }
        return "请检查后重新提交，或到办事窗口咨询。"
    }
}
