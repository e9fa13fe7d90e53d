#!/usr/bin/env bash
# Code generation from proto/: the tools and the one generation step both scripts share.
#
# Source this file, then:
#   codegen_ensure_system_tools     install protoc, protoc-c and libprotobuf-c when missing (apt, as root)
#   codegen_build_plugins ROOT      build protoc-gen-swift and protoc-gen-grpc-swift-2 (release, scratch
#                                   path ROOT/.build-codegen) unless already built from the same pins and
#                                   toolchain (CODEGEN_FORCE_BUILD=1 always builds); sets
#                                   CODEGEN_SWIFT_PLUGIN and CODEGEN_GRPC_PLUGIN to their absolute paths
#   codegen_run ROOT SWIFT_OUT C_OUT
#                                   generate every proto under ROOT/proto into SWIFT_OUT (Swift messages
#                                   + gRPC service code) and C_OUT (protobuf-c, including the C code of
#                                   the well-known types the protos import). Deletes stale generated files
#                                   in both directories first. Both directories are created when missing.
#
# Output is deterministic: the proto list is sorted in the C locale and protoc always runs from ROOT/proto
# with relative paths, so the "Source:" comments and C include paths never depend on the caller's cwd.

# Generated-file patterns, so stale deletion never touches a hand-written file that sits next to them.
CODEGEN_SWIFT_PATTERNS=('*.pb.swift' '*.grpc.swift')
CODEGEN_C_PATTERNS=('*.pb-c.c' '*.pb-c.h')

codegen_log() {
    echo "codegen: $*" >&2
}

codegen_ensure_system_tools() {
    # libprotobuf-dev carries google/protobuf/*.proto (timestamp.proto …), which protoc needs for
    # imports of the well-known types; protobuf-compiler alone does not install them on Debian.
    if command -v protoc >/dev/null 2>&1 && command -v protoc-c >/dev/null 2>&1 \
        && [[ -f /usr/include/protobuf-c/protobuf-c.h ]] && [[ -f /usr/include/google/protobuf/timestamp.proto ]]; then
        return 0
    fi
    codegen_log "installing protobuf-compiler protobuf-c-compiler libprotobuf-c-dev libprotobuf-dev"
    local sudo=""
    if [[ "$(id -u)" -ne 0 ]]; then
        sudo="sudo"
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
        protobuf-compiler protobuf-c-compiler libprotobuf-c-dev libprotobuf-dev >/dev/null
}

# The directory holding google/protobuf/*.proto for the installed protoc.
codegen_wkt_include() {
    local protoc_bin candidate
    protoc_bin="$(command -v protoc)"
    for candidate in "$(dirname "$protoc_bin")/../include" /usr/include /usr/local/include; do
        if [[ -f "$candidate/google/protobuf/timestamp.proto" ]]; then
            (cd "$candidate" && pwd)
            return 0
        fi
    done
    codegen_log "cannot find google/protobuf/timestamp.proto next to $protoc_bin"
    return 1
}

# What the plugins were built from: the pinned dependency versions and the toolchain. Alternating
# `swift build --product` invocations in one scratch path make SwiftPM recompile SwiftProtobuf (about a
# minute on two cores) even when nothing changed, so the build is skipped while this stamp is unchanged.
codegen_plugin_stamp() {
    local root="$1"
    {
        swift --version 2>/dev/null
        if [[ -f "$root/Package.resolved" ]]; then cat "$root/Package.resolved"; fi
    } | sha256sum | cut -d' ' -f1
}

codegen_build_plugins() {
    local root="$1" product bin_path stamp stamp_file
    local scratch="$root/.build-codegen"
    stamp="$(codegen_plugin_stamp "$root")"
    stamp_file="$scratch/oneseal-codegen-plugins.stamp"
    bin_path="$scratch/release"
    CODEGEN_SWIFT_PLUGIN="$bin_path/protoc-gen-swift"
    CODEGEN_GRPC_PLUGIN="$bin_path/protoc-gen-grpc-swift-2"
    if [[ "${CODEGEN_FORCE_BUILD:-0}" != 1 && -x "$CODEGEN_SWIFT_PLUGIN" && -x "$CODEGEN_GRPC_PLUGIN" \
        && -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp" ]]; then
        codegen_log "plugins up to date in .build-codegen (CODEGEN_FORCE_BUILD=1 rebuilds)"
        return 0
    fi
    for product in protoc-gen-swift protoc-gen-grpc-swift-2; do
        codegen_log "building $product (release, .build-codegen)"
        swift build --package-path "$root" --scratch-path "$scratch" -c release --product "$product" >&2
    done
    bin_path="$(swift build --package-path "$root" --scratch-path "$scratch" -c release --show-bin-path)"
    CODEGEN_SWIFT_PLUGIN="$bin_path/protoc-gen-swift"
    CODEGEN_GRPC_PLUGIN="$bin_path/protoc-gen-grpc-swift-2"
    local plugin
    for plugin in "$CODEGEN_SWIFT_PLUGIN" "$CODEGEN_GRPC_PLUGIN"; do
        if [[ ! -x "$plugin" ]]; then
            codegen_log "plugin missing after build: $plugin"
            return 1
        fi
    done
    echo "$stamp" >"$stamp_file"
}

codegen_delete_generated() {
    local dir="$1"
    shift
    local pattern
    [[ -d "$dir" ]] || return 0
    for pattern in "$@"; do
        find "$dir" -type f -name "$pattern" -delete
    done
    # Directories that only held generated files (e.g. a proto package that was removed).
    find "$dir" -mindepth 1 -type d -empty -delete
}

codegen_run() {
    local root="$1" swift_out="$2" c_out="$3"
    local proto_dir="$root/proto" wkt_include
    wkt_include="$(codegen_wkt_include)"

    mkdir -p "$swift_out" "$c_out"
    swift_out="$(cd "$swift_out" && pwd)"
    c_out="$(cd "$c_out" && pwd)"

    local -a protos wkts
    mapfile -t protos < <(cd "$proto_dir" && find . -type f -name '*.proto' | sed 's|^\./||' | LC_ALL=C sort)
    if [[ ${#protos[@]} -eq 0 ]]; then
        codegen_log "no .proto files under $proto_dir"
        return 1
    fi
    # The well-known types the contracts import: the C SDK needs their C code too (libprotobuf-c does
    # not ship it); Swift gets them from SwiftProtobuf.
    mapfile -t wkts < <(cd "$proto_dir" && grep -hoE '^import (public )?"google/protobuf/[a-z_]+\.proto"' "${protos[@]}" \
        | sed -E 's/^import (public )?"(.*)"/\2/' | LC_ALL=C sort -u)

    codegen_delete_generated "$swift_out" "${CODEGEN_SWIFT_PATTERNS[@]}"
    codegen_delete_generated "$c_out" "${CODEGEN_C_PATTERNS[@]}"

    codegen_log "protoc: ${#protos[@]} files -> $swift_out"
    (
        cd "$proto_dir"
        protoc -I . -I "$wkt_include" \
            --plugin=protoc-gen-swift="$CODEGEN_SWIFT_PLUGIN" \
            --swift_out="$swift_out" \
            --swift_opt=Visibility=Public,FileNaming=PathToUnderscores \
            --plugin=protoc-gen-grpc-swift="$CODEGEN_GRPC_PLUGIN" \
            --grpc-swift_out="$swift_out" \
            --grpc-swift_opt=Visibility=Public,FileNaming=PathToUnderscores,Server=true,Client=true \
            "${protos[@]}"
    )

    codegen_log "protoc-c: ${#protos[@]} files + ${#wkts[@]} well-known types -> $c_out"
    (
        cd "$proto_dir"
        protoc-c -I . -I "$wkt_include" --c_out="$c_out" "${protos[@]}"
    )
    if [[ ${#wkts[@]} -gt 0 ]]; then
        (
            cd "$wkt_include"
            protoc-c -I . --c_out="$c_out" "${wkts[@]}"
        )
    fi
}
