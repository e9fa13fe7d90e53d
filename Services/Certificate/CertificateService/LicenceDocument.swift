import CCairo
import CertificateRules
import CQREncode
import Foundation
import GRPCCore
import OneSealCore

/// The printable licence: an A4 landscape page drawn with cairo (text in a CJK font found through
/// fontconfig, the red seal, the QR code from libqrencode that leads to verification). The PDF also
/// carries the holder, the identifier and the QR payload in its metadata and a link over the QR code,
/// so a reader can click through to verification.
struct LicenceDocument {
    enum Format {
        case pdf, png, svg

        var contentType: String {
            switch self {
            case .pdf: "application/pdf"
            case .png: "image/png"
            case .svg: "image/svg+xml"
            }
        }

        var fileExtension: String {
            switch self {
            case .pdf: "pdf"
            case .png: "png"
            case .svg: "svg"
            }
        }
    }

    let content: LicenceContent
    let status: LicenceStatus
    let signer: String
    let keyID: String
    let algorithm: SealAlgorithm
    let signedAt: Date
    let qrPayload: String

    static let width = 842.0   // A4 landscape, points
    static let height = 595.0

    func render(_ format: Format) throws -> [UInt8] {
        let sink = ByteSink()
        let opaque = Unmanaged.passUnretained(sink).toOpaque()
        let surface: OpaquePointer?
        switch format {
        case .pdf: surface = cairo_pdf_surface_create_for_stream(writeToSink, opaque, Self.width, Self.height)
        case .svg: surface = cairo_svg_surface_create_for_stream(writeToSink, opaque, Self.width, Self.height)
        case .png: surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(Self.width * 2), Int32(Self.height * 2))
        }
        guard let surface, cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else {
            throw RPCError(code: .internalError, message: "cairo could not create a \(format) surface")
        }
        defer { cairo_surface_destroy(surface) }
        if format == .pdf {
            cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, "\(content.licenceName) \(content.licenceNumber)")
            cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_SUBJECT, "持证主体：\(content.holderName)")
            cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_AUTHOR, content.issuerName)
            cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_KEYWORDS, "\(content.licenceIdentifier) \(qrPayload)")
            cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "OneSeal certificate service")
        }
        guard let cr = cairo_create(surface) else { throw RPCError(code: .internalError, message: "cairo could not start drawing") }
        if format == .png { cairo_scale(cr, 2, 2) }
        try draw(cr)
        let drawStatus = cairo_status(cr)
        cairo_destroy(cr)
        guard drawStatus == CAIRO_STATUS_SUCCESS else {
            throw RPCError(code: .internalError, message: "cairo failed drawing the licence: \(String(cString: cairo_status_to_string(drawStatus)))")
        }
        if format == .png {
            cairo_surface_flush(surface)
            let status = cairo_surface_write_to_png_stream(surface, writeToSink, opaque)
            guard status == CAIRO_STATUS_SUCCESS else { throw RPCError(code: .internalError, message: "cairo could not write the PNG") }
        }
        cairo_surface_finish(surface)
        guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS, !sink.bytes.isEmpty else {
            throw RPCError(code: .internalError, message: "cairo could not finish the \(format) document")
        }
        return sink.bytes
    }

    // MARK: Drawing

    private func draw(_ cr: OpaquePointer) throws {
        let w = Self.width, h = Self.height
        // Paper and a double border.
        cairo_set_source_rgb(cr, 1, 1, 0.98)
        cairo_paint(cr)
        cairo_set_source_rgb(cr, 0.55, 0.42, 0.15)
        cairo_set_line_width(cr, 3)
        cairo_rectangle(cr, 18, 18, w - 36, h - 36)
        cairo_stroke(cr)
        cairo_set_line_width(cr, 1)
        cairo_rectangle(cr, 26, 26, w - 52, h - 52)
        cairo_stroke(cr)

        font(cr, size: 30, bold: true)
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1)
        centered(cr, content.licenceName, y: 82)
        font(cr, size: 11)
        centered(cr, "编号：\(content.licenceNumber)", y: 108)

        let holderLabel = content.holderCodeType == .uscc ? "统一社会信用代码" : content.holderCodeType == .residentID ? "公民身份号码" : "证件号码"
        let until = content.validUntil.map { Self.chinese($0) } ?? "长期"
        var rows: [(String, String)] = [
            ("持证主体", content.holderName),
            (holderLabel, content.holderCode),
            ("许可范围", content.scope),
        ]
        if !content.place.isEmpty { rows.append(("经营场所", content.place)) }
        for key in content.extraFields.keys.sorted() where !key.hasSuffix("代码") {
            rows.append((key, content.extraFields[key] ?? ""))
        }
        if !content.conditions.isEmpty { rows.append(("附加条件", content.conditions.joined(separator: "；"))) }
        rows.append(("有效期限", "\(Self.chinese(content.validFrom)) 至 \(until)"))
        rows.append(("颁发机构", content.issuerName))
        rows.append(("颁发日期", Self.chinese(content.issueDate)))

        var y = 150.0
        let labelX = 70.0, valueX = 200.0, valueWidth = 420.0
        for (label, value) in rows {
            font(cr, size: 13, bold: true)
            cairo_move_to(cr, labelX, y)
            cairo_show_text(cr, label)
            font(cr, size: 13)
            for line in wrap(cr, value, width: valueWidth).prefix(4) {
                cairo_move_to(cr, valueX, y)
                cairo_show_text(cr, line)
                y += 20
            }
            y += 8
        }

        font(cr, size: 8)
        cairo_set_source_rgb(cr, 0.35, 0.35, 0.35)
        cairo_move_to(cr, 40, h - 40)
        cairo_show_text(cr, "证照标识：\(content.licenceIdentifier)")
        let signed = ISO8601DateFormatter.string(from: signedAt, timeZone: .shanghai, formatOptions: [.withInternetDateTime])
        cairo_move_to(cr, 40, h - 52)
        cairo_show_text(cr, "签章人：\(signer)　签章时间：\(signed)　签章算法：\(algorithm == .ed25519 ? "Ed25519" : "SM2/SM3")　密钥：\(keyID)")

        drawSeal(cr, centerX: w - 190, centerY: h - 190)
        try drawQR(cr, x: w - 150, y: 60, size: 100)
        font(cr, size: 8)
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2)
        cairo_move_to(cr, w - 150, 174)
        cairo_show_text(cr, "扫码核验证照真伪与状态")

        if status != .valid {
            // A licence no longer in force says so across the page.
            cairo_save(cr)
            cairo_translate(cr, w / 2, h / 2)
            cairo_rotate(cr, -0.35)
            font(cr, size: 90, bold: true)
            cairo_set_source_rgba(cr, 0.8, 0.1, 0.1, 0.35)
            centered(cr, status.chineseName, y: 30, atX: 0)
            cairo_restore(cr)
        }
    }

    /// The seal: a red ring with a star, the issuer's name and 审批专用章, as printed seals look.
    private func drawSeal(_ cr: OpaquePointer, centerX: Double, centerY: Double) {
        let radius = 70.0
        cairo_save(cr)
        cairo_set_source_rgba(cr, 0.85, 0.08, 0.08, 0.85)
        cairo_set_line_width(cr, 4)
        // A fresh path: after text the current point would otherwise join the ring with a line.
        cairo_new_path(cr)
        cairo_arc(cr, centerX, centerY, radius, 0, 2 * .pi)
        cairo_stroke(cr)
        // Five-pointed star.
        let outer = 18.0, inner = 7.5
        for point in 0..<10 {
            let angle = -Double.pi / 2 + Double(point) * .pi / 5
            let r = point % 2 == 0 ? outer : inner
            let px = centerX + r * cos(angle), py = centerY + r * sin(angle)
            if point == 0 { cairo_move_to(cr, px, py) } else { cairo_line_to(cr, px, py) }
        }
        cairo_close_path(cr)
        cairo_fill(cr)
        // The issuer's name along the upper arc, one character at a time.
        let characters = Array(content.issuerName)
        font(cr, size: 12, bold: true)
        let span = min(Double.pi * 1.25, Double(characters.count) * 0.28)
        for (index, character) in characters.enumerated() {
            let angle = -Double.pi / 2 - span / 2 + span * (Double(index) + 0.5) / Double(characters.count)
            cairo_save(cr)
            cairo_translate(cr, centerX + (radius - 16) * cos(angle), centerY + (radius - 16) * sin(angle))
            cairo_rotate(cr, angle + .pi / 2)
            centered(cr, String(character), y: 5, atX: 0)
            cairo_restore(cr)
        }
        font(cr, size: 10, bold: true)
        centered(cr, "审批专用章", y: centerY + 38, atX: centerX)
        cairo_restore(cr)
    }

    /// The QR code (libqrencode, error correction M), with a link to the verification page.
    private func drawQR(_ cr: OpaquePointer, x: Double, y: Double, size: Double) throws {
        guard let code = QRcode_encodeString(qrPayload, 0, QR_ECLEVEL_M, QR_MODE_8, 1) else {
            throw RPCError(code: .internalError, message: "libqrencode could not encode the verification payload (\(qrPayload.utf8.count) bytes)")
        }
        defer { QRcode_free(code) }
        let modules = Int(code.pointee.width)
        let quiet = 2
        let cell = size / Double(modules + 2 * quiet)
        cairo_set_source_rgb(cr, 1, 1, 1)
        cairo_rectangle(cr, x, y, size, size)
        cairo_fill(cr)
        cairo_set_source_rgb(cr, 0, 0, 0)
        let data = code.pointee.data!
        for row in 0..<modules {
            for column in 0..<modules where data[row * modules + column] & 1 == 1 {
                cairo_rectangle(cr, x + Double(column + quiet) * cell, y + Double(row + quiet) * cell, cell, cell)
            }
        }
        cairo_fill(cr)
        // Attributes quote the URI with single quotes; the payload is a URL, percent-encoded.
        let uri = qrPayload.replacingOccurrences(of: "\\", with: "%5C").replacingOccurrences(of: "'", with: "%27")
        cairo_tag_begin(cr, CAIRO_TAG_LINK, "uri='\(uri)' rect=[\(x) \(y) \(size) \(size)]")
        cairo_tag_end(cr, CAIRO_TAG_LINK)
    }

    // MARK: Text helpers

    private func font(_ cr: OpaquePointer, size: Double, bold: Bool = false) {
        // fontconfig resolves the family (Debian fonts-wqy-zenhei) and substitutes a CJK font if absent.
        cairo_select_font_face(cr, "WenQuanYi Zen Hei", CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, size)
    }

    private func textWidth(_ cr: OpaquePointer, _ text: String) -> Double {
        var extents = cairo_text_extents_t()
        cairo_text_extents(cr, text, &extents)
        return extents.x_advance
    }

    private func centered(_ cr: OpaquePointer, _ text: String, y: Double, atX: Double? = nil) {
        let center = atX ?? Self.width / 2
        cairo_move_to(cr, center - textWidth(cr, text) / 2, y)
        cairo_show_text(cr, text)
    }

    /// Breaks `text` into lines no wider than `width` (character by character: Chinese has no spaces).
    private func wrap(_ cr: OpaquePointer, _ text: String, width: Double) -> [String] {
        var lines: [String] = []
        var line = ""
        for character in text {
            let candidate = line + String(character)
            if !line.isEmpty, textWidth(cr, candidate) > width {
                lines.append(line)
                line = String(character)
            } else {
                line = candidate
            }
        }
        if !line.isEmpty || lines.isEmpty { lines.append(line) }
        return lines
    }

    static func chinese(_ date: CivilDate) -> String { "\(date.year)年\(date.month)月\(date.day)日" }
}

/// Collects what cairo writes (single-threaded: one render call owns it).
private final class ByteSink {
    var bytes: [UInt8] = []
}

/// cairo's write callback: appends to the ByteSink passed as the closure pointer.
private func writeToSink(_ closure: UnsafeMutableRawPointer?, _ data: UnsafePointer<UInt8>?, _ length: UInt32) -> cairo_status_t {
    guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
    let sink = Unmanaged<ByteSink>.fromOpaque(closure).takeUnretainedValue()
    sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
    return CAIRO_STATUS_SUCCESS
}
