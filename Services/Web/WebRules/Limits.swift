/// Input limits at the edge: what a browser may send before any service is asked. A licence QR URL
/// is about 250 bytes and the progress form under 100; anything far larger is not a citizen.
public enum WebLimits {
    /// The request target (path + query) of any page.
    public static let maximumTargetBytes = 2048
    /// A form body (application/x-www-form-urlencoded).
    public static let maximumFormBytes = 4096
    /// Any single form field after decoding.
    public static let maximumFieldCharacters = 64
}

/// The back office's work list (我的待办): a page a hall PC renders at once, and the size of the
/// position a next-page link carries (approval's case-page token, about 60 characters).
public enum WorkList {
    public static let pageSize = 50
    public static let maximumTokenLength = 200
}
