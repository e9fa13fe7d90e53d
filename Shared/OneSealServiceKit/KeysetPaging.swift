import GRPCCore
import OneSealProto
import OneSealStore

extension InstantPageKey {
    /// Where a keyset list's page starts (decision 58): nil for the first page, the key a token from
    /// a previous page names, and INVALID_ARGUMENT `page.page_token` for anything else — an offset
    /// from an earlier release included, so a client starts again rather than mixing two orders.
    public static func after(_ page: Common_PageRequest) throws -> InstantPageKey? {
        guard !page.pageToken.isEmpty else { return nil }
        guard let key = InstantPageKey(token: page.pageToken) else {
            throw RPCError.invalidArgument(field: "page.page_token", "not a token from a previous page", reason: "format")
        }
        return key
    }
}
