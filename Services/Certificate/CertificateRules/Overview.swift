// CertificateRules — the certificate service's rules as plain Swift values, tested without a
// database (issue #5): licence metadata and its canonical bytes, identifiers and numbers, the seal
// (signature) format, licence status over time, and the RFC 9162 Merkle log (hashes, inclusion and
// consistency proofs, signed tree heads).
