import Foundation
import GRPCCore
import OneSealProto
import OneSealStore
import SwiftProtobuf

/// `oneseal.health.v1.Health/Check`: public (no token), answers whether this process can serve,
/// checking its own database with a round trip. Load balancers and `scripts/cluster` use it.
public struct HealthService: Health_Health.SimpleServiceProtocol {
    let configuration: NodeConfiguration
    let database: PostgresClient
    let startedAt: Date
    let instance: String

    public init(configuration: NodeConfiguration, database: PostgresClient, startedAt: Date = Date()) {
        self.configuration = configuration
        self.database = database
        self.startedAt = startedAt
        self.instance = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    }

    public func check(request: Health_CheckRequest, context: ServerContext) async throws -> Health_CheckResponse {
        var response = Health_CheckResponse()
        response.service = self.configuration.service
        response.node = self.configuration.node
        response.version = OneSealVersion.current
        response.instance = self.instance
        response.startedAt = Google_Protobuf_Timestamp(date: self.startedAt)
        response.checkedAt = Google_Protobuf_Timestamp(date: Date())
        // Either the short name ("intake") or the proto service ("oneseal.intake.v1.IntakeService").
        let name = self.configuration.service
        let known: Set<String> = ["", name, "oneseal.\(name).v1.\(name.prefix(1).uppercased() + name.dropFirst())Service"]
        if !known.contains(request.service) {
            response.status = .serviceUnknown
            return response
        }
        var database = Health_ComponentStatus()
        database.name = "postgresql"
        do {
            _ = try await self.database.query("SELECT 1 AS ok")
            database.status = .serving
        } catch {
            database.status = .notServing
            database.detail = "\(error)"
        }
        response.components = [database]
        response.status = database.status == .serving ? .serving : .notServing
        return response
    }
}

public enum OneSealVersion {
    public static let current = "0.1.0"
}
