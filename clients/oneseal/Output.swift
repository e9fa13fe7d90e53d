import ArgumentParser
import Foundation
import OneSealProto
import SwiftProtobuf

/// `--json`: one JSON value on standard output instead of the human text, for scripts.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print one JSON object (or array) on standard output instead of text.")
    var json = false

    /// Prints `text()` for people, or `value()` as one line of JSON.
    func emit(_ value: @autoclosure () throws -> Any, text: @autoclosure () throws -> String) throws {
        if json {
            print(try JSONOutput.string(value()))
        } else {
            print(try text())
        }
    }
}

/// The JSON the CLI prints. Protobuf messages use the protobuf JSON mapping with the .proto field
/// names (snake_case, as in the .proto files and PROTOCOL.md), enums by name, keys in field-number
/// order; as proto3 JSON, fields at their default value (0, "", false, empty) are left out.
/// Anything the CLI adds around them uses snake_case keys too, sorted.
enum JSONOutput {
    static var protobufOptions: JSONEncodingOptions {
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        options.useDeterministicOrdering = true
        return options
    }

    /// A message as a Foundation value (to place inside a larger object).
    static func value(_ message: some SwiftProtobuf.Message) throws -> Any {
        let text = try message.jsonString(options: protobufOptions)
        return try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    static func values(_ messages: [some SwiftProtobuf.Message]) throws -> [Any] {
        try messages.map { try value($0) }
    }

    /// One line of JSON.
    static func string(_ value: Any) throws -> String {
        if let message = value as? any SwiftProtobuf.Message {
            return try message.jsonString(options: protobufOptions)
        }
        let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
        return String(decoding: data, as: UTF8.self)
    }
}

/// Hex of bytes (hashes in human output and JSON).
func hexString(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

/// Small pieces of human output.
enum Text {
    /// A protobuf enum value as people read it: the Swift case name in snake_case
    /// (`.inProgress` → `in_progress`), `-` for unspecified.
    static func name(_ value: some SwiftProtobuf.Enum) -> String {
        if value.rawValue == 0 { return "-" }
        var name = ""
        var previous: Character = "_"
        for character in String(describing: value) {
            if character.isUppercase, previous.isLowercase || previous.isNumber { name += "_" }
            name += character.lowercased()
            previous = character
        }
        return name
    }

    /// `YYYY-MM-DD`, or `-` when unset.
    static func date(_ date: Common_CivilDate) -> String {
        date.year == 0 ? "-" : String(format: "%04d-%02d-%02d", date.year, date.month, date.day)
    }
}

extension Text {
    /// Parses a command-line spelling of a protobuf enum value (`in_progress`, as `name` prints
    /// it; case-insensitive, `-` allowed for `_`), naming the option and the choices when wrong.
    static func parse<E: SwiftProtobuf.Enum & CaseIterable>(_ text: String, option: String, as type: E.Type = E.self) throws -> E {
        let wanted = text.lowercased().replacingOccurrences(of: "-", with: "_")
        let choices = E.allCases.filter { $0.rawValue != 0 }
        if let match = choices.first(where: { name($0) == wanted }) { return match }
        throw ValidationError("\(option): '\(text)' is not one of \(choices.map { name($0) }.joined(separator: ", "))")
    }
}

/// Every page of a listing, or its first `limit` items: each response's page token asks for the
/// next page, an empty one ends it. `page` sets the token on its request and makes the call.
func allPages<Item>(limit: Int = .max, _ page: (_ token: String) async throws -> (items: [Item], next: String)) async throws -> [Item] {
    var items: [Item] = []
    var token = ""
    repeat {
        let (more, next) = try await page(token)
        items += more
        token = next
    } while !token.isEmpty && items.count < limit
    return Array(items.prefix(limit))
}
