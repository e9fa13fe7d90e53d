import Foundation
import OneSealAuth
import OneSealServiceKit

/// The intake service as the shared runner starts it: its migrations, its method table and its RPC
/// services. The RPC handlers of `oneseal.intake.v1` are registered here as they are built.
public enum IntakeServiceDefinition {
    public static let name = "intake"

    /// Who may call which method of this service; anything not listed is denied.
    public static let policy = AccessPolicy()

    public static func make() throws -> ServiceDefinition {
        ServiceDefinition(
            name: Self.name,
            migrations: try ServiceDefinition.migrations(in: Bundle.module),
            policy: Self.policy,
            makeServices: { _ in [] }
        )
    }
}
