// oneseal-bench-wire: how fast is OneSeal TCP under GRPCCore, and how close does it come to raw
// SwiftNIO moving the very same frames on one connection?
//
//   swift build --scratch-path .build-bench -c release --product oneseal-bench-wire
//   .build-bench/release/oneseal-bench-wire --duration 10
//
// A benchmark program, not a test: it prints figures and never fails on them. See
// docs/benchmarks.md for recorded runs and what the numbers mean.
import ArgumentParser

// Parsed by ArgumentParser, run by hand: top-level code would pick ParsableCommand's synchronous
// `main()`, which never reaches an async `run()`.
let command = BenchWire.parseOrExit()
do {
    try await command.runBenchmark()
} catch {
    BenchWire.exit(withError: error)
}
