import Logging
import OneSealProto
import OneSealServiceKit
import OneSealStore

/// The public guide — GetItem of an item's current version — kept in memory while a LISTEN hears
/// every publication (`NotifiedCache`), so the guide a front-end loads before each submit (and
/// every page of the online hall that shows an item) is not a database read: it was one
/// autocommitted statement, one commit, per case (#21).
///
/// Catalogue rows are only ever inserted (a publication is a new version), and migration 0010's
/// trigger NOTIFYs `intake_catalogue_changed` with the item's code inside the publishing
/// transaction. A notification drops that code's guide; a lost LISTEN connection drops them all
/// and serves none until it listens again (`PostgresNotification.interruption`), so a guide is
/// at most one NOTIFY's delivery old. A fill records the generation before its read and keeps
/// the answer only if no notification came meanwhile: a read that began before a publication
/// committed cannot put the old version back after the publication dropped it. Nothing else is
/// cached: a submit still reads and pins the current version in its own transaction (decision 64),
/// so a guide one NOTIFY late can only show the old version, never make a case of it.
public typealias GuideCache = NotifiedCache<Intake_GetItemResponse>

extension NotifiedCache where Value == Intake_GetItemResponse {
    static var guideChannel: String { "intake_catalogue_changed" }

    /// A county's catalogue is a few thousand items, a guide a few KB.
    public convenience init(database: PostgresClient, capacity: Int = 4096, logger: Logger) {
        self.init(database: database, channel: Self.guideChannel, name: "the guide cache", capacity: capacity, logger: logger)
    }
}
