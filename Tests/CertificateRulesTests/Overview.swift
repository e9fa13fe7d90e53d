// Tests of CertificateRules: plain values and real dates, no database (Swift Testing).
