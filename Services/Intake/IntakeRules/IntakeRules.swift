/// The intake window's rules (Administrative Licensing Law Art. 32) as plain values; no I/O here,
/// the IntakeService handlers persist what these decide and map the errors to statuses.
///
/// - Catalogue: `CatalogueItem`, `Material`, `Fee`, `CatalogueItem.validate(prefix:)`,
///   `ItemVersion.publishing(_:over:)`, `CatalogueFile.decode(_:)` / `encode(_:)`.
/// - Applications: `ApplicantValidator`, `MaterialCheck`, `ApplicationState.apply(_:calendar:)`
///   with `IntakeAction`, `DeemedAcceptance`, `ApprovalDeadline`.
/// - Bundles and numbers: `ApplicationBundle`, `CaseNumber`.
/// - Errors: `IntakeRuleError` (`invalidArgument` with OneSealCore `FieldViolation`s, `failedPrecondition`, `calendar`).
public enum IntakeRules {}
