// ApprovalRules — the approval service's law as plain Swift values, tested without a database
// (issue #4): the case state machine, sign-off chains by tier, joint review, the statutory clock
// with suspensions and the one extension, instant-approval rules, revocation/cancellation grounds,
// and the audit hash chain. The service (ApprovalService) stores and transports what these decide.
