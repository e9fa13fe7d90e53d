@testable import OneSealStore
import Testing

@Suite("Composing queries")
struct SQLQueryFragmentTests {
    @Test("a fragment's binds are renumbered after the outer query's")
    func fragments() {
        let status = "submitted"
        let filter: SQLQuery = "status = \(status) AND window_id = \("W1")"
        let query: SQLQuery = "SELECT \(unescaped: "id, name") FROM t WHERE revision > \(3) AND \(filter) AND note <> '$1'"
        #expect(query.sql == "SELECT id, name FROM t WHERE revision > $1 AND status = $2 AND window_id = $3 AND note <> '$1'")
        #expect(query.binds.count == 3)
        #expect(query.binds[1].bytes == Array("submitted".utf8))
        #expect(SQLQuery.renumber("a = $1 AND b = $12 AND c = '$2' AND \"$3\" = $", by: 2) == "a = $3 AND b = $14 AND c = '$2' AND \"$3\" = $")
    }
}
