import SupervisionService
import Foundation
import OneSealServiceKit

// oneseal-supervision: configuration from the environment (docs/operators.md); stops on SIGTERM/SIGINT.
do {
    await ServiceRunner.main(try SupervisionServiceDefinition.make(clock: ProcessClock.fromEnvironment(), sweepInterval: ProcessClock.sweepInterval(default: .seconds(300))))
} catch {
    print("oneseal-supervision: cannot load its definition: \(error)")
    exit(2)
}
