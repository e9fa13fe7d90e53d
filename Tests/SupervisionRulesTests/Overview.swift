// Tests of SupervisionRules: plain values and real dates, no database (Swift Testing).
