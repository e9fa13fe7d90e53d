import GRPCCore
import Logging
import OneSealAuth
import OneSealTrace

extension ServiceRunner {
    /// The interceptors of every RPC server of a service, in order. One list for both doors — the
    /// OneSeal TCP port and the gRPC HTTP/2 port — so a call is traced, counted, authorized,
    /// validated and mapped to its status the same way whichever transport carried it.
    public static func serverInterceptors(
        verifier: TokenVerifier, policy: AccessPolicy, localNode: String, serviceCertificates: AuthServerInterceptor.ServiceCertificateRule,
        logger: Logger, uniqueViolationIsAlreadyExists: Bool
    ) -> [any ServerInterceptor] {
        [
            TraceServerInterceptor(),
            MetricsServerInterceptor(),
            AuthServerInterceptor(
                verifier: verifier,
                policy: policy,
                localNode: localNode,
                serviceCertificates: serviceCertificates,
                logger: Logger(label: "oneseal.auth")
            ),
            // After authentication, so an anonymous caller's junk costs only the token check.
            RequestValidationInterceptor(),
            ContractStatusInterceptor(logger: logger, uniqueViolationIsAlreadyExists: uniqueViolationIsAlreadyExists),
        ]
    }
}
