/// The intake window's rules (Administrative Licensing Law Art. 32) as plain values: see the
/// files beside this one. No I/O here; the IntakeService handlers persist what these decide.
public enum IntakeRules {}
