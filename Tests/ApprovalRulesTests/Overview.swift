// Tests of ApprovalRules: plain values and real dates, no database (Swift Testing).
