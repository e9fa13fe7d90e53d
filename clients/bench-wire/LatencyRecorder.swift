#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Histogram

/// Monotonic nanoseconds; cheap enough to read twice per call.
@inline(__always)
func monotonicNanos() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
}

/// The measurement window of one run: calls that start before `start` (warm-up) or finish after
/// `end` are not counted, so every run is judged on the same wall-clock span.
struct MeasurementWindow: Sendable {
    var start: UInt64
    var end: UInt64

    init(warmupSeconds: Double, durationSeconds: Double) {
        let now = monotonicNanos()
        self.start = now + UInt64(warmupSeconds * 1e9)
        self.end = self.start + UInt64(durationSeconds * 1e9)
    }

    var seconds: Double { Double(end - start) / 1e9 }

    func counts(started: UInt64, finished: UInt64) -> Bool { started >= start && finished <= end }
}

/// Latencies (ns) of one run and how many calls completed inside the window.
struct RunResult: Sendable {
    var calls: Int = 0
    var errors: Int = 0
    var seconds: Double = 0
    var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)

    var callsPerSecond: Double { seconds > 0 ? Double(calls) / seconds : 0 }
    var p50Micros: Double { Double(histogram.valueAtPercentile(50)) / 1000 }
    var p99Micros: Double { Double(histogram.valueAtPercentile(99)) / 1000 }

    mutating func record(started: UInt64, finished: UInt64, in window: MeasurementWindow) {
        guard window.counts(started: started, finished: finished) else { return }
        calls += 1
        _ = histogram.record(finished - started)
    }

    mutating func merge(_ other: RunResult) {
        calls += other.calls
        errors += other.errors
        histogram.add(other.histogram)
    }
}
