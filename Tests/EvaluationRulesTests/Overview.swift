// Tests of EvaluationRules: plain values and real dates, no database (Swift Testing).
