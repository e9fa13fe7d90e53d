import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealLocalCluster
import OneSealProto
import Testing

/// The law's procedures of #20 on the real two-node cluster, over RPC only, with the executables'
/// clock moved on where the law's days must pass: renewal (延续, Art. 50) — too late is refused with
/// its reason, undecided is granted by law the day after the last valid day and issued as the
/// licence's next version; change (变更, Art. 49) — re-issued, the old identifier superseded at both
/// nodes; hearing (听证, Arts. 46–48) — from the notice of the right to the decision on the record.
@Suite("The law's procedures end to end (renewal, change, hearing)", .serialized)
struct LawProceduresEndToEndTests {
    static let county = Hall.county
    static let city = Hall.city

    @Test("a renewal nobody decided is deemed granted: version 002 with the new validity, the old one superseded at both nodes, in the log")
    func deemedRenewal() async throws {
        let clockFile = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-e2e-renewal-clock-\(UUID().uuidString.prefix(8))")
        try "0".write(to: clockFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: clockFile) }
        try await withTwoNodes(environment: ["ONESEAL_TEST_CLOCK_FILE": clockFile.path, "ONESEAL_SWEEP_INTERVAL_SECONDS": "0.5"]) { _, hall in
            func shift(days: Int) throws { try String(days * 86_400).write(to: clockFile, atomically: true, encoding: .utf8) }
            let today = CivilDate.today()
            let validUntil = today.adding(days: 40)

            // The licence to renew: a county food licence valid for 40 more days.
            let first = try await hall.submit(at: Self.county, items: [Hall.countyFoodItem])
            _ = try await hall.accept(at: Self.county, first.application.applicationID)
            let firstCase = try #require(try await hall.cases(of: first.application.applicationID, at: Self.county).first)
            let (_, decider) = try await hall.signChain(firstCase.caseID, at: Self.county)
            var terms = Hall.grant
            terms.validUntil = Common_CivilDate(validUntil)
            _ = try await hall.clients.approval(Self.county).decide(.with { $0.caseID = firstCase.caseID; $0.grant = terms }, metadata: decider)
            let old = try await hall.licence(ofCase: firstCase.caseID, at: Self.county)
            let oldIdentifier = old.content.licenceIdentifier
            #expect(old.content.validUntil.civilDate == validUntil)

            // 40 days before expiry: in time; the application and then its case carry the renewal.
            let renewal = try await hall.submit(at: Self.county, items: [Hall.countyFoodItem], renewalOf: oldIdentifier)
            #expect(renewal.application.renewal.licence.licenceIdentifier == oldIdentifier)
            #expect(renewal.application.renewal.validUntil.civilDate == validUntil)
            #expect(renewal.application.renewal.lastDayToApply.civilDate == validUntil.adding(days: -30))
            _ = try await hall.accept(at: Self.county, renewal.application.applicationID)
            let opened = try #require(try await hall.cases(of: renewal.application.applicationID, at: Self.county).first)
            #expect(opened.renewal.licence.licenceIdentifier == oldIdentifier)
            #expect(opened.status == .inProgress)

            // 15 days on, 25 days are left: fewer than Art. 50's 30, refused on renewal_of with the last day.
            try shift(days: 15)
            try await Task.sleep(for: .milliseconds(500))
            let lastDay = validUntil.adding(days: -30).iso8601
            await #expect {
                _ = try await hall.submit(at: Self.county, items: [Hall.countyFoodItem], renewalOf: oldIdentifier)
            } throws: { error in
                guard let error = error as? RPCError, error.code == .invalidArgument else { return false }
                return error.message.contains("renewal_of") && error.message.contains(lastDay)
            }

            // Nobody decides. On the last valid day nothing happens; the day after, the law grants it.
            try shift(days: 40)
            try await Task.sleep(for: .seconds(2))
            #expect(try await hall.getCase(opened.caseID, at: Self.county).status == .inProgress, "not deemed on the last valid day")
            try shift(days: 41)
            let deemed = try await eventually("renewal case \(opened.caseNumber) deemed granted") {
                let current = try await hall.getCase(opened.caseID, at: Self.county)
                return current.status == .granted ? current : nil
            }
            #expect(deemed.decision.deemedRenewal)
            #expect(deemed.decision.decidedBy.subject == "renewal-sweeper")
            #expect(deemed.decision.decidedOn.civilDate == validUntil.next)
            #expect(String(decoding: deemed.decision.document.content, as: UTF8.self).contains("视为准予延续"), "the 准予延续 document")

            // The certificate service issues version 002 of the same licence: same serial, holder and
            // number, the new validity from the day after the old one ended, a correct check character.
            let renewed = try await hall.licence(ofCase: opened.caseID, at: Self.county)
            let oldID = try LicenceIdentifier(parsing: oldIdentifier)
            let newID = try LicenceIdentifier(parsing: renewed.content.licenceIdentifier)
            #expect(newID.serial == oldID.serial && newID.version == 2 && oldID.version == 1)
            #expect(newID.checkCharacter == ISO7064.mod37_36CheckCharacter(for: newID.typeCode + newID.issuer + newID.serial + "002"))
            #expect(renewed.content.version == "002")
            #expect(renewed.content.holderCode == old.content.holderCode && renewed.content.holderName == old.content.holderName)
            #expect(renewed.content.licenceNumber == old.content.licenceNumber)
            #expect(renewed.content.validFrom.civilDate == validUntil.next)
            #expect(renewed.content.validUntil.civilDate == validUntil.next.adding(months: 60).previous)

            // The old identifier now says superseded and points to the renewed one, here and at the city (互认).
            for node in [Self.county, Self.city] {
                let verified = try await eventually("old licence superseded at \(node)") {
                    let answer = try await hall.verify(oldIdentifier, at: node)
                    return answer.status == .superseded ? answer : nil
                }
                #expect(verified.supersededBy == renewed.content.licenceIdentifier, "at \(node)")
                #expect(verified.authenticity == .authentic, "at \(node)")
            }
            // The renewed licence is in the transparency log and valid at both nodes.
            for node in [Self.county, Self.city] {
                let verified = try await eventually("renewed licence logged and valid at \(node)") {
                    let answer = try await hall.verify(renewed.content.licenceIdentifier, at: node)
                    return answer.valid && answer.includedInLog ? answer : nil
                }
                #expect(verified.status == .valid)
            }
        }
    }

    @Test("a change re-issues the licence: recorded matters at once, a reviewed scope after the decision; each old identifier verifies as superseded at both nodes")
    func changeReissues() async throws {
        try await withTwoNodes { _, hall in
            let first = try await hall.submit(at: Self.county, items: [Hall.countyFoodItem])
            _ = try await hall.accept(at: Self.county, first.application.applicationID)
            let firstCase = try #require(try await hall.cases(of: first.application.applicationID, at: Self.county).first)
            try await hall.grant(firstCase.caseID, at: Self.county)
            let original = try await hall.licence(ofCase: firstCase.caseID, at: Self.county)

            // A new legal representative and address: recorded matters for this item (only the scope
            // is reviewed), so the case is granted as it opens and the licence re-issued as 002.
            let recorded = Common_LicenceChange.with {
                $0.licence.licenceIdentifier = original.content.licenceIdentifier
                $0.legalRepresentative = "赵六"
                $0.place = "兰山区解放路9号"
            }
            let submitted = try await hall.submit(at: Self.county, items: [Hall.countyFoodItem], change: recorded)
            #expect(submitted.application.change.reviewed.isEmpty)
            _ = try await hall.accept(at: Self.county, submitted.application.applicationID)
            let recordedCase = try #require(try await hall.cases(of: submitted.application.applicationID, at: Self.county).first)
            let granted = try await eventually("recorded change granted") {
                let current = try await hall.getCase(recordedCase.caseID, at: Self.county)
                return current.status == .granted ? current : nil
            }
            #expect(granted.decision.decidedBy.subject == "change-register")
            #expect(String(decoding: granted.decision.document.content, as: UTF8.self).contains("第四十九条"), "the change decision")
            let second = try await hall.licence(ofCase: recordedCase.caseID, at: Self.county)
            #expect(second.content.version == "002")
            #expect(second.content.place == "兰山区解放路9号")
            #expect(second.content.extraFields["法定代表人"] == "赵六")
            #expect(second.content.scope == original.content.scope)
            #expect(second.content.licenceNumber == original.content.licenceNumber)
            #expect(second.content.validUntil == original.content.validUntil)
            let oldID = try LicenceIdentifier(parsing: original.content.licenceIdentifier)
            let newID = try LicenceIdentifier(parsing: second.content.licenceIdentifier)
            #expect(newID.serial == oldID.serial && newID.version == 2)
            #expect(newID.checkCharacter == ISO7064.mod37_36CheckCharacter(for: newID.typeCode + newID.issuer + newID.serial + "002"))
            for node in [Self.county, Self.city] {
                let verified = try await eventually("original superseded at \(node)") {
                    let answer = try await hall.verify(original.content.licenceIdentifier, at: node)
                    return answer.status == .superseded ? answer : nil
                }
                #expect(verified.supersededBy == second.content.licenceIdentifier, "at \(node)")
                #expect(verified.authenticity == .authentic && !verified.valid, "at \(node): superseded, not revoked")
            }

            // A scope change is reviewed: the case waits for the chain, and 003 carries the scope the
            // decision granted (narrower than the one asked for), not the one asked for.
            let reviewed = Common_LicenceChange.with {
                $0.licence.licenceIdentifier = second.content.licenceIdentifier
                $0.scope = "预包装食品销售，散装食品销售，热食类食品制售"
            }
            let scopeApplication = try await hall.submit(at: Self.county, items: [Hall.countyFoodItem], change: reviewed)
            #expect(scopeApplication.application.change.reviewed == ["scope"])
            _ = try await hall.accept(at: Self.county, scopeApplication.application.applicationID)
            let scopeCase = try #require(try await hall.cases(of: scopeApplication.application.applicationID, at: Self.county).first)
            #expect(try await hall.getCase(scopeCase.caseID, at: Self.county).status == .inProgress)
            try await hall.grant(scopeCase.caseID, at: Self.county)
            let third = try await hall.licence(ofCase: scopeCase.caseID, at: Self.county)
            #expect(third.content.version == "003")
            #expect(third.content.scope == Hall.grant.scope)
            #expect(third.content.place == "兰山区解放路9号")
            let verified = try await eventually("002 superseded by 003") {
                let answer = try await hall.verify(second.content.licenceIdentifier, at: Self.city)
                return answer.status == .superseded ? answer : nil
            }
            #expect(verified.supersededBy == third.content.licenceIdentifier)
        }
    }

    @Test("a hearing walked from the notice of the right to the decision on its record, the clock stopped meanwhile")
    func hearingWalk() async throws {
        let clockFile = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-e2e-hearing-clock-\(UUID().uuidString.prefix(8))")
        try "0".write(to: clockFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: clockFile) }
        try await withTwoNodes(environment: ["ONESEAL_TEST_CLOCK_FILE": clockFile.path, "ONESEAL_SWEEP_INTERVAL_SECONDS": "0.5"]) { _, hall in
            let calendar = try WorkingDayCalendar.china.loading(LocalCluster.provisional2027)
            let today = CivilDate.today()
            let approval = hall.clients.approval(Self.county)
            let officer = try hall.clients.metadata(.officer, "officer-li", node: Self.county)
            let submitted = try await hall.submit(at: Self.county, items: [Hall.countyFoodItem])
            _ = try await hall.accept(at: Self.county, submitted.application.applicationID)
            let opened = try #require(try await hall.cases(of: submitted.application.applicationID, at: Self.county).first)
            let (_, decider) = try await hall.signChain(opened.caseID, at: Self.county)

            // The written notice of the right; the case cannot be decided while the 5 days run.
            let notified = try await approval.notifyHearingRight(.with {
                $0.caseID = opened.caseID
                $0.reason = "经营场所与居民住宅相邻，直接涉及相邻居民的重大利益关系"
            }, metadata: officer).case
            #expect(notified.hearing.rightNotice.number.contains("听告"))
            // The applicant's 5 days are calendar days, the last one moved off a rest day (docs/law.md#hearings).
            #expect(notified.hearing.lastDayToRequest.civilDate == (try calendar.workingDay(onOrAfter: today.adding(days: 5))))
            await #expect { _ = try await approval.decide(.with { $0.caseID = opened.caseID; $0.grant = Hall.grant }, metadata: decider) }
                throws: { ($0 as? RPCError)?.code == .failedPrecondition }

            // Requested the same day by the applicant with their own token (another person's token is
            // refused): the clock stops for the hearing (Art. 45).
            let ask = Approval_RequestHearingRequest.with { $0.caseID = opened.caseID; $0.requestedBy = Hall.company.name }
            await #expect { _ = try await approval.requestHearing(ask, metadata: try hall.applicant(Hall.collectorID, node: Self.county)) }
                throws: { ($0 as? RPCError)?.code == .permissionDenied }
            let requested = try await approval.requestHearing(ask, metadata: try hall.applicant(node: Self.county)).case
            #expect(requested.status == .suspended)
            #expect(requested.suspensions.last?.reason == .hearing)
            #expect(requested.deadline.suspended)

            // Its notice 7 working days ahead: a day earlier names hearing_on; the presiding officer is not the reviewer.
            let earliest = try calendar.addingWorkingDays(7, to: today)
            let tooEarly = Common_CivilDate(try calendar.addingWorkingDays(6, to: today))
            await #expect {
                _ = try await approval.scheduleHearing(.with {
                    $0.caseID = opened.caseID; $0.hearingOn = tooEarly
                    $0.place = "第三听证室"; $0.publicity = .public; $0.presidingOfficer = "legal-chen"
                }, metadata: officer)
            } throws: { ($0 as? RPCError)?.code == .invalidArgument && ($0 as? RPCError)?.message.contains("hearing_on") == true }
            let scheduled = try await approval.scheduleHearing(.with {
                $0.caseID = opened.caseID; $0.hearingOn = Common_CivilDate(earliest)
                $0.place = "第三听证室"; $0.publicity = .public; $0.presidingOfficer = "legal-chen"
            }, metadata: officer).case
            #expect(scheduled.hearing.hearingNotice.number.contains("听通"))
            await #expect { _ = try await approval.recordHearing(.with { $0.caseID = opened.caseID; $0.record = HearingRecordText.text }, metadata: officer) }
                throws: { ($0 as? RPCError)?.code == .failedPrecondition }

            // The hearing day: the record closes, the clock counts again, the decision rests on the record.
            try String(today.days(until: earliest) * 86_400).write(to: clockFile, atomically: true, encoding: .utf8)
            try await Task.sleep(for: .milliseconds(500))
            let recorded = try await approval.recordHearing(.with { $0.caseID = opened.caseID; $0.record = HearingRecordText.text }, metadata: officer).case
            #expect(recorded.status == .inProgress)
            #expect(recorded.hearing.recordClosedOn.civilDate == earliest)
            let suspension = try #require(recorded.suspensions.last)
            #expect(suspension.reason == .hearing && suspension.suspensionID == recorded.hearing.suspensionID)
            #expect(!recorded.deadline.suspended)
            let decided = try await approval.decide(.with { $0.caseID = opened.caseID; $0.grant = Hall.grant }, metadata: decider).case
            #expect(decided.status == .granted)
            #expect(String(decoding: decided.decision.document.content, as: UTF8.self).contains("听证笔录"))
        }
    }
}

enum HearingRecordText {
    static let text = "申请人与相邻居民代表到场陈述，质证经营场所布局图和排烟设施检测报告，双方核对无误后签字"
}
