import Foundation
import GRPCCore
import Hummingbird
import IntakeContracts
import IntakeRules
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealStore
import OneSealWire
import WebRules

/// 系统运维 (#19 screen 5, W42): the operator's page — each connected service's health, the staff
/// accounts as they stand, and the item catalogue (list, export, import of a catalogue file, which
/// publishes a new version of each item whose content changed). Catalogue changes go through
/// intake's UpsertItem with the operator's own token, like `oneseal catalogue import`; staff
/// accounts are read here and changed only with `oneseal staff` (W32: no account-changing door on
/// the process that faces the internet).
struct OperatorHandlers: Sendable {
    let staff: StaffHandlers
    let intake: GRPCClient<OneSealClientTransport>
    /// The services whose health the page shows, by name (those the front is connected to).
    let services: [(name: String, client: GRPCClient<OneSealClientTransport>)]
    let database: PostgresClient

    /// A catalogue file is at most this large (the national catalogue of one county is ~1 MB).
    static let maximumCatalogueBytes = 8 << 20
    static let noteField = "change_note"
    static let fileField = "catalogue"
    /// A publication note: one line, as `oneseal catalogue import --note`.
    static let maximumNoteCharacters = 200

    func register(on router: Router<WebContext>) {
        router.get("/staff/operations") { request, context in try await page(request, context) }
        router.get("/staff/operations/catalogue.json") { request, context in try await export(request, context) }
        router.post("/staff/operations/catalogue") { request, context in try await importCatalogue(request, context) }
    }

    /// The operator signed in, or the answer (sign-in, or 403 before any call).
    func operatorOnly(_ request: Request, _ context: WebContext, path: String) async throws -> (SessionID, StaffStore.Staff)? {
        let checked = try await staff.gate(request, at: .signedIn)
        guard case .pass(let id, let session) = checked else { return nil }
        return session.staff.role == .operator ? (id, session.staff) : nil
    }

    func refusal(_ request: Request, _ context: WebContext, path: String) async throws -> Response {
        let checked = try await staff.gate(request, at: .signedIn)
        guard case .pass(let id, let session) = checked else { return checked.response }
        context.logger.notice("staff page refused", metadata: ["request_id": "\(context.id)", "staff": "\(session.staff.staffNumber)", "role": "\(session.staff.role.rawValue)", "path": "\(path)"])
        return AccountHandlers.page(.forbidden, OperatorPage.refused(layout: staff.layout(context), csrf: staff.accounts.csrf.token(for: id), staff: session.staff))
    }

    var options: CallOptions {
        var options = CallOptions.defaults
        options.timeout = .seconds(5)
        return options
    }

    /// Each service's Health.Check (no token needed), all at once; an unreachable one says why.
    func health() async -> [OperatorPage.ServiceHealth] {
        await withTaskGroup(of: (Int, OperatorPage.ServiceHealth).self) { group in
            for (index, service) in services.enumerated() {
                group.addTask { [options] in
                    do {
                        let answer = try await Health_Health.Client(wrapping: service.client).check(Health_CheckRequest(), options: options)
                        return (index, .init(name: service.name, answer: answer, problem: nil))
                    } catch let error as RPCError {
                        return (index, .init(name: service.name, answer: nil, problem: "\(error.code)"))
                    } catch {
                        return (index, .init(name: service.name, answer: nil, problem: "不可达"))
                    }
                }
            }
            var results: [(Int, OperatorPage.ServiceHealth)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// Every current item, page by page (ListItems is public).
    func items() async throws -> [Intake_Item] {
        let client = Intake_IntakeService.Client(wrapping: intake)
        var items: [Intake_Item] = []
        var token = ""
        repeat {
            let page = try await client.listItems(.with {
                $0.includeInactive = true
                $0.page = .with { $0.pageSize = 500; $0.pageToken = token }
            }, options: options)
            items += page.items
            token = page.page.nextPageToken
        } while !token.isEmpty && items.count < 100_000
        return items
    }

    func page(_ request: Request, _ context: WebContext, notice: String? = nil, noticeIsBad: Bool = false, published: [OperatorPage.Publication] = [], status: HTTPResponse.Status = .ok) async throws -> Response {
        guard let (id, person) = try await operatorOnly(request, context, path: "/staff/operations") else {
            return try await refusal(request, context, path: "/staff/operations")
        }
        async let health = health()
        async let people = staff.store.list()
        let catalogue: [Intake_Item]?
        do { catalogue = try await items() } catch { catalogue = nil }
        let database: Bool
        do { _ = try await self.database.query("SELECT 1"); database = true } catch { database = false }
        return AccountHandlers.page(status, OperatorPage.render(
            layout: staff.layout(context), csrf: staff.accounts.csrf.token(for: id), staff: person,
            health: await health, frontDatabase: database, people: try await people, catalogue: catalogue,
            published: published, notice: notice, noticeIsBad: noticeIsBad))
    }

    /// The catalogue as a file (oneseal-catalogue/1), what `oneseal catalogue export` writes.
    func export(_ request: Request, _ context: WebContext) async throws -> Response {
        guard try await operatorOnly(request, context, path: "/staff/operations/catalogue.json") != nil else {
            return try await refusal(request, context, path: "/staff/operations/catalogue.json")
        }
        let items: [Intake_Item]
        do { items = try await self.items() } catch {
            return AccountHandlers.page(.serviceUnavailable, ErrorPage.render(layout: staff.layout(context), title: "暂时无法导出", message: ErrorPage.unavailable))
        }
        let data = CatalogueFile.encode(items.filter(\.active).map(CatalogueItem.init(proto:)))
        return Response(status: .ok, headers: [
            .contentType: "application/json",
            .contentDisposition: "attachment; filename=\"catalogue-\(staff.node).json\"",
            .cacheControl: "no-store",
            .init("X-Content-Type-Options")!: "nosniff",
        ], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// 目录导入: the file checked whole first (nothing is published from a file with an error),
    /// then each item through UpsertItem — intake publishes a new version only where the content
    /// changed, so importing the same file twice publishes nothing the second time.
    func importCatalogue(_ request: Request, _ context: WebContext) async throws -> Response {
        guard let (_, person) = try await operatorOnly(request, context, path: "/staff/operations/catalogue") else {
            return try await refusal(request, context, path: "/staff/operations/catalogue")
        }
        guard let boundary = request.headers[.contentType].flatMap(MultipartForm.boundary(contentType:)) else {
            return try await page(request, context, notice: "请用页面上的导入表单提交目录文件。", noticeIsBad: true, status: .badRequest)
        }
        var body = request
        let bytes: ByteBuffer
        do { bytes = try await body.collectBody(upTo: Self.maximumCatalogueBytes + 64 * 1024) } catch {
            return try await page(request, context, notice: "目录文件：超过\(Self.maximumCatalogueBytes >> 20) MB，未导入。", noticeIsBad: true, status: .contentTooLarge)
        }
        let form: MultipartForm
        do { form = try MultipartForm.parse(Array(buffer: bytes), boundary: boundary) } catch {
            return try await page(request, context, notice: "提交的内容不完整，未导入。", noticeIsBad: true, status: .badRequest)
        }
        guard staff.accounts.csrf.isValid(form.fields[CSRFTokens.field], for: staff.binding(request)) else { return staff.accounts.csrfRefused(context) }
        let note = (form.fields[Self.noteField] ?? "").trimmingCharacters(in: .whitespaces)
        guard note.count <= Self.maximumNoteCharacters, !note.contains(where: \.isNewline) else {
            return try await page(request, context, notice: "发布说明：一行，最多\(Self.maximumNoteCharacters)个字符。未导入。", noticeIsBad: true, status: .badRequest)
        }
        guard let file = form.files[Self.fileField] else {
            return try await page(request, context, notice: "目录文件：请选择一个 oneseal-catalogue/1 文件。", noticeIsBad: true, status: .badRequest)
        }
        let items: [CatalogueItem]
        do { items = try CatalogueFile.decode(Data(file.body)) } catch {
            return try await page(request, context, notice: "目录文件有误，未导入：\(error)", noticeIsBad: true, status: .badRequest)
        }
        let client = Intake_IntakeService.Client(wrapping: intake)
        var published: [OperatorPage.Publication] = []
        do {
            let metadata = try staff.staffMetadata(person)
            for item in items {
                let answer = try await client.upsertItem(.with {
                    $0.item = item.proto(version: 0)
                    $0.changeNote = note.isEmpty ? "目录导入（工作台）" : note
                }, metadata: metadata, options: options)
                published.append(.init(code: item.implementationCode, name: item.name, version: Int(answer.item.version), new: answer.createdNewVersion))
            }
        } catch let error as RPCError {
            context.logger.notice("catalogue import stopped", metadata: ["request_id": "\(context.id)", "code": "\(error.code)", "message": "\(error.message)", "done": "\(published.count)"])
            let which = published.count < items.count ? items[published.count].implementationCode : ""
            return try await page(request, context, notice: "导入在事项 \(which) 处停止（\(error.code)）：\(error.message)。此前的\(published.count)项已发布，再次导入同一文件只会发布其余的。", noticeIsBad: true, published: published, status: .badRequest)
        }
        let new = published.filter(\.new).count
        context.logger.info("catalogue imported", metadata: ["request_id": "\(context.id)", "staff": "\(person.staffNumber)", "items": "\(items.count)", "new_versions": "\(new)"])
        return try await page(request, context, notice: "已导入\(items.count)项，其中\(new)项发布了新版本。", published: published)
    }
}
