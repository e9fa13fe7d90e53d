import Foundation
import OneSealStore
import Testing

/// Every stored state of `table` is a fixed point of the store's encoding through PostgreSQL:
/// decoding the row's text gives a value whose encoding, through the column's type (`json`, which
/// keeps the text as written — decision 78) and back, is that same text and decodes to that same
/// value. It is what lets a write remember the text it wrote as the value it wrote
/// (`DecodedDocuments.remember`, #21).
func expectStoredStatesRoundTrip<State: Codable & Equatable>(
    _ type: State.Type, table: StaticString, encode: (State) throws -> String, decoder: JSONDecoder = JSONDecoder(), in database: PostgresClient,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let texts = try await database.query("SELECT state::text AS state FROM \(unescaped: table) ORDER BY id").map { try $0.decode("state", as: String.self) }
    #expect(!texts.isEmpty, "no \(table) to check", sourceLocation: sourceLocation)
    for text in texts {
        let value = try decoder.decode(State.self, from: Data(text.utf8))
        let again = try await database.query("SELECT \(try encode(value))::json::text AS state").one().decode("state", as: String.self)
        #expect(again == text, "\(table): the encoding of a decoded state is not the stored text", sourceLocation: sourceLocation)
        #expect(try decoder.decode(State.self, from: Data(again.utf8)) == value, sourceLocation: sourceLocation)
    }
}
