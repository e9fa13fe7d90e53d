import Foundation
import OneSealCore

/// The text in a licence's QR code: a URL at the node's verification page carrying the licence
/// identifier, the issuing node, the seal's key id and the signature, e.g.
/// `https://zwfw.example.gov.cn/verify?v=1&id=1.2.156.3005.2.….001.X&node=371300&kid=1a2b…&sig=…`.
/// A phone opens the page; `VerifyLicence.qr_payload` accepts the same text and checks that the
/// signature in it is the one the issuer recorded (a QR copied onto a forged paper fails).
public struct QRPayload: Sendable, Hashable {
    public var identifier: LicenceIdentifier
    public var node: String
    public var keyID: String
    public var signature: [UInt8]

    public init(identifier: LicenceIdentifier, node: String, keyID: String, signature: [UInt8]) {
        self.identifier = identifier
        self.node = node
        self.keyID = keyID
        self.signature = signature
    }

    /// Why a text is not a licence QR payload.
    public enum ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        case notAURL
        case missing(String)
        case badIdentifier(LicenceIdentifierError)
        case badSignature

        public var description: String {
            switch self {
            case .notAURL: "the QR text is not a verification URL"
            case .missing(let name): "the QR text has no “\(name)” parameter"
            case .badIdentifier(let error): "licence identifier in the QR text: \(error)"
            case .badSignature: "the signature in the QR text is not base64url"
            }
        }
    }

    public func text(baseURL: String) -> String {
        var components = URLComponents(string: baseURL) ?? URLComponents()
        components.queryItems = (components.queryItems ?? []) + [
            URLQueryItem(name: "v", value: "1"),
            URLQueryItem(name: "id", value: identifier.description),
            URLQueryItem(name: "node", value: node),
            URLQueryItem(name: "kid", value: keyID),
            URLQueryItem(name: "sig", value: Base64URL.encode(signature)),
        ]
        return components.string ?? baseURL
    }

    public init(parsing text: String) throws(ParseError) {
        guard let components = URLComponents(string: text.trimmingCharacters(in: .whitespacesAndNewlines)),
              let items = components.queryItems else { throw .notAURL }
        func value(_ name: String) throws(ParseError) -> String {
            guard let value = items.first(where: { $0.name == name })?.value, !value.isEmpty else { throw .missing(name) }
            return value
        }
        let identifierText = try value("id")
        do { self.identifier = try LicenceIdentifier(parsing: identifierText) } catch { throw .badIdentifier(error) }
        self.node = try value("node")
        self.keyID = try value("kid")
        guard let signature = Base64URL.decode(try value("sig")) else { throw .badSignature }
        self.signature = signature
    }
}
