#!/usr/bin/env bash
# System packages OneSeal needs to build, test and run. Source, then call ensure_system_packages.
# Installs only what is missing (apt-get update first); needs root, which CI and the docs assume.

# libprotobuf-dev: the well-known .proto files (google/protobuf/timestamp.proto) protoc imports.
# make, libssl-dev: build the C SDK (clients/c; OpenSSL for its TLS). docker-compose: validates docker-compose.yml (no engine needed).
# tcpdump: the end-to-end capture test (issue #17) proves no token, ID number or name crosses loopback in clear.
# libcairo2-dev, libqrencode-dev, fonts-wqy-zenhei: the certificate service's printable licence (PDF with
# Chinese text and a QR code; the font is found through fontconfig).
# chromium, chromium-driver, python3-pip: the browser tests of oneseal-web (tests/web, Selenium from PyPI; #18).
# openssl: the command-line tool, for inspecting certificates. curl: the web front's HTTPS test (a client we did not write).
ONESEAL_APT_PACKAGES=(openssl curl libpq-dev libssl-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler libprotobuf-dev postgresql pkg-config make docker-compose libcairo2-dev libqrencode-dev fonts-wqy-zenhei tcpdump chromium chromium-driver python3-pip)

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

# Selenium (PyPI) drives chromium in oneseal-web's browser tests (tests/web). Idempotent.
ensure_python_packages() {
    if python3 -c 'import selenium' 2>/dev/null; then
        return 0
    fi
    echo "oneseal: installing selenium (pip)" >&2
    python3 -m pip install -q selenium 2>/dev/null || python3 -m pip install -q --break-system-packages selenium
}
