import EvaluationService
import Foundation
import OneSealServiceKit

// oneseal-evaluation: configuration from the environment (docs/operators.md); stops on SIGTERM/SIGINT.
do {
    await ServiceRunner.main(try EvaluationServiceDefinition.make(clock: ProcessClock.fromEnvironment()))
} catch {
    print("oneseal-evaluation: cannot load its definition: \(error)")
    exit(2)
}
