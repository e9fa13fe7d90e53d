import OneSealServiceKit
import SwiftProtobuf
import Testing

/// The check every service's enum test runs on each of its mappings (`ProtoMappedEnum`): every
/// domain case has its own non-zero proto value and comes back from it, and every non-zero proto
/// value comes back as a domain case unless the mapping lists it as deliberately unmapped (and
/// then it must really give nil).
func checkProtoMapping<Domain: ProtoMappedEnum>(_ type: Domain.Type, sourceLocation: SourceLocation = #_sourceLocation) {
    let name = String(describing: Domain.self)
    var seen: [Int: Domain] = [:]
    for value in Domain.allCases {
        let proto = value.proto
        #expect(proto.rawValue != 0, "\(name).\(value) maps to the proto's UNSPECIFIED", sourceLocation: sourceLocation)
        #expect(Domain(proto: proto) == value, "\(name).\(value) does not come back from \(proto)", sourceLocation: sourceLocation)
        if let other = seen.updateValue(value, forKey: proto.rawValue) {
            Issue.record("\(name).\(value) and .\(other) both map to \(proto)", sourceLocation: sourceLocation)
        }
    }
    let unmapped = Set(Domain.unmappedProtoValues.map(\.rawValue))
    for proto in Domain.Proto.allCases where proto.rawValue != 0 {
        if unmapped.contains(proto.rawValue) {
            #expect(Domain(proto: proto) == nil, "\(proto) is listed as unmapped but maps to a \(name)", sourceLocation: sourceLocation)
        } else {
            #expect(Domain(proto: proto) != nil, "\(proto) has no \(name) case and is not listed as unmapped", sourceLocation: sourceLocation)
        }
    }
    #expect(Domain(proto: Domain.Proto(rawValue: 0)!) == nil, "\(name): UNSPECIFIED must not map to a case", sourceLocation: sourceLocation)
}
