import Foundation
import Testing
import WebRules

@Suite struct MultipartTests {
    static let boundary = "----oneseal7MA4YWxk"

    static func body(_ parts: [(name: String, fileName: String?, type: String?, content: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        for part in parts {
            out += Array("--\(boundary)\r\n".utf8)
            var disposition = "Content-Disposition: form-data; name=\"\(part.name)\""
            if let fileName = part.fileName { disposition += "; filename=\"\(fileName)\"" }
            out += Array((disposition + "\r\n").utf8)
            if let type = part.type { out += Array("Content-Type: \(type)\r\n".utf8) }
            out += Array("\r\n".utf8) + part.content + Array("\r\n".utf8)
        }
        return out + Array("--\(boundary)--\r\n".utf8)
    }

    @Test func theBoundaryComesFromTheContentType() {
        #expect(MultipartForm.boundary(contentType: "multipart/form-data; boundary=\(Self.boundary)") == Self.boundary)
        #expect(MultipartForm.boundary(contentType: "multipart/form-data; charset=utf-8; boundary=\"abc def\"") == "abc def")
        #expect(MultipartForm.boundary(contentType: "application/x-www-form-urlencoded") == nil)
        #expect(MultipartForm.boundary(contentType: "multipart/form-data") == nil)
    }

    @Test func fieldsAndFilesAreSeparatedAndBinaryBytesKept() throws {
        let pdf = Array("%PDF-1.4\r\n--\r\n\u{0}binary".utf8) + [0xFF, 0x00, 0x0D, 0x0A]
        let body = Self.body([
            ("csrf_token", nil, nil, Array("tok".utf8)),
            ("idempotency_key", nil, nil, Array("k1".utf8)),
            ("material_M1", "营业执照.pdf", "application/pdf", pdf),
            ("material_M2", "", "application/octet-stream", []),
        ])
        let form = try MultipartForm.parse(body, boundary: Self.boundary)
        #expect(form.fields == ["csrf_token": "tok", "idempotency_key": "k1"])
        #expect(form.files.keys.sorted() == ["material_M1"])
        #expect(form.files["material_M1"]?.body == pdf)
        #expect(form.files["material_M1"]?.fileName == "营业执照.pdf")
    }

    @Test func truncatedOrForeignBodiesAreRefused() {
        let body = Self.body([("a", nil, nil, Array("1".utf8))])
        #expect(throws: MultipartForm.Problem.malformed) { try MultipartForm.parse(Array(body.dropLast(6)), boundary: Self.boundary) }
        #expect(throws: MultipartForm.Problem.malformed) { try MultipartForm.parse(Array("hello".utf8), boundary: Self.boundary) }
        let many = Self.body((0..<40).map { ("f\($0)", nil, nil, Array("x".utf8)) })
        #expect(throws: MultipartForm.Problem.tooManyParts) { try MultipartForm.parse(many, boundary: Self.boundary) }
    }
}

@Suite struct MaterialFileTests {
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]
    static let pdf = Array("%PDF-1.7\n".utf8)
    static let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0, 16]

    @Test func typesAreJudgedByContentAndTheNameMustAgree() {
        #expect(MaterialFile.check(fileName: "scan.PDF", bytes: Self.pdf, label: "申请书") == .success(.pdf))
        #expect(MaterialFile.check(fileName: "photo.jpeg", bytes: Self.jpeg, label: "照片") == .success(.jpeg))
        #expect(MaterialFile.check(fileName: "a.png", bytes: Self.png, label: "平面图") == .success(.png))
        #expect(MaterialFile.check(fileName: "licence.pdf", bytes: Self.png, label: "营业执照")
            == .failure(FieldProblem("“营业执照”的内容是PNG图片，与文件名（PDF文件）不符，请确认上传的是正确的文件")))
        #expect(MaterialFile.check(fileName: "a.pdf", bytes: Array("PK\u{3}\u{4}".utf8), label: "申请书")
            == .failure(FieldProblem("“申请书”不是PDF、JPG或PNG文件，请转换后上传")))
        #expect(MaterialFile.check(fileName: "a.exe", bytes: Self.pdf, label: "申请书")
            == .failure(FieldProblem("“申请书”的文件名应以.pdf、.jpg或.png结尾")))
    }

    @Test func theSizeLimitNamesTheMaterial() {
        let big = Self.pdf + [UInt8](repeating: 0, count: MaterialFile.maximumBytes)
        guard case .failure(let problem) = MaterialFile.check(fileName: "a.pdf", bytes: big, label: "申请书") else { Issue.record("accepted"); return }
        #expect(problem.message.hasPrefix("“申请书”超过20MB（现为20.0MB）"))
    }

    @Test func sha256IsLowerCaseHex() {
        #expect(MaterialFile.sha256(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
