import Foundation
import OneSealStore
import OneSealTestSupport
import Testing

@Suite("Keyset pages and capped totals")
struct ListPagingTests {
    @Test("a page token names the last row exactly and refuses anything else")
    func tokens() throws {
        let id = UUID(uuidString: "3F2A5C1E-0000-4000-8000-00000000000A")!
        let key = InstantPageKey(at: Date(timeIntervalSince1970: 1_796_000_000.123456), id: id)
        #expect(key.microseconds == 1_796_000_000_123_456)
        #expect(key.token == "t1.1796000000123456.3f2a5c1e-0000-4000-8000-00000000000a")
        #expect(InstantPageKey(token: key.token) == key)
        // Microseconds survive Date both ways over the years a hall sees.
        for micros: Int64 in [0, 1, 946_684_800_000_001, 1_796_000_000_999_999, 4_102_444_799_999_999, -1] {
            let again = InstantPageKey(at: InstantPageKey(token: "t1.\(micros).\(id.uuidString)")!.at, id: id)
            #expect(again.microseconds == micros)
        }
        for bad in ["", "12", "t1.", "t1.12", "t1.12.", "t1.x.\(id.uuidString)", "t2.12.\(id.uuidString)",
                    "t1.99999999999999999999.\(id.uuidString)", "t1.12.\(id.uuidString)x", "t1.1.2.3",
                    "t1.--1.\(id.uuidString)", "t1.12.not-a-uuid-000000000000000000000", String(repeating: "t1.1", count: 40)] {
            #expect(InstantPageKey(token: bad) == nil, "\(bad)")
        }
    }

    @Test("keyset pages over rows sharing a timestamp return each row once, in order, from the database")
    func keysetPages() async throws {
        try await withTestDatabase(prefix: "keyset") { client in
            try await client.execute("CREATE TABLE rows (id uuid PRIMARY KEY, at timestamptz NOT NULL)")
            // Three rows share each instant: the id breaks the tie, microseconds count.
            try await client.execute("""
                INSERT INTO rows SELECT gen_random_uuid(), timestamptz '2026-12-04 08:00:00.000001+00' + (n / 3) * interval '1 microsecond'
                FROM generate_series(1, 20) AS n
                """)
            var seen: [UUID] = []
            var after: InstantPageKey?
            repeat {
                let condition: SQLQuery = after.map { "(at, id) > (\($0.at)::timestamptz, \($0.id)::uuid)" } ?? "TRUE"
                let page = try await client.query("SELECT id, at FROM rows WHERE \(condition) ORDER BY at, id LIMIT 3")
                seen += try page.map { try $0.decode("id", as: UUID.self) }
                after = try page.last.map { InstantPageKey(at: try $0.decode("at", as: Date.self), id: try $0.decode("id", as: UUID.self)) }
                if let key = after { after = InstantPageKey(token: key.token) }
            } while after != nil
            let all = try await client.query("SELECT id FROM rows ORDER BY at, id").map { try $0.decode("id", as: UUID.self) }
            #expect(seen == all && all.count == 20)
        }
    }

    @Test("a total counts exactly up to the cap and stops one past it")
    func cappedTotals() async throws {
        try await withTestDatabase(prefix: "capped") { client in
            try await client.execute("CREATE TABLE rows (n int8 NOT NULL)")
            try await client.execute("INSERT INTO rows SELECT generate_series(1, \(ListTotal.cap + 500))")
            func total(_ filter: SQLQuery) async throws -> Int64 {
                try await client.query(ListTotal.query(from: "rows", where: filter)).one().decode("n", as: Int64.self)
            }
            #expect(try await total("n <= \(7)") == 7)
            #expect(try await total("n <= \(ListTotal.cap)") == Int64(ListTotal.cap))
            let broad = try await total("TRUE")
            #expect(broad == Int64(ListTotal.cap) + 1 && ListTotal.isCapped(broad))
            #expect(!ListTotal.isCapped(Int64(ListTotal.cap)))
        }
    }
}
