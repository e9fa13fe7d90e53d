import CertificateService
import Foundation
import OneSealServiceKit

// oneseal-certificate: configuration from the environment (docs/operators.md); stops on SIGTERM/SIGINT.
do {
    await ServiceRunner.main(try CertificateServiceDefinition.make(clock: ProcessClock.fromEnvironment()))
} catch {
    print("oneseal-certificate: cannot load its definition: \(error)")
    exit(2)
}
