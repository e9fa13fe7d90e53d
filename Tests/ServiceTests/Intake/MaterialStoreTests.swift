import Crypto
import Foundation
import GRPCCore
import IntakeRules
import OneSealAuth
import OneSealCore
import OneSealProto
import OneSealStore
import Testing
@testable import IntakeService

/// Intake's material store over real PostgreSQL and the real transport (issue #18, item 4): what is
/// stored, what is refused (and then not stored), and who may read what.
@Suite("Intake material store")
struct MaterialStoreTests {
    static let food = IntakeServiceTests.food
    static let monday = IntakeServiceTests.monday
    /// A valid resident ID (GB 11643) of someone else.
    static let otherPerson = "110101199003070011"

    func count(_ node: IntakeNode, _ sql: SQLQuery) async throws -> Int {
        try await node.database.query(sql).one().decode("n", as: Int.self)
    }

    func files(_ node: IntakeNode) async throws -> Int { try await count(node, "SELECT count(*)::int8 AS n FROM material_files") }

    /// A PDF of `size` bytes whose content depends on `seed`.
    static func pdf(size: Int, seed: UInt8) -> [UInt8] {
        var bytes = Array("%PDF-1.7\n".utf8)
        bytes += (0..<(size - bytes.count)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
        return bytes
    }

    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 0x42, count: 200)

    static func hex(_ bytes: [UInt8]) -> String { MaterialStore.hex(Array(SHA256.hash(data: bytes))) }

    @Test("an upload in several chunks is stored once under its SHA-256, sealed, and downloads byte for byte")
    func uploadDedupeDownload() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            let before = try await files(node)
            let content = Self.pdf(size: (2 << 20) + 12_345, seed: 7)
            let uploaded = try await node.intake.uploadMaterial(content, fileName: "营业执照.pdf", contentType: "application/pdf", metadata: try node.clerk)
            #expect(uploaded.material.fileID == Self.hex(content))
            #expect(uploaded.material.sizeBytes == Int64(content.count))
            #expect(uploaded.material.contentType == "application/pdf")
            #expect(!uploaded.alreadyStored)
            #expect(try await files(node) == before + 1)
            // Three sealed parts, none holding the plain bytes.
            let parts = try await node.database.query("SELECT sealed FROM material_parts ORDER BY seq").map { try $0.decode("sealed", as: [UInt8].self) }
            let stored = parts.suffix(3)
            #expect(try await count(node, "SELECT parts::int8 AS n FROM material_files ORDER BY stored_at DESC LIMIT 1") == 3)
            #expect(!stored.contains { $0.starts(with: Array("%PDF".utf8)) })

            let downloaded = try await node.intake.downloadMaterial(fileID: uploaded.material.fileID, metadata: try node.clerk)
            #expect(downloaded.content == content)
            #expect(downloaded.material.fileID == uploaded.material.fileID)

            // The same bytes from someone else, in other chunk sizes and with the hash declared:
            // stored once, bound to the second uploader too.
            let applicant = try node.metadata(.applicant, subject: Fixtures.uscc)
            let again = try await node.intake.uploadMaterial(
                content, fileName: "copy.pdf", contentType: "application/pdf", sha256: Self.hex(content).uppercased(), chunkBytes: 700_000, metadata: applicant)
            #expect(again.alreadyStored)
            #expect(again.material.fileID == uploaded.material.fileID)
            #expect(try await files(node) == before + 1)
            #expect(try await node.intake.downloadMaterial(fileID: again.material.fileID, metadata: applicant).content == content)
        }
    }

    @Test("refused uploads store nothing: a PNG named .pdf, oversize, more bytes than declared, a wrong hash, a big chunk")
    func refusals() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            let before = try await files(node)
            let clerk = try node.clerk
            func refused(_ field: String, _ reason: String, _ call: @Sendable () async throws -> Void) async {
                await #expect { try await call() } throws: { error in
                    let failure = rpcFailure(error)
                    return failure?.code == .invalidArgument && failure?.fields == [field] && failure?.reasons == [reason]
                }
            }
            await refused("header.content_type", "material.type_mismatch") {
                _ = try await node.intake.uploadMaterial(Self.png, fileName: "scan.pdf", contentType: "application/pdf", metadata: clerk)
            }
            await refused("header.content_type", "material.type") {
                _ = try await node.intake.uploadMaterial(Array("MZ\u{90}\0".utf8), fileName: "a.exe", contentType: "application/x-msdownload", metadata: clerk)
            }
            // Declared over 20 MiB: refused on the header, before any chunk is kept.
            let oversize = Self.pdf(size: MaterialUpload.maximumFileBytes + 1, seed: 1)
            await refused("header.size_bytes", "material.too_large") {
                _ = try await node.intake.uploadMaterial(oversize, fileName: "big.pdf", contentType: "application/pdf", metadata: clerk)
            }
            // Declared small, sent large: refused when the stream passes the declared size.
            await refused("header.size_bytes", "material.size_mismatch") {
                _ = try await node.intake.uploadMaterial(metadata: clerk, requestProducer: { writer in
                    try await writer.write(.with { $0.header = .with { $0.fileName = "a.pdf"; $0.contentType = "application/pdf"; $0.sizeBytes = 10 } })
                    try await writer.write(.with { $0.chunk = Data(Self.pdf(size: 11, seed: 2)) })
                })
            }
            let content = Self.pdf(size: 5000, seed: 3)
            await refused("header.sha256", "material.sha256_mismatch") {
                _ = try await node.intake.uploadMaterial(content, fileName: "a.pdf", contentType: "application/pdf", sha256: Self.hex(Self.png), metadata: clerk)
            }
            await refused("chunk[0]", "material.chunk_too_large") {
                let big = Self.pdf(size: MaterialUpload.maximumChunkBytes + 1, seed: 4)
                _ = try await node.intake.uploadMaterial(big, fileName: "a.pdf", contentType: "application/pdf", chunkBytes: big.count, metadata: clerk)
            }
            #expect(try await files(node) == before)
            #expect(try await count(node, "SELECT count(*)::int8 AS n FROM material_uploaders WHERE sha256 = \(Array(SHA256.hash(data: content)))") == 0)
        }
    }

    @Test("uploads held in memory at once are bounded: past the limit none is taken, a finished one frees its slot")
    func uploadSlots() {
        let slots = MaterialUploadSlots(limit: 2)
        #expect(slots.acquire())
        #expect(slots.acquire())
        #expect(!slots.acquire())
        slots.release()
        #expect(slots.acquire())
        #expect(!slots.acquire())
    }

    @Test("per object: a file is read by its uploader and by those who may read an application naming it; a submit names only usable files")
    func perObjectAccess() async throws {
        try await withIntakeNode(today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let owner = try node.metadata(.applicant, subject: Fixtures.uscc)
            let stranger = try node.metadata(.applicant, subject: Self.otherPerson)
            let platform = try node.metadata(.integrator, subject: "province-platform")
            let officer = try node.metadata(.officer, subject: "officer-3")

            // The owner uploads a licence scan and names it on an online application.
            let scan = Self.pdf(size: 40_000, seed: 9)
            let fileID = try await node.intake.uploadMaterial(scan, fileName: "licence.pdf", contentType: "application/pdf", metadata: owner).material.fileID
            var online = try Fixtures.submit([Self.food])
            online.channel = .online
            online.windowID = ""
            try await node.uploadFixtures(for: online.materials, as: owner)
            online.materials[0].fileID = fileID.uppercased()

            // Before it is attached: the uploader reads it, nobody else, not even the window.
            for metadata in [stranger, platform, try node.clerk] {
                await #expect { _ = try await node.intake.downloadMaterial(fileID: fileID, metadata: metadata) } throws: { rpcFailure($0)?.code == .notFound }
            }
            #expect(try await node.intake.downloadMaterial(fileID: fileID, metadata: owner).content == scan)

            // Another person may not name it (nor a file id that is not a store id): nothing stored.
            var theirs = online
            theirs.applicant = Fixtures.person
            theirs.applicant.idNumber = Self.otherPerson
            theirs.idempotencyKey = UUID().uuidString
            try await node.uploadFixtures(for: theirs.materials, as: stranger)
            await #expect { _ = try await node.intake.submitApplication(theirs, metadata: stranger) } throws: {
                rpcFailure($0)?.fields == ["materials[0].file_id"] && rpcFailure($0)?.reasons == ["material.unknown"]
            }
            theirs.materials[0].fileID = "scan-01"
            await #expect { _ = try await node.intake.submitApplication(theirs, metadata: stranger) } throws: {
                rpcFailure($0)?.fields == ["materials[0].file_id"] && rpcFailure($0)?.reasons == ["format"]
            }
            var wrongHash = online
            wrongHash.materials[0].sha256 = Self.hex(Self.png)
            await #expect { _ = try await node.intake.submitApplication(wrongHash, metadata: owner) } throws: {
                rpcFailure($0)?.fields == ["materials[0].sha256"]
            }
            #expect(try await count(node, "SELECT count(*)::int8 AS n FROM applications") == 0)
            #expect(try await count(node, "SELECT count(*)::int8 AS n FROM application_materials") == 0)

            let application = try await node.intake.submitApplication(online, metadata: owner).application
            #expect(application.materials[0].fileID == fileID)
            #expect(application.materials[0].sha256 == fileID)

            // Attached: the window and staff readers of the node read it; the stranger and an
            // integrator that did not submit it still do not.
            #expect(try await node.intake.downloadMaterial(fileID: fileID, metadata: try node.clerk).content == scan)
            #expect(try await node.intake.downloadMaterial(fileID: fileID, metadata: officer).content == scan)
            for metadata in [stranger, platform] {
                await #expect { _ = try await node.intake.downloadMaterial(fileID: fileID, metadata: metadata) } throws: { rpcFailure($0)?.code == .notFound }
            }
            // Naming it follows reading it: the window, which may read the application naming
            // it, may name it on an application at the window, beside its own upload; the
            // stranger still may not.
            var atWindow = try Fixtures.submit([Self.food])
            try await node.uploadFixtures(for: atWindow.materials, as: try node.clerk)
            atWindow.materials[0].fileID = fileID
            let named = try await node.intake.submitApplication(atWindow, metadata: try node.clerk).application
            #expect(named.materials[0].fileID == fileID)
            let namedID = try #require(UUID(uuidString: named.applicationID))
            #expect(try await count(node, "SELECT count(*)::int8 AS n FROM application_materials WHERE application_id = \(namedID)") == Set(named.materials.map(\.fileID).filter { !$0.isEmpty }).count)
            theirs.materials[0].fileID = fileID
            theirs.idempotencyKey = UUID().uuidString
            await #expect { _ = try await node.intake.submitApplication(theirs, metadata: stranger) } throws: {
                rpcFailure($0)?.fields == ["materials[0].file_id"] && rpcFailure($0)?.reasons == ["material.unknown"]
            }
            // An unknown id answers as a forbidden one does.
            await #expect { _ = try await node.intake.downloadMaterial(fileID: Self.hex([1, 2, 3]), metadata: owner) } throws: { rpcFailure($0)?.code == .notFound }
            await #expect { _ = try await node.intake.downloadMaterial(fileID: "../etc/passwd", metadata: owner) } throws: {
                rpcFailure($0)?.fields == ["file_id"]
            }
        }
    }

    @Test("a forwarded application's files are read by the back office of the node it went to, and by no other staff of that node")
    func forwardedApplicationFiles() async throws {
        try await withIntakeNode(node: "371302", today: Self.monday) { node in
            try await node.publishSampleCatalogue()
            let clerk = try node.clerk
            var water = try Fixtures.submit([IntakeServiceTests.water])
            try await node.uploadFixtures(for: water.materials, as: clerk)
            water.idempotencyKey = UUID().uuidString
            let id = try await node.intake.submitApplication(water, metadata: clerk).application.applicationID
            _ = try await node.intake.accept(Intake_AcceptRequest.with { $0.applicationID = id }, metadata: clerk)
            let fileID = try #require(water.materials.first { !$0.fileID.isEmpty }?.fileID)
            let cityOfficer = try node.metadata(.officer, subject: "officer-city-1", node: "371300")
            let cityDirector = try node.metadata(.director, subject: "director-city-1", node: "371300")

            // Not forwarded yet: the city's back office has no business with it.
            await #expect { _ = try await node.intake.downloadMaterial(fileID: fileID, metadata: cityOfficer) } throws: { rpcFailure($0)?.code == .notFound }
            _ = try await node.intake.forwardToCity(Intake_ForwardToCityRequest.with {
                $0.applicationID = id
                $0.firstReviewOpinion = "经初审，取水地点位于沂河兰山段，水资源论证报告结论明确，材料齐全，建议准予"
            }, metadata: clerk)

            // Forwarded: the city's officer and director read the file the case file names.
            let content = FixtureFiles.content(try #require(water.materials.first { !$0.fileID.isEmpty }?.requirementCode))
            #expect(try await node.intake.downloadMaterial(fileID: fileID, metadata: cityOfficer).content == content)
            #expect(try await node.intake.downloadMaterial(fileID: fileID, metadata: cityDirector).content == content)
            // The city's window, evaluators and operators do not; nor the back office of another
            // county (not above this one: refused by the method table).
            for metadata in [try node.metadata(.windowClerk, subject: "clerk-city", node: "371300"), try node.metadata(.evaluator, subject: "eval-city", node: "371300"),
                             try node.metadata(.operator, subject: "ops-city", node: "371300")] {
                await #expect { _ = try await node.intake.downloadMaterial(fileID: fileID, metadata: metadata) } throws: { rpcFailure($0)?.code == .notFound }
            }
            await #expect { _ = try await node.intake.downloadMaterial(fileID: fileID, metadata: try node.metadata(.officer, subject: "officer-9", node: "371311")) } throws: {
                rpcFailure($0)?.code == .permissionDenied
            }
        }
    }
}
