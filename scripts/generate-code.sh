#!/usr/bin/env bash
# Regenerates all code derived from proto/ — run it after changing any .proto, then commit the result.
#
#   scripts/generate-code.sh                 write into the committed locations:
#                                              Shared/OneSealProto/Generated/  (*.pb.swift, *.grpc.swift)
#                                              clients/c/generated/            (*.pb-c.c, *.pb-c.h)
#   scripts/generate-code.sh SWIFT_OUT C_OUT write somewhere else (scripts/check-generated.sh uses this)
#
# Builds protoc-gen-swift and protoc-gen-grpc-swift-2 from the package's pinned dependencies (so the
# generated code always matches the SwiftProtobuf / GRPCProtobuf the package links), installs protoc and
# protoc-c with apt when they are missing, deletes stale generated files, then generates. Works from any
# working directory.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/codegen-tools.sh
source "$ROOT/scripts/lib/codegen-tools.sh"

if [[ $# -ne 0 && $# -ne 2 ]]; then
    echo "usage: $0 [SWIFT_OUT C_OUT]" >&2
    exit 2
fi
SWIFT_OUT="${1:-$ROOT/Shared/OneSealProto/Generated}"
C_OUT="${2:-$ROOT/clients/c/generated}"

codegen_ensure_system_tools
codegen_build_plugins "$ROOT"
codegen_run "$ROOT" "$SWIFT_OUT" "$C_OUT"
# The contracts as text for integrators (oneseal protos export, GET /protos.tar), only when writing
# the committed locations; ProtoSourcesTests checks it is fresh.
if [[ $# -eq 0 ]]; then "$ROOT/scripts/embed-protos" >/dev/null; fi
codegen_log "done"
