import Crypto
import Foundation
import GRPCCore
import IntakeRules
import IntakeService
import OneSealAuth
import OneSealProto
import SwiftProtobuf
import Synchronization

/// What the people of a hall do, through RPC only: the operator sets a node up, the clerk at the
/// window takes applications, officers sign and decide, the certificate centre issues, departments
/// claim pushes, applicants rate. The end-to-end tests and `oneseal-bench` are written in these
/// steps so they read like the work they stand for.
public struct Hall: Sendable {
    public let clients: ClusterClients
    public static let city = "371300"
    public static let county = "371302"

    public init(_ clients: ClusterClients) { self.clients = clients }

    // MARK: Setting a node up (operator)

    /// The sample catalogue shipped in Services/Intake/catalogue, as `scripts/cluster` imports it.
    public static func sampleCatalogue() throws -> [Intake_Item] {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Services/Intake/catalogue/sample-catalogue.json")
        return try CatalogueFile.decode(try Data(contentsOf: file)).map { $0.proto(version: 0) }
    }

    public func publish(_ items: [Intake_Item], on node: String) async throws {
        let operatorToken = try clients.metadata(.operator, "ops-1", node: node)
        for item in items {
            var request = Intake_UpsertItemRequest()
            request.item = item
            request.changeNote = "local cluster set-up"
            _ = try await clients.intake(node).upsertItem(request, metadata: operatorToken)
        }
    }

    /// Market regulation (county and city) supervises food licences; the city water bureau water
    /// abstraction. Registered on `node`'s supervision service as pull departments.
    public func registerSupervision(on node: String) async throws {
        let operatorToken = try clients.metadata(.operator, "ops-1", node: node)
        let departments: [(String, String, String, Common_AdministrativeLevel)] = [
            (Self.countyMarket, "兰山区市场监督管理局", Self.county, .county),
            (Self.cityMarket, "临沂市市场监督管理局", Self.city, .city),
            (Self.cityWater, "临沂市水利局", Self.city, .city),
        ]
        for (code, name, home, level) in departments {
            var department = Supervision_Department()
            department.code = code
            department.name = name
            department.node = home
            department.level = level
            department.delivery = .pull
            department.contactName = "联络员"
            department.contactPhone = "0539-8100001"
            _ = try await clients.supervision(node).upsertDepartment(.with { $0.department = department }, metadata: operatorToken)
        }
        func entry(basic: String = "", implementation: String = "", name: String, _ codes: [String]) -> Supervision_BoundaryEntry {
            var entry = Supervision_BoundaryEntry()
            entry.basicCode = basic
            entry.implementationCode = implementation
            entry.itemName = name
            entry.departments = codes.map { code in Supervision_SupervisingDepartment.with { $0.department.code = code; $0.responsibility = "日常监督检查" } }
            return entry
        }
        for boundary in [
            entry(basic: "000117005000", name: "食品经营许可", [Self.countyMarket, Self.cityMarket]),
            entry(implementation: Self.cityWaterItem, name: "取水许可", [Self.cityWater]),
        ] {
            _ = try await clients.supervision(node).upsertBoundary(.with { $0.entry = boundary }, metadata: operatorToken)
        }
    }

    public static let countyMarket = "SCJG-371302"
    public static let cityMarket = "SCJG-371300"
    public static let cityWater = "SL-371300"
    /// 食品经营许可 (county, sole officer) and 取水许可 (city, deputy director) of the sample catalogue.
    public static let countyFoodItem = "000117005000371302001"
    public static let cityWaterItem = "000116001000371300005"
    /// The sample catalogue's special paths (county): 食品经营许可（延续，智能审批）, decided by the
    /// `e-licence-complete` rules when the food licence is presented as a verified electronic licence;
    /// 建设工程规划许可证核发, joint handling (45 + 15 working days).
    public static let countyInstantItem = "000117005000371302016"
    public static let countyJointItem = "000121005000371302015"

    /// 互认: each node's certificate service trusts the other nodes' seal keys.
    public func trustEachOther(_ nodes: [String]) async throws {
        for node in nodes {
            let own = try await clients.certificate(node).listTrustedIssuers(Certificate_ListTrustedIssuersRequest()).issuers.filter(\.own)
            for other in nodes where other != node {
                for var issuer in own {
                    issuer.own = false
                    issuer.endpoint = ""
                    _ = try await clients.certificate(other).addTrustedIssuer(.with { $0.issuer = issuer }, metadata: try clients.metadata(.operator, "ops-1", node: other))
                }
            }
        }
    }

    /// Sets up every node the way an operator would on day one.
    public func setUp(_ nodes: [String]) async throws {
        let catalogue = try Self.sampleCatalogue()
        for node in nodes {
            try await publish(catalogue, on: node)
            try await scanSampleMaterials(catalogue, on: node)
            try await registerSupervision(on: node)
        }
        try await trustEachOther(nodes)
    }

    // MARK: The window (综合受理)

    public func clerk(_ node: String) throws -> Metadata { try clients.metadata(.windowClerk, "clerk-07", node: node) }

    /// The stand-in scan of a requirement code: a small PDF naming the code, so the same code is
    /// one stored file and its file id (the SHA-256 of the bytes) is known without a call.
    public static func sampleScan(_ code: String) -> [UInt8] { Array("%PDF-1.4\n% OneSeal sample material \(code)\n%%EOF\n".utf8) }

    public static func sampleScanID(_ code: String) -> String {
        SHA256.hash(data: sampleScan(code)).map { String(format: "%02x", $0) }.joined()
    }

    /// The window scans every sample material once into intake's material store (as the clerk
    /// who then names them on applications: the store binds each upload to its uploader).
    /// An intake of a release before the material store answers UNIMPLEMENTED and takes any file
    /// id: nothing to scan there (the rolling-upgrade test starts on one, and scans again once
    /// intake is upgraded).
    public func scanSampleMaterials(_ items: [Intake_Item], on node: String) async throws {
        for code in Set(items.flatMap { $0.materials.map(\.code) }).sorted() {
            do {
                _ = try await clients.intake(node).uploadMaterial(Self.sampleScan(code), fileName: "\(code).pdf", contentType: "application/pdf", metadata: try clerk(node))
            } catch let error as RPCError where error.code == .unimplemented {
                return
            }
        }
    }

    /// Every required material of `items` (one per requirement code), except those in `leaving`;
    /// each names the code's sample scan (`scanSampleMaterials`).
    public static func materials(for items: [Intake_Item], leaving: Set<String> = []) -> [Intake_ProvidedMaterial] {
        var out: [Intake_ProvidedMaterial] = []
        for item in items {
            for material in item.materials where material.required && !leaving.contains(material.code) {
                var provided = Intake_ProvidedMaterial()
                provided.requirementCode = material.code
                provided.implementationCodes = [item.implementationCode]
                provided.name = material.name
                provided.form = material.forms.first ?? .original
                provided.copies = max(material.copies, 1)
                provided.fileID = Self.sampleScanID(material.code)
                out.append(provided)
            }
        }
        return out
    }

    public func item(_ code: String, at node: String) async throws -> Intake_Item {
        try await clients.intake(node).getItem(.with { $0.implementationCode = code }).item
    }

    /// The clerk enters an application with every required material except `leaving`.
    public func submit(
        at node: String, items codes: [String], applicant: Common_Applicant = Hall.company, leaving: Set<String> = [],
        materials extra: [Intake_ProvidedMaterial] = [], key: String = UUID().uuidString, renewalOf: String = "",
        change: Common_LicenceChange? = nil
    ) async throws -> Intake_SubmitApplicationResponse {
        var items: [Intake_Item] = []
        for code in codes { items.append(try await item(code, at: node)) }
        var request = Intake_SubmitApplicationRequest()
        request.applicant = applicant
        request.items = codes.map { code in Intake_RequestedItem.with { $0.implementationCode = code } }
        request.materials = Self.materials(for: items, leaving: leaving) + extra
        request.channel = .window
        request.windowID = "07"
        request.idempotencyKey = key
        request.renewalOf = renewalOf
        if let change { request.change = change }
        return try await clients.intake(node).submitApplication(request, metadata: try clerk(node))
    }

    public func accept(at node: String, _ applicationID: String) async throws -> Intake_Application {
        try await clients.intake(node).accept(.with { $0.applicationID = applicationID }, metadata: try clerk(node)).application
    }

    public func application(at node: String, _ applicationID: String) async throws -> Intake_Application {
        try await clients.intake(node).getApplication(.with { $0.applicationID = applicationID }, metadata: try clerk(node)).application
    }

    /// Waits until every item of the application shows `progress` at the window.
    public func awaitProgress(
        at node: String, _ applicationID: String, _ progress: Intake_ItemProgress, timeout: Duration = .seconds(60), after seen: Intake_Application? = nil
    ) async throws -> Intake_Application {
        try await awaitApplication(at: node, applicationID, "every item \(progress)", timeout: timeout, after: seen, until: Self.everyItem(progress))
    }

    /// Whether every item of an application shows `progress` at the window.
    public static func everyItem(_ progress: Intake_ItemProgress) -> @Sendable (Intake_Application) -> Bool {
        { application in application.items.allSatisfy { $0.progress == progress } }
    }

    /// Waits until the application at `node` satisfies `condition`, told by WatchApplication (a
    /// view per change) rather than by polling GetApplication; a stream that ends (its time limit,
    /// the service restarting) or fails is called again, resuming from the last revision seen.
    ///
    /// `seen` is a view the caller already has (an answer, an earlier wait): when it satisfies
    /// `condition` it is the answer, otherwise the watch starts from its revision, so no view the
    /// caller holds is sent (and read-logged) again.
    public func awaitApplication(
        at node: String, _ applicationID: String, _ what: @autoclosure () -> String, timeout: Duration = .seconds(60),
        after seen: Intake_Application? = nil, until condition: @escaping @Sendable (Intake_Application) -> Bool
    ) async throws -> Intake_Application {
        if let seen, condition(seen) { return seen }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var known: Int64 = seen?.revision ?? 0
        var last = "nothing yet"
        while true {
            do {
                let seconds = Int32(min(3600, max(1, (deadline - ContinuousClock.now).components.seconds + 1)))
                let request = Intake_WatchApplicationRequest.with {
                    $0.applicationID = applicationID; $0.knownRevision = known; $0.maxWaitSeconds = seconds
                }
                let (found, revision) = try await clients.intake(node).watchApplication(request, metadata: try clerk(node)) { response in
                    var revision = request.knownRevision
                    for try await message in response.messages {
                        revision = message.application.revision
                        if condition(message.application) { return (Optional(message.application), revision) }
                    }
                    return (nil, revision)
                }
                if let found { return found }
                known = revision
                last = "revision \(revision); the watch ended"
            } catch {
                last = "\(error)"
                try await Task.sleep(for: .milliseconds(200))
            }
            if ContinuousClock.now >= deadline { throw NotReached(what: "application \(applicationID) at \(node): \(what())", last: last) }
        }
    }

    /// Runs `body` with one WatchApplication stream held open on the application from `seen`, as
    /// an applicant's page open from acceptance to the licence would: `body` waits on
    /// `ApplicationViews.view(_:until:)` as often as it likes, and every wait reads the same
    /// stream, so the service reads (and read-logs) a first view once per case, not once per wait
    /// (#21: the second wait's first read was a commit per case). Should the stream end (its time
    /// limit, a restart) or fail, the waits go on through `awaitApplication` from the last view;
    /// should the watch not open at all (intake restarting), `body` runs on `awaitApplication` alone.
    public func following<Result: Sendable>(
        at node: String, _ applicationID: String, after seen: Intake_Application, timeout: Duration = .seconds(60),
        _ body: @escaping @Sendable (ApplicationViews) async throws -> Result
    ) async throws -> Result {
        let request = Intake_WatchApplicationRequest.with {
            $0.applicationID = applicationID; $0.knownRevision = seen.revision
            $0.maxWaitSeconds = Int32(min(3600, max(1, timeout.components.seconds * 3)))
        }
        let hall = self
        let began = BodyBegan()
        do {
            return try await clients.intake(node).watchApplication(request, metadata: try clerk(node)) { response in
                began.mark()
                return try await body(ApplicationViews(hall: hall, node: node, applicationID: applicationID, latest: seen, timeout: timeout, messages: response.messages))
            }
        } catch where !began.marked {
            return try await body(ApplicationViews(hall: hall, node: node, applicationID: applicationID, latest: seen, timeout: timeout, messages: nil))
        }
    }

    /// Whether `following`'s body began on the stream (its errors are its own, not the watch's).
    private final class BodyBegan: Sendable {
        private let value = Mutex(false)
        func mark() { value.withLock { $0 = true } }
        var marked: Bool { value.withLock { $0 } }
    }

    /// 出件: the result handed over at the window.
    public func deliver(at node: String, _ applicationID: String) async throws -> Intake_Application {
        var delivery = Intake_Delivery()
        delivery.method = .window
        delivery.recipient = Common_Applicant.with { $0.kind = .naturalPerson; $0.name = "王五"; $0.idType = .residentID; $0.idNumber = Self.collectorID }
        return try await clients.intake(node).recordDelivery(.with { $0.applicationID = applicationID; $0.delivery = delivery }, metadata: try clerk(node)).application
    }

    // MARK: The back office (后台审批)

    /// The cases approval at `node` opened for an application (one per item), once they are there.
    public func cases(of applicationID: String, at node: String, count: Int = 1, timeout: Duration = .seconds(60)) async throws -> [Approval_Case] {
        try await eventually("\(count) case(s) of application \(applicationID) at approval@\(node)", timeout: timeout) {
            let cases = try await clients.approval(node).listCases(.with { $0.applicationID = applicationID }, metadata: try clients.metadata(.director, "director-zhou", node: node)).cases
            return cases.count >= count ? cases : nil
        }
    }

    public func getCase(_ caseID: String, at node: String) async throws -> Approval_Case {
        try await clients.approval(node).getCase(.with { $0.caseID = caseID }, metadata: try clients.metadata(.director, "director-zhou", node: node)).case
    }

    static func role(_ role: Approval_ApprovalRole) -> (Role, String) {
        switch role {
        case .sectionChief: (.sectionChief, "chief-zhao")
        case .deputyDirector: (.deputyDirector, "deputy-sun")
        case .director: (.director, "director-zhou")
        default: (.officer, "officer-li")
        }
    }

    /// The staff member who holds the case's next step.
    public func nextSigner(of caseState: Approval_Case, at node: String) throws -> Metadata {
        let (role, subject) = Self.role(caseState.nextRole)
        return try clients.metadata(role, subject, node: node)
    }

    /// The staff member who decides: the signer of the chain's last step (the officer for a
    /// sole-tier item, the section chief or deputy director for the others).
    public func decider(of caseState: Approval_Case, at node: String) throws -> Metadata {
        let (role, subject) = Self.role(caseState.steps.last?.role ?? .officer)
        return try clients.metadata(role, subject, node: node)
    }

    /// One signing move on the active step by whoever holds it: the officer's review (审查) or a
    /// sign-off (审核/审批). `expectedRevision` 0 does not check the case's revision.
    @discardableResult
    public func signActiveStep(_ current: Approval_Case, at node: String, conclusion: Approval_StepConclusion, expectedRevision: Int64 = 0) async throws -> Approval_Case {
        let signer = try nextSigner(of: current, at: node)
        if current.nextRole == .officer {
            return try await clients.approval(node).reviewStep(.with {
                $0.caseID = current.caseID; $0.conclusion = conclusion; $0.opinion = Self.reviewOpinion; $0.expectedRevision = expectedRevision
            }, metadata: signer).case
        }
        return try await clients.approval(node).signOff(.with {
            $0.caseID = current.caseID; $0.conclusion = conclusion; $0.opinion = Self.signOffOpinion; $0.expectedRevision = expectedRevision
        }, metadata: signer).case
    }

    /// Walks the sign-off chain (审查 → 审核 → 审批) proposing `conclusion`; returns the case
    /// awaiting its decision and the signer who must decide.
    public func signChain(_ caseID: String, at node: String, conclusion: Approval_StepConclusion = .proposeGrant) async throws -> (Approval_Case, Metadata) {
        var current = try await getCase(caseID, at: node)
        var guardCount = 0
        while !current.awaitingDecision {
            guardCount += 1
            if guardCount > 8 { throw NotReached(what: "case \(caseID) awaiting its decision", last: "next role \(current.nextRole)") }
            current = try await signActiveStep(current, at: node, conclusion: conclusion)
        }
        return (current, try decider(of: current, at: node))
    }

    /// Reviews, signs and grants.
    @discardableResult
    public func grant(_ caseID: String, at node: String) async throws -> Approval_Case {
        let (_, decider) = try await signChain(caseID, at: node)
        return try await clients.approval(node).decide(.with { $0.caseID = caseID; $0.grant = Self.grant }, metadata: decider).case
    }

    /// Reviews and signs proposing a denial, then denies with reasons and legal basis.
    @discardableResult
    public func deny(_ caseID: String, at node: String, reasons: [String], legalBasis: String) async throws -> Approval_Case {
        let (_, decider) = try await signChain(caseID, at: node, conclusion: .proposeDeny)
        return try await clients.approval(node).decide(.with {
            $0.caseID = caseID
            $0.denial = Approval_Denial.with { $0.reasons = reasons; $0.legalBasis = legalBasis }
        }, metadata: decider).case
    }

    public static let reviewOpinion = "经审查，申请材料齐全，现场核查经营场所布局合理，符合《食品经营许可和备案管理办法》规定"
    public static let signOffOpinion = "已核对承办人审查意见及现场核查记录，设施与布局符合要求，同意准予许可"
    public static var grant: Approval_Grant { Approval_Grant.with { $0.scope = "预包装食品销售，散装食品销售"; $0.place = "兰山区解放路1号" } }

    // MARK: The certificate centre (制证)

    /// The licence issued for a case, once the certificate service has issued it.
    public func licence(ofCase caseID: String, at node: String, timeout: Duration = .seconds(60)) async throws -> Certificate_Licence {
        try await eventually("licence of case \(caseID) at certificate@\(node)", timeout: timeout) {
            try await clients.certificate(node).listLicences(.with { $0.caseID = caseID }, metadata: try clients.metadata(.certificateOperator, "cert-1", node: node)).licences.first
        }
    }

    /// 证照核验 (public): what anyone holding the identifier learns at `node`.
    public func verify(_ identifier: String, at node: String) async throws -> Certificate_VerifyLicenceResponse {
        try await clients.certificate(node).verifyLicence(.with { $0.licenceIdentifier = identifier })
    }

    // MARK: Supervising departments (审管联动)

    public func department(_ code: String) throws -> Metadata {
        let home = code.hasSuffix(Self.county) ? Self.county : Self.city
        return try clients.metadata(.department, "inspector-\(code)", node: home, department: code)
    }

    /// The department's pushes about a case at `node`'s supervision service, once `count` are there.
    public func pushes(of caseID: String, to code: String, at node: String, count: Int = 1, timeout: Duration = .seconds(60)) async throws -> [Supervision_Push] {
        try await eventually("\(count) push(es) of case \(caseID) to \(code) at supervision@\(node)", timeout: timeout) {
            let pushes = try await clients.supervision(node).listPushes(.with { $0.caseID = caseID }, metadata: try department(code)).pushes
            return pushes.count >= count ? pushes : nil
        }
    }

    public func claim(_ pushID: String, by code: String, at node: String) async throws -> Supervision_Push {
        try await clients.supervision(node).claimPush(.with { $0.pushID = pushID; $0.note = Self.claimNote }, metadata: try department(code)).push
    }

    /// The department claims several pushes at once (a grant and its licence): one call, one commit.
    public func claim(_ pushIDs: [String], by code: String, at node: String) async throws -> [Supervision_Push] {
        try await clients.supervision(node).claimPushes(.with { $0.pushIds = pushIDs; $0.note = Self.claimNote }, metadata: try department(code)).pushes
    }

    static let claimNote = "已认领，纳入日常监管"

    // MARK: Applicants (好差评)

    public func applicant(_ id: String = Hall.uscc, node: String) throws -> Metadata { try clients.metadata(.applicant, id, node: node) }

    /// The applicant rates a case online; `level` 1–5.
    public func rate(_ caseID: String, at node: String, level: Int, comment: String = "", phone: String = "", by id: String = Hall.uscc) async throws -> Evaluation_SubmitRatingResponse {
        var request = Evaluation_SubmitRatingRequest()
        request.caseID = caseID
        request.channel = .online
        request.level = Evaluation_RatingLevel(rawValue: level) ?? .UNRECOGNIZED(level)
        request.comment = comment
        request.anonymous = phone.isEmpty
        if !phone.isEmpty { request.raterName = "王五"; request.raterPhone = phone }
        request.idempotencyKey = "rate-\(caseID)-\(level)"
        return try await clients.evaluation(node).submitRating(request, metadata: try applicant(id, node: node))
    }

    // MARK: Applicants used by the scenarios

    /// A valid resident ID (GB 11643 check digit computed): the company's contact who collects results.
    public static let collectorID = "371302199001011233"
    /// A valid USCC (GB 32100 check character computed).
    public static let uscc = "91371302MA3C1234X7"
    public static var company: Common_Applicant {
        Common_Applicant.with {
            $0.kind = .legalPerson
            $0.name = "临沂市兰山区好味道餐饮有限公司"
            $0.idType = .uscc
            $0.idNumber = uscc
            $0.legalRepresentative = "李四"
            $0.contactName = "王五"
            $0.contactPhone = "0539-8123456"
        }
    }
}

/// The views of one application as `Hall.following` reads them: one stream while it lasts.
public final class ApplicationViews {
    let hall: Hall
    let node: String
    let applicationID: String
    let timeout: Duration
    /// The newest view seen, from the stream or the fallback.
    public private(set) var latest: Intake_Application
    private var stream: RPCAsyncSequence<Intake_WatchApplicationResponse, any Error>.AsyncIterator?

    init(hall: Hall, node: String, applicationID: String, latest: Intake_Application, timeout: Duration,
         messages: RPCAsyncSequence<Intake_WatchApplicationResponse, any Error>?) {
        self.hall = hall
        self.node = node
        self.applicationID = applicationID
        self.latest = latest
        self.timeout = timeout
        self.stream = messages?.makeAsyncIterator()
    }

    /// The first view (the newest held, then each the stream sends) that satisfies `condition`.
    public func view(_ what: @autoclosure () -> String, until condition: @escaping @Sendable (Intake_Application) -> Bool) async throws -> Intake_Application {
        if condition(latest) { return latest }
        while var iterator = stream {
            let next: Intake_WatchApplicationResponse?
            do { next = try await iterator.next() } catch { next = nil }
            stream = next == nil ? nil : iterator
            guard let next else { break }
            latest = next.application
            if condition(latest) { return latest }
        }
        latest = try await hall.awaitApplication(at: node, applicationID, what(), timeout: timeout, after: latest, until: condition)
        return latest
    }
}
