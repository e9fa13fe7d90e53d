import Hummingbird
import NIOCore
import WebRules

/// The request context: Hummingbird's core storage (which gives every request an id, `context.id`,
/// already in `context.logger` as `hb.request.id`) plus the peer's address for the per-address limits.
struct WebContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteHost: String

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteHost = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// Forms are tiny; anything larger is refused before it is read (413).
    var maxUploadSize: Int { WebLimits.maximumFormBytes }
}
