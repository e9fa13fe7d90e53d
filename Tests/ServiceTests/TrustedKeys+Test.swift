import OneSealAuth

extension TokenSigningKey {
    /// ONESEAL_TOKEN_PUBLIC_KEYS for a test service that trusts this one key for every node the
    /// tests mint tokens for (371300, its county 371302, and 371311), in every role. Deployments
    /// bind each node's own key to that node only; the tests that a key cannot vouch for another
    /// node are in OneSealAuthTests (TokenBindingTests) and NodeConfigurationTests.
    var testTrustEntries: String {
        let key = self.publicKey.rawRepresentation.base64EncodedString()
        return ["371300", "371302", "371311"].map { "\($0)=\(key)" }.joined(separator: ",")
    }
}
