import OneSealCore
import OneSealServiceKit
import OneSealProto
import SupervisionRules

extension Department {
    /// The rules' department from its wire form (active: true; the register decides activity).
    public init(proto: Supervision_Department) {
        self.init(
            code: proto.code.trimmingCharacters(in: .whitespaces), name: proto.name.trimmingCharacters(in: .whitespaces),
            level: DepartmentLevel(proto: proto.level), node: proto.node.trimmingCharacters(in: .whitespaces),
            contactName: proto.contactName, contactPhone: proto.contactPhone,
            delivery: DeliveryMode(proto: proto.delivery) ?? .pull, endpoint: proto.endpoint.trimmingCharacters(in: .whitespaces), active: true)
    }
}
