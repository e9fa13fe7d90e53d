import Testing

@testable import OneSealWire

/// `Open.method` is read byte by byte now; it must accept and refuse exactly what the old
/// `split(separator: "/")` rule did: `/service/method`, both non-empty, no third slash.
@Suite("Method path")
struct MethodPathTests {
    @Test("valid paths split into service and method")
    func valid() {
        let cases: [(String, String, String)] = [
            ("/oneseal.bench.v1.Echo/Unary", "oneseal.bench.v1.Echo", "Unary"),
            ("/a/b", "a", "b"),
            ("/审批.v1.服务/提交", "审批.v1.服务", "提交"),
        ]
        for (path, service, method) in cases {
            let parts = MethodPath.split(path)
            #expect(parts?.service == Substring(service), "\(path)")
            #expect(parts?.method == Substring(method), "\(path)")
            #expect(ServerConnectionStateMachine.isValidMethodPath(path))
        }
    }

    @Test("anything else is refused")
    func invalid() {
        for path in ["", "/", "//", "/a/", "//b", "a/b", "/a/b/", "/a/b/c", "/ab", "oneseal.Echo/Unary", "/a//b"] {
            #expect(MethodPath.split(path) == nil, "'\(path)' should be refused")
            #expect(!ServerConnectionStateMachine.isValidMethodPath(path), "'\(path)'")
        }
        // Well-formed, but with bytes no method name has and a log line must not get (#15).
        for path in ["/a\u{0}/b", "/a/b\u{7F}", "/a b/c", "/a/b\nlevel=critical", "/\u{1B}[2J/x"] {
            #expect(MethodPath.split(path) != nil)
            #expect(!ServerConnectionStateMachine.isValidMethodPath(path), "\(path.debugDescription)")
        }
    }
}
