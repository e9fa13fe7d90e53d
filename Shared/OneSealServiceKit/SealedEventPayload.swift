import OneSealOutbox
import OneSealPrivacy
import SwiftProtobuf

/// Event payloads sealed while they rest in an outbox (issue #15, finding 8): an accepted
/// application's event carries the applicant's ID number, name and phone, and an outbox row lives
/// until it is delivered (and a while after), so a copy of the database alone would reveal them.
/// The producing service seals the payload with its node's data key (`ONESEAL_DATA_KEY_FILE`)
/// when it writes the row; the relay's `EventDelivery` opens it just before sending. The key is
/// never in the database.
///
/// A sealed payload starts with a 0x00 byte, which no protobuf message can start with (field
/// number 0 does not exist), so rows written before this change, by a service without a data
/// key, or passed on from another node stay readable as they are.
public enum SealedEventPayload {
    static let marker: [UInt8] = [0x00] + Array("oneseal.sealed-event.v1".utf8)

    /// The authenticated context: a sealed payload copied onto another event's row does not open.
    static func context(type: String, aggregateID: String) -> String { "outbox:\(type):\(aggregateID)" }

    public static func seal(_ payload: [UInt8], type: String, aggregateID: String, keyring: DataKeyring) throws -> [UInt8] {
        try seal(payload, context: context(type: type, aggregateID: aggregateID), keyring: keyring)
    }

    /// The payload as sent: opened when sealed, as is otherwise.
    public static func open(_ stored: [UInt8], type: String, aggregateID: String, keyring: DataKeyring?) throws -> [UInt8] {
        try open(stored, context: context(type: type, aggregateID: aggregateID), keyring: keyring)
    }

    /// Any value resting in a table by the same rule (supervision's push records): the marker,
    /// then the value sealed under `context`.
    public static func seal(_ value: [UInt8], context: String, keyring: DataKeyring) throws -> [UInt8] {
        marker + (try keyring.seal(value, context: context))
    }

    /// A value stored by `seal(_:context:keyring:)`, or stored in the clear before sealing began.
    public static func open(_ stored: [UInt8], context: String, keyring: DataKeyring?) throws -> [UInt8] {
        guard isSealed(stored) else { return stored }
        guard let keyring else { throw PrivacyError.malformed }
        return try keyring.open(Array(stored.dropFirst(marker.count)), context: context)
    }

    public static func isSealed(_ stored: [UInt8]) -> Bool {
        stored.count > marker.count && stored.starts(with: marker)
    }
}

extension OutboxEvent {
    /// The one way services make an event for their outbox: `message` for `destination`, about
    /// `aggregate`, its payload sealed when the service holds a data key.
    public static func make(
        _ message: some SwiftProtobuf.Message, to destination: String, aggregate: String, sealedWith keyring: DataKeyring?
    ) throws -> OutboxEvent {
        let type = Swift.type(of: message).protoMessageName
        var payload: [UInt8] = try message.serializedBytes()
        if let keyring { payload = try SealedEventPayload.seal(payload, type: type, aggregateID: aggregate, keyring: keyring) }
        return OutboxEvent(destination: destination, type: type, aggregateID: aggregate, payload: payload)
    }
}
