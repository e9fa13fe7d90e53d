#!/usr/bin/env bash
# System packages OneSeal needs to build, test and run. Source, then call ensure_system_packages.
# Installs only what is missing (apt-get update first); needs root, which CI and the docs assume.

# libprotobuf-dev: the well-known .proto files (google/protobuf/timestamp.proto) protoc imports.
# make: builds the C SDK (clients/c). docker-compose: validates docker-compose.yml (no engine needed).
# libcairo2-dev, libqrencode-dev, fonts-wqy-zenhei: the certificate service's printable licence (PDF with
# Chinese text and a QR code; the font is found through fontconfig).
# openssl: throwaway CAs for the TLS tests and benchmarks (scripts/throwaway-ca).
ONESEAL_APT_PACKAGES=(openssl libpq-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler libprotobuf-dev postgresql pkg-config make docker-compose libcairo2-dev libqrencode-dev fonts-wqy-zenhei)

ensure_system_packages() {
    local missing=()
    local pkg
    for pkg in "${ONESEAL_APT_PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$pkg")
        fi
    done
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    echo "oneseal: installing missing system packages: ${missing[*]}" >&2
    if [[ $(id -u) -ne 0 ]]; then
        echo "oneseal: need root to install ${missing[*]} (or install them yourself)" >&2
        return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}
