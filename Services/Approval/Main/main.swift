import ApprovalService
import Foundation
import OneSealServiceKit

// oneseal-approval: configuration from the environment (docs/operators.md); stops on SIGTERM/SIGINT.
do {
    await ServiceRunner.main(try ApprovalServiceDefinition.make(clock: ProcessClock.fromEnvironment(), sweepInterval: ProcessClock.sweepInterval(default: .seconds(300))))
} catch {
    print("oneseal-approval: cannot load its definition: \(error)")
    exit(2)
}
