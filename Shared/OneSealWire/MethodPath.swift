/// The `Open.method` path, `/package.Service/Method`, read byte by byte.
///
/// Why not `split(separator: "/")`: that splits by `Character`, with grapheme breaking and an
/// array of substrings per call, and it was 2 % of all CPU in the benchmark's profile (every
/// call is checked once and parsed once). `/` is ASCII, so it can never be part of a multi-byte
/// UTF-8 sequence: scanning the UTF-8 bytes finds the same slashes.
enum MethodPath {
    /// The service and method of `path` if it is `/service/method` with both parts non-empty
    /// and no other slash; nil otherwise.
    static func split(_ path: String) -> (service: Substring, method: Substring)? {
        let utf8 = path.utf8
        guard let first = utf8.first, first == UInt8(ascii: "/") else { return nil }
        let serviceStart = utf8.index(after: utf8.startIndex)
        guard let slash = utf8[serviceStart...].firstIndex(of: UInt8(ascii: "/")), slash != serviceStart else {
            return nil
        }
        let methodStart = utf8.index(after: slash)
        guard methodStart != utf8.endIndex, !utf8[methodStart...].contains(UInt8(ascii: "/")) else { return nil }
        return (path[serviceStart..<slash], path[methodStart...])
    }
}
