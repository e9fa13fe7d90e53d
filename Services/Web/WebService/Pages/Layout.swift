import WebRules

/// The page shell every page shares: language zh-CN, a viewport for phones, the one stylesheet, a
/// skip link for keyboard users, the node's name in the header and the request id in the footer
/// (what a citizen quotes when calling the hall about an error page).
struct Layout {
    var siteName: String
    var requestID: String

    /// `refreshSeconds`: the page reloads itself (a live board on a hall's wall screen, no script).
    func page(title: String, body: String, script: Bool = false, refreshSeconds: Int? = nil) -> String {
        """
        <!doctype html>
        <html lang="zh-CN">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        \(refreshSeconds.map { "<meta http-equiv=\"refresh\" content=\"\($0)\">" } ?? "")<title>\(HTML.escape(title)) - \(HTML.escape(siteName))</title>
        <link rel="stylesheet" href="\(Assets.stylePath)">
        </head>
        <body>
        <a class="skip-link" href="#main">跳到正文</a>
        <header class="site"><a href="/">\(HTML.escape(siteName))</a></header>
        <main id="main">
        \(body)
        </main>
        <footer class="site"><p>\(HTML.escape(siteName)) 政务服务网 · <a href="/">首页</a></p><p class="request-id">请求编号：\(HTML.escape(requestID))</p></footer>
        \(script ? "<script src=\"\(Assets.scriptPath)\" defer></script>" : "")
        </body>
        </html>
        """
    }
}
