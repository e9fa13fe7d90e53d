import OneSealAuth
import OneSealPrivacy
import OneSealProto

/// How much of a person's data a caller sees: the one rule every service applies on the way out
/// (个人信息保护法 Art. 6: minimum necessary), so "who sees an applicant's full ID" has one answer.
///
/// Why a table of roles and not a flag per handler: the probe of issue #15 found four masking
/// rules in four services that disagreed (officers saw a person's name whole although the guide
/// promised "张*"; a city clerk saw a county licence holder's full ID). Each role's column here is
/// its duty: the window verifies identities, the back office decides on them, the certificate
/// centre prints them, a supervising department must find the business it supervises, the
/// efficiency office calls a rater back; nobody else needs more than the masked shape. Full means
/// this node's staff: a city clerk reading a county's record sees it masked like anyone else.
public enum Disclosure: Sendable, Hashable {
    /// Everything, as stored. Each such read of an applicant is logged by the service.
    case full
    /// A supervising department: names and USCCs whole (they find the business by them), a
    /// person's ID number, phones and home address masked, no e-mail.
    case supervisory
    /// Everyone else: a person's name "张*", ID "3713**********1234", phone "138****5678", home
    /// address "山东省临沂市****", e-mail "****@domain"; an organisation's registered name and address
    /// are public registers and stay whole, its USCC is masked like any ID number, the people named
    /// in it (legal representative, contact) are masked.
    case masked

    /// Which record the personal data is read from: each names the roles whose duty it serves.
    public enum Record: Sendable, Hashable {
        /// An application at the window (intake): the window verifies identities.
        case application
        /// An approval case (approval): the back office decides on the person; a supervising
        /// department sees the supervisory shape.
        case approvalCase
        /// A licence (certificate): the certificate centre prints it, the window hands it out.
        case licence
        /// A push to a supervising department (supervision).
        case push
        /// A rating's rater (evaluation): the efficiency office calls a rater back.
        case rating
    }

    /// The roles that see a record in full at the node that holds it.
    static func fullRoles(_ record: Record) -> Set<Role> {
        switch record {
        case .application: [.windowClerk]
        case .approvalCase: [.officer, .sectionChief, .deputyDirector, .director]
        case .licence: [.certificateOperator, .windowClerk]
        case .push: []
        case .rating: [.evaluator]
        }
    }

    /// The rule: what `caller` sees of the personal data in `record` held at `node`.
    /// `isDataSubject` is true when the caller is the person the data is about (an applicant
    /// reading their own application).
    public static func of(
        _ record: Record, for caller: Caller?, atNode node: String, isDataSubject: Bool = false
    ) -> Disclosure {
        guard let caller else { return .masked }
        if isDataSubject { return .full }
        // Service-to-service calls (forwarding, event delivery, verification between nodes) carry
        // the data between services, each of which applies this rule again on the way out.
        if caller.role == .peerNode { return .full }
        if caller.node == node, fullRoles(record).contains(caller.role) { return .full }
        if caller.role == .department, record == .approvalCase || record == .push { return .supervisory }
        return .masked
    }
}

extension Common_Applicant {
    /// This applicant as `disclosure` allows; `masked` is set whenever anything was hidden.
    public func disclosed(_ disclosure: Disclosure) -> Common_Applicant {
        guard disclosure != .full else { return self }
        let person = kind != .legalPerson
        var out = self
        out.idNumber = disclosure == .supervisory && idType == .uscc ? idNumber : Masking.idNumber(idNumber)
        out.phone = Masking.phone(phone)
        out.contactPhone = Masking.phone(contactPhone)
        if person { out.address = Masking.address(address) }
        out.email = disclosure == .supervisory ? "" : Disclosure.maskedEmail(email)
        if disclosure == .masked {
            if person { out.name = Masking.personName(name) }
            if !legalRepresentative.isEmpty { out.legalRepresentative = Masking.personName(legalRepresentative) }
            if !contactName.isEmpty { out.contactName = Masking.personName(contactName) }
        }
        out.masked = true
        return out
    }
}

extension Disclosure {
    /// A person's name as this disclosure shows it.
    public func personName(_ name: String) -> String { self == .masked ? Masking.personName(name) : name }

    /// A phone number as this disclosure shows it.
    public func phone(_ phone: String) -> String { self == .full ? phone : Masking.phone(phone) }


    static func maskedEmail(_ email: String) -> String {
        guard !email.isEmpty else { return "" }
        return "****" + (email.firstIndex(of: "@").map { String(email[$0...]) } ?? "")
    }
}
