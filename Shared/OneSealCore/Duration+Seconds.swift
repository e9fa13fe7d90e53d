extension Duration {
    /// The duration as a number of seconds, for what takes one: `TimeInterval`, SQL's
    /// `make_interval(secs => …)`, backoff and jitter arithmetic. Exact to the attosecond as far
    /// as a `Double` holds it.
    public var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
