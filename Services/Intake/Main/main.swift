import IntakeService
import Foundation
import OneSealServiceKit

// oneseal-intake: configuration from the environment (docs/operators.md); stops on SIGTERM/SIGINT.
do {
    await ServiceRunner.main(try IntakeServiceDefinition.make(clock: ProcessClock.fromEnvironment(), sweepInterval: ProcessClock.sweepInterval(default: .seconds(60))))
} catch {
    print("oneseal-intake: cannot load its definition: \(error)")
    exit(2)
}
