import EvaluationRules
import Foundation
import GRPCCore
import Hummingbird
import Logging
import OneSealAuth
import OneSealProto
import OneSealServiceKit
import OneSealWire
import WebRules

/// 好差评 by the short link on the receipt, with no sign-in (#18 item 7, decisions W40):
/// `/rate?n=<application number>&c=<query code>`. The front checks number + code with intake's
/// public progress look-up (its per-number lock-out, and this front's per-address limit shared with
/// `/progress`: a guesser is refused the same way there and here), then submits the rating to
/// evaluation with a 5-minute applicant token whose subject is `receipt:<number>` — minted with the
/// front's applicant-only key (W16). Evaluation lets such a token rate that one application, online,
/// anonymously (`ReceiptRater`): its per-object rule still decides; the front never learns who
/// the applicant is, and an anonymous rating is not called back.
struct RatingLinkHandlers: Sendable {
    let accounts: AccountHandlers
    let intake: GRPCClient<OneSealClientTransport>
    let evaluation: GRPCClient<OneSealClientTransport>
    let node: String
    /// The `/progress` limiter: the link tries codes the way the look-up does.
    let limiter: SharedAttemptLimiter

    static let path = "/rate"

    /// The short link printed for an application: its number, and its code when the page printing
    /// it may show the code (the applicant's own pages).
    static func link(number: String, code: String = "") -> String {
        path + "?n=" + number + (code.isEmpty ? "" : "&c=" + code)
    }

    func register(on router: Router<WebContext>) {
        router.get(.init(stringLiteral: Self.path)) { request, context in show(request, context) }
        router.post(.init(stringLiteral: Self.path)) { request, context in try await rate(request, context) }
    }

    var options: CallOptions {
        var options = CallOptions.defaults
        options.timeout = .seconds(15)
        return options
    }

    func show(_ request: Request, _ context: WebContext) -> Response {
        let query = FormBody.parse(request.uri.query ?? "")
        // What the link carries, cut to the form's limits; checked when the form is sent.
        let values = [
            ProgressForm.numberField: String((query["n"] ?? "").prefix(WebLimits.maximumFieldCharacters)),
            ProgressForm.codeField: String((query["c"] ?? "").prefix(WebLimits.maximumFieldCharacters)),
        ]
        let (token, cookie) = accounts.formToken(request)
        return AccountHandlers.page(.ok, RatingLinkPage.form(layout: accounts.layout(context), csrf: token, values: values, errors: [:], notice: nil), setCookies: [cookie])
    }

    func rate(_ request: Request, _ context: WebContext) async throws -> Response {
        let layout = accounts.layout(context)
        var request = request
        let body = String(buffer: try await request.collectBody(upTo: WebLimits.maximumFormBytes))
        let fields = FormBody.parse(body)
        guard accounts.csrf.isValid(fields[CSRFTokens.field], for: accounts.binding(request)), let binding = accounts.binding(request) else {
            return accounts.csrfRefused(context)
        }
        let token = accounts.csrf.token(for: binding)
        // The code is a secret: never shown back.
        let kept = [ProgressForm.numberField: String((fields[ProgressForm.numberField] ?? "").prefix(WebLimits.maximumFieldCharacters)), ProgressForm.codeField: ""]
        func page(_ status: HTTPResponse.Status, errors: [String: String] = [:], notice: String? = nil, values: [String: String]? = nil) -> Response {
            var shown = values ?? kept
            shown[ProgressForm.codeField] = values?[ProgressForm.codeField] ?? ""
            return PageHandlers.html(status, RatingLinkPage.form(layout: layout, csrf: token, values: shown.merging(fields.filter { [RatingForm.levelField, RatingForm.commentField].contains($0.key) }) { a, _ in a }, errors: errors, notice: notice))
        }
        var errors: [String: String] = [:]
        var receipt: ProgressForm?
        switch ProgressForm.validate(fields) {
        case .failure(let failure): errors.merge(failure.errors) { a, _ in a }
        case .success(let valid): receipt = valid
        }
        var rating: RatingForm?
        switch RatingForm.validate(fields, reasons: FormBody.values(body, name: RatingForm.reasonField)) {
        case .failure(let failure): errors.merge(failure.errors) { a, _ in a }
        case .success(let valid): rating = valid
        }
        guard errors.isEmpty, let receipt, let rating else { return page(.badRequest, errors: errors) }
        guard limiter.attempt(accounts.client(request, context)) else {
            return page(.tooManyRequests, notice: ErrorPage.tooMany)
        }
        // 1. The receipt's code, checked by intake exactly as the progress look-up checks it.
        let progress: Intake_TrackProgressResponse
        do {
            progress = try await Intake_IntakeService.Client(wrapping: intake).trackProgress(.with {
                $0.applicationNumber = receipt.applicationNumber
                $0.queryCode = receipt.queryCode
            }, options: options)
        } catch let error as RPCError {
            context.logger.notice("rating link: receipt refused", metadata: ["request_id": "\(context.id)", "code": "\(error.code)"])
            switch error.code {
            case .notFound, .invalidArgument:
                return page(.notFound, notice: "未查到该办件：受理编号或查询码不正确。请对照受理通知书重新填写；多次填错将暂时锁定查询。")
            case .resourceExhausted:
                return page(.tooManyRequests, notice: "查询过于频繁或查询码错误次数过多，请稍后再试，或到办事窗口查询。")
            default:
                return page(.serviceUnavailable, notice: ErrorPage.unavailable)
            }
        }
        // 2. The rating, as the receipt's holder: anonymous, so nobody is called back.
        do {
            let subject = ReceiptRater.subject(applicationNumber: progress.applicationNumber)
            let bearer = try accounts.signer.mint(subject: subject, role: .applicant, node: node, lifetime: .seconds(300))
            var metadata = Metadata()
            metadata.addString("Bearer \(bearer)", forKey: "authorization")
            let key = fields[ApplyHandlers.keyField].flatMap { SessionID(cookie: $0) != nil ? $0 : nil }
            let response = try await Evaluation_EvaluationService.Client(wrapping: evaluation).submitRating(.with {
                $0.applicationNumber = progress.applicationNumber
                $0.channel = .online
                $0.level = Evaluation_RatingLevel(rawValue: rating.level) ?? .unspecified
                $0.comment = rating.comment
                $0.tags = rating.reasons
                $0.anonymous = true
                if let key { $0.idempotencyKey = "web:\(node):rate:\(key)" }
            }, metadata: metadata, options: options)
            context.logger.info("rated by receipt link", metadata: ["request_id": "\(context.id)", "level": "\(rating.level)", "bad": "\(rating.isBad)"])
            return PageHandlers.html(.ok, RatingLinkPage.done(layout: layout, number: progress.applicationNumber, response: response))
        } catch let error as RPCError {
            context.logger.notice("rating link: rating refused", metadata: ["request_id": "\(context.id)", "code": "\(error.code)", "message": "\(error.message)"])
            switch error.code {
            case .invalidArgument, .permissionDenied, .failedPrecondition, .alreadyExists, .notFound:
                return page(.conflict, notice: "评价未被接收：这件办件尚未办结、还不能评价，或已评价过。")
            default:
                return page(.serviceUnavailable, notice: ErrorPage.unavailable)
            }
        }
    }
}
