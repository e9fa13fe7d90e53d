import OneSealCore

/// 一件事 / 证照联办: one application for several items. Each item becomes its own approval case,
/// decided in parallel; the bundle completes when every case is decided; a material several items
/// list under the same code is asked for and counted once.
public struct ApplicationBundle: Sendable, Hashable, Codable {
    public let items: [CatalogueItem]

    /// Refuses an empty bundle and an item listed twice.
    public init(items: [CatalogueItem]) throws(IntakeRuleError) {
        guard !items.isEmpty else { throw .invalidArgument([FieldViolation(field: "items", description: "at least one item", reason: "required")]) }
        var seen: [String: Int] = [:]
        var violations: [FieldViolation] = []
        for (index, item) in items.enumerated() {
            if let first = seen[item.implementationCode] {
                violations.append(FieldViolation(field: indexPath("items", index), description: "“\(item.implementationCode)” is already items[\(first)]", reason: "duplicate"))
            } else {
                seen[item.implementationCode] = index
            }
        }
        guard violations.isEmpty else { throw .invalidArgument(violations) }
        self.items = items
    }

    /// One material of the bundle's combined list, with the items that need it.
    public struct BundleMaterial: Sendable, Hashable, Codable {
        public let code: String
        public let name: String
        /// Required by at least one item.
        public let required: Bool
        public let implementationCodes: [String]
        /// Listed by more than one item: provided once for all of them.
        public var isShared: Bool { implementationCodes.count > 1 }
    }

    /// The combined materials list, in the order of first appearance; a code listed by several items
    /// appears once.
    public var materials: [BundleMaterial] {
        var order: [String] = []
        var byCode: [String: (name: String, required: Bool, items: [String])] = [:]
        for item in items {
            for material in item.materials {
                if var entry = byCode[material.code] {
                    entry.required = entry.required || material.required
                    entry.items.append(item.implementationCode)
                    byCode[material.code] = entry
                } else {
                    order.append(material.code)
                    byCode[material.code] = (material.name, material.required, [item.implementationCode])
                }
            }
        }
        return order.map { BundleMaterial(code: $0, name: byCode[$0]!.name, required: byCode[$0]!.required, implementationCodes: byCode[$0]!.items) }
    }

    /// How many distinct materials the applicant has to bring (shared ones once).
    public var distinctMaterialCount: Int { materials.count }

    /// Sum of the items' own lists, what the applicant would bring applying item by item.
    public var separateMaterialCount: Int { items.reduce(0) { $0 + $1.materials.count } }

    /// One case per item, in the bundle's order: the application's number with the item's position
    /// (01, 02 …) in place of 00, so every case of a bundle shows which application it came from.
    public func caseNumbers(applicationNumber: CaseNumber) throws(IntakeRuleError) -> [(implementationCode: String, caseNumber: CaseNumber)] {
        guard items.count <= CaseNumber.maximumItemSequence else {
            throw .invalidArgument([FieldViolation(field: "items", description: "a bundle holds at most \(CaseNumber.maximumItemSequence) items", reason: "out_of_range")])
        }
        var result: [(String, CaseNumber)] = []
        for (index, item) in items.enumerated() {
            result.append((item.implementationCode, try applicationNumber.forItem(index + 1)))
        }
        return result
    }

    /// The bundle completes when every item's case is decided; unknown items count as undecided.
    public func isComplete(progress: [String: ItemProgress]) -> Bool {
        items.allSatisfy { progress[$0.implementationCode]?.isDecided ?? false }
    }
}
