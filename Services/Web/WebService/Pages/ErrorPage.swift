import WebRules

/// What a citizen sees when something fails: a sentence in Chinese and the request id, never a
/// stack trace or a service's English message.
enum ErrorPage {
    static func render(layout: Layout, title: String, message: String) -> String {
        layout.page(title: title, body: """
        <h1>\(HTML.escape(title))</h1>
        <section class="card verdict warn" role="alert"><p>\(HTML.escape(message))</p></section>
        <p><a href="/">返回首页</a></p>
        """)
    }

    static let unavailable = "系统暂时无法处理，请稍后再试。如多次出现，请拨打办事大厅电话并告知页面下方的请求编号。"
    static let tooMany = "查询过于频繁，请一分钟后再试。"
}
