import CertificateRules
import Foundation
import OneSealCore
import Testing

@Suite("Licence content, status, numbers, Art. 44, QR")
struct LicenceRulesTests {
    @Test("canonical bytes are the deterministic protobuf encoding: field order, defaults left out, map keys sorted")
    func canonicalBytes() {
        var content = Sample.content()
        let bytes = content.canonicalBytes
        // Field 1 (licence_name) first: tag 0x0A, then the UTF-8 length of 食品经营许可证 (7 × 3 bytes).
        #expect(Array(bytes.prefix(2)) == [0x0A, 21])
        // The same map built in another order gives the same bytes.
        content.extraFields = ["主体业态代码": "1", "主体业态": "餐饮服务经营者"]
        #expect(content.canonicalBytes == bytes)
        // A long-term licence leaves field 13 out entirely.
        var longTerm = content
        longTerm.validUntil = nil
        #expect(longTerm.canonicalBytes.count < bytes.count)
        #expect(!longTerm.canonicalBytes.isEmpty)
    }

    @Test("content problems are listed all at once, by field")
    func problems() {
        var content = Sample.content()
        #expect(content.problems(today: Sample.today).isEmpty)
        content.holderCode = "91371302MA3C1234X8"  // wrong GB 32100 check character
        content.scope = " "
        content.validUntil = CivilDate(year: 2020, month: 1, day: 1)
        content.licenceTypeCode = "ABC"
        let fields = content.problems(today: Sample.today).map(\.field)
        #expect(Set(fields) == ["holder.id_number", "scope", "valid_until", "licence_type_code"])
        content = Sample.content()
        content.holderCodeType = .residentID
        content.holderCode = "371302199001011233"
        #expect(content.problems(today: Sample.today).isEmpty)
        content.holderCode = "371302199001011234"
        #expect(content.problems(today: Sample.today).map(\.reason) == ["check_character"])
    }

    @Test("status over time: valid, expired after the last day, acts from their effective day")
    func statusOverTime() throws {
        let issued = CivilDate(year: 2026, month: 1, day: 5)!
        var standing = LicenceStanding(issuedOn: issued, validFrom: issued, validUntil: CivilDate(year: 2026, month: 12, day: 31)!)
        #expect(standing.status(on: issued) == .valid)
        #expect(standing.status(on: CivilDate(year: 2026, month: 12, day: 31)!) == .valid)
        #expect(standing.status(on: CivilDate(year: 2027, month: 1, day: 1)!) == .expired)

        try standing.apply(.revoked, effectiveOn: CivilDate(year: 2026, month: 6, day: 1)!)
        #expect(standing.status(on: CivilDate(year: 2026, month: 5, day: 31)!) == .valid)
        #expect(standing.status(on: CivilDate(year: 2026, month: 6, day: 1)!) == .revoked)
        #expect(standing.status(on: CivilDate(year: 2027, month: 6, day: 1)!) == .revoked)
        #expect(throws: LicenceStatusError.alreadyEnded(.revoked)) { try standing.apply(.cancelled, effectiveOn: CivilDate(year: 2026, month: 7, day: 1)!) }

        var replaced = LicenceStanding(issuedOn: issued, validFrom: issued, validUntil: nil)
        try replaced.apply(.superseded, effectiveOn: CivilDate(year: 2026, month: 3, day: 1)!)
        #expect(replaced.status(on: CivilDate(year: 2030, month: 3, day: 1)!) == .superseded)
        #expect(throws: LicenceStatusError.alreadyEnded(.superseded)) { try replaced.apply(.superseded, effectiveOn: CivilDate(year: 2026, month: 4, day: 1)!) }
        try replaced.apply(.cancelled, effectiveOn: CivilDate(year: 2026, month: 4, day: 1)!)
        #expect(replaced.status(on: CivilDate(year: 2026, month: 4, day: 1)!) == .cancelled)

        var fresh = LicenceStanding(issuedOn: issued, validFrom: issued, validUntil: nil)
        #expect(throws: LicenceStatusError.effectiveBeforeIssue(effective: CivilDate(year: 2025, month: 12, day: 31)!, issued: issued)) {
            try fresh.apply(.cancelled, effectiveOn: CivilDate(year: 2025, month: 12, day: 31)!)
        }
        #expect(LicenceStatus.allCases.map(\.chineseName) == ["有效", "已撤销", "已注销", "已过期", "已换发"])
    }

    @Test("licence numbers by the type's rule; bad rules refused; sequence bounded")
    func numbering() throws {
        let rule = try LicenceNumberRule("JY{field:主体业态代码}{node}{seq:7}")
        let day = CivilDate(year: 2026, month: 11, day: 23)!
        #expect(try rule.number(node: "371302", issuedOn: day, sequence: 1, fields: ["主体业态代码": "1"]) == "JY13713020000001")
        #expect(throws: NumberingError.missingField("主体业态代码")) { try rule.number(node: "371302", issuedOn: day, sequence: 1, fields: [:]) }
        #expect(throws: NumberingError.sequenceExhausted(rule: rule.pattern, digits: 7)) {
            try rule.number(node: "371302", issuedOn: day, sequence: 10_000_000, fields: ["主体业态代码": "1"])
        }
        #expect(rule.counterScope(licenceTypeCode: "T", node: "371302", issuedOn: day) == "number:T:371302")
        let yearly = LicenceNumberRule.default
        #expect(try yearly.number(node: "371300", issuedOn: day, sequence: 42, fields: [:]) == "3713002026000042")
        #expect(yearly.counterScope(licenceTypeCode: "T", node: "371300", issuedOn: day) == "number:T:371300:2026")
        #expect(try LicenceNumberRule("鲁林采〔{yyyy}〕{seq:5}号").number(node: "371300", issuedOn: day, sequence: 3, fields: [:]) == "鲁林采〔2026〕00003号")
        for bad in ["{node}", "{seq:3}{seq:3}", "{seq:0}", "{seq:13}", "{nodes}{seq:2}", "{seq:2", "}{seq:2}"] {
            #expect(throws: NumberingError.self, "\(bad)") { try LicenceNumberRule(bad) }
        }
    }

    @Test("Art. 44: ten working days from the grant, across the 2026 National Day holiday")
    func issueDeadline() throws {
        let decided = CivilDate(year: 2026, month: 9, day: 30)!
        // 10-01…10-07 off, Saturday 10-10 a make-up working day.
        #expect(try IssueDeadline.clock(decidedOn: decided).deadline(in: .china) == CivilDate(year: 2026, month: 10, day: 20)!)
        #expect(try IssueDeadline.workingDaysTaken(decidedOn: decided, issuedOn: decided, calendar: .china) == 0)
        #expect(try IssueDeadline.workingDaysTaken(decidedOn: decided, issuedOn: CivilDate(year: 2026, month: 10, day: 10)!, calendar: .china) == 3)
        let status = try IssueDeadline.clock(decidedOn: decided).status(asOf: CivilDate(year: 2026, month: 10, day: 21)!, in: .china)
        #expect(status.isOverdue)
    }

    @Test("QR payload: a verification URL that round-trips identifier, node, key and signature")
    func qrPayload() throws {
        let identifier = try LicenceIdentifier(parsing: IdentifierTests.real[0])
        let signature = (0..<64).map { UInt8($0 * 3 & 0xFF) }
        let payload = QRPayload(identifier: identifier, node: "371300", keyID: "0123456789abcdef", signature: signature)
        let text = payload.text(baseURL: "https://zwfw.linyi.gov.cn/verify")
        #expect(text.hasPrefix("https://zwfw.linyi.gov.cn/verify?v=1&id=1.2.156.3005.2."))
        #expect(try QRPayload(parsing: text) == payload)
        #expect(throws: QRPayload.ParseError.missing("sig")) { try QRPayload(parsing: "https://x/verify?id=\(identifier)&node=371300&kid=ab") }
        var altered = Array(identifier.description)
        altered[altered.count - 1] = altered.last == "A" ? "B" : "A"
        #expect(throws: QRPayload.ParseError.self) {
            try QRPayload(parsing: "https://x/verify?id=\(String(altered))&node=371300&kid=ab&sig=AAAA")
        }
    }
}
