import Foundation
import GRPCCore
import OneSealServiceKit

/// How a failed call is told: on standard error, the service and address, the status in its
/// canonical name (INVALID_ARGUMENT …), the message, and each field violation the
/// `oneseal-bad-request-bin` trailer carried — one line each, so the bad field is named even when
/// the message is long. With `--json` the same facts are one JSON object on standard error.
///
/// Exit statuses (docs/operators.md): 0 done; 1 a check answered "no" (audit chain broken, licence
/// not valid, a service not serving); 2 the service refused or could not be reached; 64 bad usage.
enum FailureReport {
    static let rpcExitCode: Int32 = 2

    static func text(_ failure: CallFailure) -> String {
        var lines = ["oneseal: \(failure.endpoint): \(statusName(failure.error.code)): \(failure.error.message)"]
        for violation in failure.error.fieldViolations {
            lines.append("  field \(violation.field): \(violation.description_p)\(violation.reason.isEmpty ? "" : " [\(violation.reason)]")")
        }
        if failure.error.code == .unavailable {
            lines.append("  (is the service running? `oneseal node health --node \(failure.endpoint.node)`)")
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ failure: CallFailure) -> String {
        let violations: [[String: String]] = failure.error.fieldViolations.map {
            ["field": $0.field, "description": $0.description_p, "reason": $0.reason]
        }
        let object: [String: Any] = [
            "error": [
                "service": failure.endpoint.service.rawValue, "node": failure.endpoint.node, "address": failure.endpoint.address,
                "code": statusName(failure.error.code), "message": failure.error.message, "field_violations": violations,
            ] as [String: Any],
        ]
        return (try? JSONOutput.string(object)) ?? "{}"
    }

    /// The gRPC canonical name of a status code, e.g. INVALID_ARGUMENT.
    static func statusName(_ code: RPCError.Code) -> String {
        if code == .internalError { return "INTERNAL" }
        var name = ""
        for character in String(describing: code) {
            if character.isUppercase { name += "_" }
            name += character.uppercased()
        }
        return name
    }

    /// Writes the report of `failure` to standard error.
    static func report(_ failure: CallFailure, asJSON: Bool) {
        let text = asJSON ? json(failure) : text(failure)
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
