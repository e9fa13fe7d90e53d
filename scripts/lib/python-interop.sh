#!/usr/bin/env bash
# The Python packages of the gRPC interop test (tests/interop/grpc_interop.py): a gRPC runtime we did
# not write (grpcio), the protoc that generates its stubs at test time (grpcio-tools) and protobuf.
# Source, then call ensure_python_interop. Installs from PyPI only what is missing; idempotent.
ensure_python_interop() {
    if python3 -c 'import grpc, grpc_tools.protoc, google.protobuf' 2>/dev/null; then
        return 0
    fi
    echo "oneseal: installing the interop test's Python packages: grpcio grpcio-tools protobuf" >&2
    python3 -m pip install --quiet --disable-pip-version-check grpcio grpcio-tools protobuf
}
