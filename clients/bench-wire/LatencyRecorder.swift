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

/// CPU time (user + system) this process has used so far, in seconds, across all its threads.
func processCPUSeconds() -> Double {
    var usage = rusage()
    #if canImport(Glibc)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    return user + system
}

/// Latencies (ns) of one run and how many calls completed inside the window.
struct RunResult: Sendable {
    var calls: Int = 0
    var errors: Int = 0
    var seconds: Double = 0
    /// Every successful call of the run, warm-up included (to divide the run's CPU time by).
    var allCalls: Int = 0
    /// Process CPU seconds (client + server + both event loops) spent over the whole run.
    var cpuSeconds: Double = 0

    /// CPU cost of one call, both ends together, in microseconds.
    var cpuMicrosPerCall: Double { allCalls > 0 ? cpuSeconds * 1e6 / Double(allCalls) : 0 }
    var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)

    var callsPerSecond: Double { seconds > 0 ? Double(calls) / seconds : 0 }
    var p50Micros: Double { Double(histogram.valueAtPercentile(50)) / 1000 }
    var p99Micros: Double { Double(histogram.valueAtPercentile(99)) / 1000 }

    mutating func record(started: UInt64, finished: UInt64, in window: MeasurementWindow) {
        allCalls += 1
        guard window.counts(started: started, finished: finished) else { return }
        calls += 1
        _ = histogram.record(finished - started)
    }

    mutating func merge(_ other: RunResult) {
        calls += other.calls
        errors += other.errors
        allCalls += other.allCalls
        histogram.add(other.histogram)
    }
}
