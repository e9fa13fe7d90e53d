#!/usr/bin/env bash
# Fails when the committed generated code is not exactly what proto/ produces today.
#
# Regenerates into a temporary directory and compares it with Shared/OneSealProto/Generated and
# clients/c/generated. Exit 0: up to date. Exit 1: lists every stale, missing or extra file and says how
# to fix it. Works from any working directory; never touches the committed files.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

"$ROOT/scripts/generate-code.sh" "$TMP/swift" "$TMP/c"

status=0
compare() {
    local committed="$1" fresh="$2" label="$3"
    shift 3
    local -a names=()
    local pattern
    for pattern in "$@"; do
        [[ -d "$committed" ]] && while IFS= read -r f; do names+=("$f"); done \
            < <(cd "$committed" && find . -type f -name "$pattern" | sed 's|^\./||')
        while IFS= read -r f; do names+=("$f"); done \
            < <(cd "$fresh" && find . -type f -name "$pattern" | sed 's|^\./||')
    done
    local name
    while IFS= read -r name; do
        [[ -n "$name" ]] || continue
        if [[ ! -f "$committed/$name" ]]; then
            echo "MISSING  $label/$name (proto/ produces it; it is not committed)" >&2
            status=1
        elif [[ ! -f "$fresh/$name" ]]; then
            echo "EXTRA    $label/$name (no proto produces it any more)" >&2
            status=1
        elif ! cmp -s "$committed/$name" "$fresh/$name"; then
            echo "STALE    $label/$name" >&2
            diff -u "$committed/$name" "$fresh/$name" | head -20 >&2 || true
            status=1
        fi
    done < <(printf '%s\n' "${names[@]}" | LC_ALL=C sort -u)
}

compare "$ROOT/Shared/OneSealProto/Generated" "$TMP/swift" "Shared/OneSealProto/Generated" \
    '*.pb.swift' '*.grpc.swift'
compare "$ROOT/clients/c/generated" "$TMP/c" "clients/c/generated" '*.pb-c.c' '*.pb-c.h'

if [[ $status -ne 0 ]]; then
    echo "check-generated: generated code is out of date with proto/. Run scripts/generate-code.sh and commit the result." >&2
    exit 1
fi
echo "check-generated: generated code is up to date"
