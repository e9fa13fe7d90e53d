import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealProto
import SwiftProtobuf

// Conversions between the domain's plain values and the wire's messages, shared by every service
// so a date or a deadline means the same thing in all five.

extension Common_CivilDate {
    public init(_ date: CivilDate) {
        self.init()
        self.year = Int32(date.year)
        self.month = Int32(date.month)
        self.day = Int32(date.day)
    }

    /// The date, or nil when it is unset or not a real calendar day.
    public var civilDate: CivilDate? {
        CivilDate(year: Int(year), month: Int(month), day: Int(day))
    }
}

extension Common_Deadline {
    /// The wire form of a clock's status on `asOf`.
    public init(startedOn: CivilDate, status: DeadlineStatus, extensionDays: Int = 0, finishedOn: CivilDate? = nil) {
        self.init()
        self.startedOn = Common_CivilDate(startedOn)
        self.dueOn = Common_CivilDate(status.deadline)
        self.workingDaysTotal = Int32(status.totalWorkingDays)
        self.workingDaysUsed = Int32(status.workingDaysUsed)
        self.workingDaysLeft = Int32(max(status.totalWorkingDays - status.workingDaysUsed, 0))
        self.overdue = status.isOverdue
        self.overdueWorkingDays = Int32(max(status.workingDaysUsed - status.totalWorkingDays, 0))
        self.suspended = status.isSuspended
        self.extensionWorkingDays = Int32(extensionDays)
        switch status.level {
        case .normal: self.warning = .normal
        case .yellow: self.warning = .yellow
        case .red: self.warning = .red
        }
        if let finishedOn { self.finishedOn = Common_CivilDate(finishedOn) }
    }
}

extension Common_ActorRef {
    /// The actor of an act: the verified caller of this RPC.
    public init(_ caller: Caller) {
        self.init()
        self.subject = caller.subject
        self.role = caller.role.rawValue
        self.node = caller.node
        if let department = caller.department {
            self.department = Common_DepartmentRef.with { $0.code = department; $0.node = caller.node }
        }
    }
}

extension Google_Protobuf_Timestamp {
    public init(_ date: Date) { self.init(date: date) }
}

/// A domain enum and its twin in the contracts, mapped by exhaustive switches written out both
/// ways (`Services/<Name>/<Name>Service/Proto/Enums+Proto.swift`, and `CoreEnums+Proto.swift` for
/// OneSealCore's): a new domain case fails to compile until it is mapped, and each service's enum
/// tests check every domain case maps to a proto value and back and every non-zero proto value to
/// a domain case, unless the conformance lists it in `unmappedProtoValues`. (They replaced a
/// mapping by case name through reflection that answered nil, silently, for any name that drifted.)
public protocol ProtoMappedEnum: CaseIterable, Hashable where Proto: SwiftProtobuf.Enum & CaseIterable {
    associatedtype Proto
    /// The domain case of a proto value; nil for UNSPECIFIED, UNRECOGNIZED and `unmappedProtoValues`.
    init?(proto: Proto)
    /// The proto value of this case (never UNSPECIFIED).
    var proto: Proto { get }
    /// Non-zero proto values the domain deliberately has no case for.
    static var unmappedProtoValues: [Proto] { get }
}

extension ProtoMappedEnum {
    public static var unmappedProtoValues: [Proto] { [] }
}

/// The trailer that carries `oneseal.common.v1.BadRequest` on INVALID_ARGUMENT (PROTOCOL.md §12,
/// docs/integrators.md): binary metadata, the serialised message.
public let badRequestTrailerKey = "oneseal-bad-request-bin"

extension FieldViolation {
    /// The wire form, for `RPCError.invalidArgument`.
    public var proto: Common_FieldViolation {
        Common_FieldViolation.with { $0.field = field; $0.description_p = description; $0.reason = reason }
    }
}

extension RPCError {
    /// INVALID_ARGUMENT naming every bad field: the message lists them for people, the
    /// `oneseal-bad-request-bin` trailer carries them for programs (a form puts each next to its input).
    public static func invalidArgument(_ violations: [Common_FieldViolation]) -> RPCError {
        var badRequest = Common_BadRequest()
        badRequest.fieldViolations = violations
        var metadata = Metadata()
        if let bytes: [UInt8] = try? badRequest.serializedBytes() {
            metadata.addBinary(bytes, forKey: badRequestTrailerKey)
        }
        let message = violations.map { "\($0.field): \($0.description_p)" }.joined(separator: "; ")
        return RPCError(code: .invalidArgument, message: message, metadata: metadata)
    }

    /// INVALID_ARGUMENT for one field.
    public static func invalidArgument(field: String, _ description: String, reason: String) -> RPCError {
        invalidArgument([Common_FieldViolation.with { $0.field = field; $0.description_p = description; $0.reason = reason }])
    }

    /// The field violations an INVALID_ARGUMENT carried (for clients and tests).
    public var fieldViolations: [Common_FieldViolation] {
        for value in metadata[badRequestTrailerKey] {
            if case .binary(let bytes) = value, let badRequest = try? Common_BadRequest(serializedBytes: bytes) {
                return badRequest.fieldViolations
            }
        }
        return []
    }
}

extension ServerContext {
    /// The verified caller bound by `AuthServerInterceptor`; a handler reached without one is a
    /// server misconfiguration, answered as UNAUTHENTICATED rather than trusted.
    public static func requireCaller() throws -> Caller {
        guard let caller = Caller.current else {
            throw RPCError(code: .unauthenticated, message: "no verified caller for this call")
        }
        return caller
    }
}

extension Common_Renewal {
    /// The wire form of a renewal (Art. 50) as intake, approval and certificate all carry it.
    public init(_ renewal: RenewalSubject) {
        self.init()
        licenceID = renewal.licenceID
        licence.licenceIdentifier = renewal.licenceIdentifier
        licence.licenceNumber = renewal.licenceNumber
        licence.licenceTypeCode = renewal.licenceTypeCode
        licence.licenceName = renewal.licenceName
        validUntil = Common_CivilDate(renewal.window.validUntil)
        daysBeforeExpiry = Int32(renewal.window.daysBeforeExpiry)
        appliedOn = Common_CivilDate(renewal.appliedOn)
        lastDayToApply = Common_CivilDate(renewal.window.lastDayToApply)
    }

    /// The renewal, or nil when the message is unset or its dates are not calendar days (a message
    /// without a licence identifier or a last valid day names no renewal).
    public var subject: RenewalSubject? {
        guard !licence.licenceIdentifier.isEmpty, hasValidUntil, let until = validUntil.civilDate, let applied = appliedOn.civilDate else { return nil }
        return RenewalSubject(
            licenceID: licenceID, licenceIdentifier: licence.licenceIdentifier, licenceNumber: licence.licenceNumber,
            licenceTypeCode: licence.licenceTypeCode, licenceName: licence.licenceName,
            window: RenewalWindow(validUntil: until, daysBeforeExpiry: Int(daysBeforeExpiry)), appliedOn: applied)
    }
}

extension Common_LicenceChange {
    /// The wire form of a change (Art. 49).
    public init(_ change: LicenceChangeRequest) {
        self.init()
        licenceID = change.licenceID
        licence.licenceIdentifier = change.licenceIdentifier
        licence.licenceNumber = change.licenceNumber
        licence.licenceTypeCode = change.licenceTypeCode
        licence.licenceName = change.licenceName
        holderName = change.holderName
        legalRepresentative = change.legalRepresentative
        place = change.place
        scope = change.scope
        reviewed = change.reviewed
    }

    /// The change, or nil when the message names no licence.
    public var request: LicenceChangeRequest? {
        guard !licence.licenceIdentifier.isEmpty else { return nil }
        return LicenceChangeRequest(
            licenceID: licenceID, licenceIdentifier: licence.licenceIdentifier, licenceNumber: licence.licenceNumber,
            licenceTypeCode: licence.licenceTypeCode, licenceName: licence.licenceName, holderName: holderName.trimmingCharacters(in: .whitespaces),
            legalRepresentative: legalRepresentative.trimmingCharacters(in: .whitespaces), place: place.trimmingCharacters(in: .whitespaces),
            scope: scope.trimmingCharacters(in: .whitespaces), reviewed: reviewed)
    }
}
