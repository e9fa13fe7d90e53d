import ApprovalService
import Foundation
import OneSealServiceKit

// oneseal-approval: configuration from the environment (docs/operators.md); stops on SIGTERM/SIGINT.
do {
    await ServiceRunner.main(try ApprovalServiceDefinition.make())
} catch {
    print("oneseal-approval: cannot load its definition: \(error)")
    exit(2)
}
