import Foundation

/// The contracts for integrators without gRPC server reflection (none is in our package mirror;
/// decision G3): written to a directory by `oneseal protos export DIR`, or as one tar file from
/// `GET /protos.tar` on a service's metrics port — the exact files the running binary was built from.
public enum ProtoArchive {
    /// Writes every contract under `directory` (created as needed), keeping proto/'s layout, so
    /// `protoc -I DIR` or `grpcurl -import-path DIR` finds the imports. Returns the paths written.
    @discardableResult
    public static func export(to directory: URL) throws -> [String] {
        var written: [String] = []
        for file in ProtoSources.files {
            let target = directory.appendingPathComponent(file.path)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(file.text.utf8).write(to: target)
            written.append(target.path)
        }
        return written
    }

    /// A POSIX ustar archive of the contracts under `oneseal-proto/`, built once.
    public static let tar: [UInt8] = {
        var archive: [UInt8] = []
        for file in ProtoSources.files {
            let body = Array(file.text.utf8)
            archive += header(name: "oneseal-proto/" + file.path, size: body.count)
            archive += body
            archive += [UInt8](repeating: 0, count: (512 - body.count % 512) % 512)
        }
        return archive + [UInt8](repeating: 0, count: 1024)
    }()

    /// One 512-byte ustar header of a regular file, mode 0644, owner 0, time 0 (reproducible).
    static func header(name: String, size: Int) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            let bytes = Array(text.utf8).prefix(width)
            block.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
        }
        func octal(_ value: Int, width: Int) -> String {
            let digits = String(value, radix: 8)
            return String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
        }
        precondition(name.utf8.count <= 100, "tar name over 100 bytes: \(name)")
        put(name, at: 0, width: 100)
        put(octal(0o644, width: 8), at: 100, width: 8)
        put(octal(0, width: 8), at: 108, width: 8)
        put(octal(0, width: 8), at: 116, width: 8)
        put(octal(size, width: 12), at: 124, width: 12)
        put(octal(0, width: 12), at: 136, width: 12)
        put("0", at: 156, width: 1)
        put("ustar", at: 257, width: 6)
        put("00", at: 263, width: 2)
        // The checksum is computed with its own field as 8 spaces.
        put("        ", at: 148, width: 8)
        let sum = block.reduce(0) { $0 + Int($1) }
        put(octal(sum, width: 7), at: 148, width: 7)
        block[155] = 0x20
        return block
    }
}
