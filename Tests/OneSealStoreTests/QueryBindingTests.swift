import Foundation
import OneSealStore
import OneSealTestSupport
import Testing

@Suite("Parameter binding and decoding")
struct QueryBindingTests {
    @Test func injectionLookingStringsAreStoredVerbatim() async throws {
        try await withTestDatabase(prefix: "bind") { client in
            try await client.execute("CREATE TABLE notes (id bigserial PRIMARY KEY, body text NOT NULL)")
            let nasty = [
                "'; DROP TABLE notes; --", "Robert'); DELETE FROM notes; --", "$1", "\\x00 \\' \"quoted\"", "行政审批 ✓",
            ]
            for text in nasty {
                try await client.execute("INSERT INTO notes (body) VALUES (\(text))")
            }
            let rows = try await client.query("SELECT body FROM notes ORDER BY id")
            #expect(try rows.map { try $0.decode("body", as: String.self) } == nasty)
            let found = try await client.query("SELECT count(*) AS n FROM notes WHERE body = \(nasty[0])").one()
            #expect(try found.decode("n", as: Int.self) == 1)
        }
    }

    @Test func typesRoundTripIncludingNullsBytesAndTimestamps() async throws {
        try await withTestDatabase(prefix: "types") { client in
            try await client.execute(
                """
                CREATE TABLE v (i int8, i4 int4, b bool, d float8, bytes bytea, at timestamptz, u uuid, s text)
                """)
            let bytes: [UInt8] = [0, 1, 2, 0x27, 0x5C, 0xFF, 0]
            let at = Date(timeIntervalSince1970: 1_763_800_000.123456)
            let id = UUID()
            try await client.execute(
                "INSERT INTO v VALUES (\(Int64.max), \(Int32(-7)), \(true), \(3.25), \(bytes), \(at), \(id), \(String?.none))")
            let row = try await client.query("SELECT * FROM v").one()
            #expect(try row.decode("i", as: Int64.self) == Int64.max)
            #expect(try row.decode("i4", as: Int.self) == -7)
            #expect(try row.decode("b", as: Bool.self) == true)
            #expect(try row.decode("d", as: Double.self) == 3.25)
            #expect(try row.decode("bytes", as: [UInt8].self) == bytes)
            #expect(try row.decode("bytes", as: Data.self) == Data(bytes))
            let decoded = try row.decode("at", as: Date.self)
            #expect(abs(decoded.timeIntervalSince1970 - at.timeIntervalSince1970) < 0.000_001)
            #expect(try row.decode("u", as: UUID.self) == id)
            #expect(try row.decode("s", as: String?.self) == nil)
            #expect(row.isNull("s"))

            // The server agrees on the instant (not just our own round trip).
            let epoch = try await client.query("SELECT extract(epoch FROM at)::float8 AS e FROM v").one()
            #expect(abs(try epoch.decode("e", as: Double.self) - at.timeIntervalSince1970) < 0.000_001)
        }
    }

    @Test func decodingErrorsNameTheProblem() async throws {
        try await withTestDatabase(prefix: "decode") { client in
            let row = try await client.query("SELECT NULL::text AS missing_value, 'x'::text AS word").one()
            #expect(throws: PostgresDecodingError.self) { try row.decode("missing_value", as: String.self) }
            #expect(throws: PostgresDecodingError.self) { try row.decode("word", as: Int.self) }
            #expect(throws: PostgresDecodingError.self) { try row.decode("nope", as: String.self) }
            do {
                _ = try row.decode("missing_value", as: String.self)
            } catch let error as PostgresDecodingError {
                #expect(error.reason == .unexpectedNull)
                #expect(error.description.contains("missing_value"))
            }
        }
    }

    @Test func textArraysBindAsArrays() async throws {
        try await withTestDatabase(prefix: "arrays") { client in
            let values = ["a", "b,c", "d\"e", "f\\g", "NULL", "", "行政审批 ✓"]
            let rows = try await client.query("SELECT x FROM unnest(\(SQLArray(values))::text[]) WITH ORDINALITY AS t(x, n) ORDER BY n")
            #expect(try rows.map { try $0.decode("x", as: String.self) } == values)
            let back = try await client.query("SELECT \(SQLArray(values))::text[] AS a").one()
            #expect(try back.decode("a", as: SQLTextArray.self).elements == values)
            let ids = try await client.query("SELECT 2 = ANY(\(SQLArray([1, 2, 3]))) AS hit").one()
            #expect(try ids.decode("hit", as: Bool.self))
        }
    }

    @Test("arrays are written in PostgreSQL's binary array form byte for byte: header, length, each element's length and bytes, -1 for NULL")
    func binaryArrayBytes() throws {
        func int32(_ value: Int32) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }
        func header(_ count: Int32, nulls: Bool = false, element: UInt32) -> [UInt8] {
            int32(1) + int32(nulls ? 1 : 0) + int32(Int32(element)) + int32(count) + int32(1)
        }
        #expect(SQLArray([String]()).sqlBind.bytes == int32(0) + int32(0) + int32(Int32(PostgresTypeOID.text)))
        #expect(SQLArray(["a", "", "审"]).sqlBind.bytes
            == header(3, element: PostgresTypeOID.text) + int32(1) + [0x61] + int32(0) + int32(3) + Array("审".utf8))
        #expect(SQLArray(["x", nil] as [String?]).sqlBind.bytes == header(2, nulls: true, element: PostgresTypeOID.text) + int32(1) + [0x78] + int32(-1))
        #expect(SQLArray([[0x00, 0x5c]] as [[UInt8]]).sqlBind.bytes == header(1, element: PostgresTypeOID.bytea) + int32(2) + [0x00, 0x5c])
        #expect(SQLArray([-2]).sqlBind.bytes == header(1, element: PostgresTypeOID.int8) + int32(8) + [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe])
        #expect(SQLArray([true, false]).sqlBind.bytes == header(2, element: PostgresTypeOID.bool) + int32(1) + [1] + int32(1) + [0])
        // 2000-01-01 is zero; 1970 is 946,684,800 s before it.
        #expect(SQLArray([Date(timeIntervalSince1970: 946_684_800)] as [Date?]).sqlBind.bytes
            == header(1, element: PostgresTypeOID.timestamptz) + int32(8) + [0, 0, 0, 0, 0, 0, 0, 0])
        let id = UUID(uuidString: "00112233-4455-6677-8899-aabbccddeeff")!
        #expect(SQLArray([id]).sqlBind.bytes == header(1, element: PostgresTypeOID.uuid) + int32(16) + [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff])
        #expect(SQLArray(["a"]).sqlBind.typeOID == PostgresTypeOID.textArray && SQLArray(["a"]).sqlBind.isBinary)
        #expect(SQLArray([[0x01]] as [[UInt8]]).sqlBind.typeOID == PostgresTypeOID.byteaArray)
    }

    @Test("uuid, int8, bool and empty arrays come back as sent")
    func otherArraysBindAsArrays() async throws {
        try await withTestDatabase(prefix: "binarrays") { client in
            let ids = [UUID(), UUID(uuidString: "00112233-4455-6677-8899-aabbccddeeff")!]
            let back = try await client.query("SELECT x::text AS x FROM unnest(\(SQLArray(ids))::uuid[]) WITH ORDINALITY AS t(x, n) ORDER BY n")
            #expect(try back.map { try $0.decode("x", as: String.self) } == ids.map { $0.uuidString.lowercased() })
            let numbers: [Int64] = [0, -1, Int64.max, Int64.min]
            let sums = try await client.query("SELECT x::text AS x FROM unnest(\(SQLArray(numbers))::int8[]) WITH ORDINALITY AS t(x, n) ORDER BY n")
            #expect(try sums.map { try $0.decode("x", as: String.self) } == numbers.map { String($0) })
            let flags = try await client.query("SELECT array_to_string(\(SQLArray([true, false, true])), ',') AS x").one()
            #expect(try flags.decode("x", as: String.self) == "t,f,t")
            let empty = try await client.query("""
                SELECT cardinality(\(SQLArray([String]()))::text[]) + cardinality(\(SQLArray([UUID]()))::uuid[])
                     + cardinality(\(SQLArray([Int64]()))::int8[]) + cardinality(\(SQLArray([[UInt8]]()))::bytea[]) AS n
                """).one()
            #expect(try empty.decode("n", as: Int.self) == 0)
        }
    }

    @Test("nullable text, bytea and timestamptz arrays come back element for element, NULLs and every byte kept")
    func rowArraysBindAsArrays() async throws {
        try await withTestDatabase(prefix: "rowarrays") { client in
            let texts: [String?] = ["a", nil, "NULL", "d\"e\\f", ""]
            let rows = try await client.query("SELECT x FROM unnest(\(SQLArray(texts))::text[]) WITH ORDINALITY AS t(x, n) ORDER BY n")
            #expect(try rows.map { try $0.decode("x", as: String?.self) } == texts)
            let blobs: [[UInt8]] = [[], [0x00, 0x5c, 0x22, 0x2c, 0x7b, 0x7d, 0xff], Array(0...255)]
            let back = try await client.query("SELECT x FROM unnest(\(SQLArray(blobs))::bytea[]) WITH ORDINALITY AS t(x, n) ORDER BY n")
            #expect(try back.map { try $0.decode("x", as: [UInt8].self) } == blobs)
            let times: [Date?] = [Date(timeIntervalSince1970: 1_790_000_000.123456), nil, Date(timeIntervalSince1970: 0)]
            let stamps = try await client.query(
                "SELECT extract(epoch FROM x)::float8 AS s FROM unnest(\(SQLArray(times))::timestamptz[]) WITH ORDINALITY AS t(x, n) ORDER BY n")
            let seconds = try stamps.map { try $0.decode("s", as: Double?.self) }
            #expect(seconds.count == 3 && seconds[1] == nil)
            #expect(abs((seconds[0] ?? 0) - 1_790_000_000.123456) < 0.000_001 && seconds[2] == 0)
        }
    }

    @Test func identifiersAreValidated() throws {
        #expect(throws: SQLIdentifierError.self) { try SQLIdentifier("Robert\"; DROP") }
        #expect(throws: SQLIdentifierError.self) { try SQLIdentifier("1abc") }
        #expect(try SQLIdentifier("oneseal_intake").quoted == "\"oneseal_intake\"")
    }
}
