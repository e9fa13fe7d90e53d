import OneSealCore
import Testing

@Suite("Duration in seconds")
struct DurationSecondsTests {
    @Test("whole and fractional seconds, down to a nanosecond, and negative durations")
    func inSeconds() {
        #expect(Duration.zero.inSeconds == 0)
        #expect(Duration.seconds(600).inSeconds == 600)
        #expect(Duration.milliseconds(1500).inSeconds == 1.5)
        #expect(Duration.milliseconds(250).inSeconds == 0.25)
        #expect(abs(Duration.nanoseconds(1).inSeconds - 1e-9) < 1e-18)
        #expect(Duration.milliseconds(-1500).inSeconds == -1.5)
        #expect(Duration.seconds(7 * 24 * 3600).inSeconds == 604_800)
    }
}
