#!/usr/bin/env bash
# Checks the docs against the contracts, with bash and grep only (well under a second):
#
#   1. Every RPC method PROTOCOL.md, README.md and docs/*.md name exists in proto/: the full path
#      `/oneseal.<pkg>.v1.<Service>/<Method>` (leading slash optional) and the short form
#      `<Service>/<Method>` (e.g. `IntakeService/ForwardToCity`, `Health/Check`), for every service
#      name proto/ declares. A short form preceded by `/` or `.` is a file path or part of a full
#      path and is judged as such.
#   2. No file of the repository points at the design notes that used to live beside it, outside
#      the repository (a "shared" folder one level up): a clone from anywhere else has no such
#      folder. The architecture and the law are docs/architecture.md and docs/law.md.
#   3. Every `docs/<name>.md#anchor` (code comments included) and every `](file.md#anchor)` or
#      `](#anchor)` link in those docs names a heading that exists (GitHub's slug rule).
#
# Exit 0 when clean; 1 with one line per problem otherwise.
#
#   scripts/check-docs.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

problems=0
problem() {
    echo "check-docs: $*" >&2
    problems=$((problems + 1))
}

# --- The methods proto/ declares: "pkg.Service/Method" and the service names. ---
declare -A methods=()   # "oneseal.intake.v1.IntakeService/Accept" -> 1
declare -A short=()     # "IntakeService/Accept" -> 1
declare -A services=()  # "IntakeService" -> 1
shopt -s globstar nullglob
for file in proto/**/*.proto; do
    package=""
    service=""
    while IFS= read -r line; do
        if [[ $line =~ ^[[:space:]]*package[[:space:]]+([A-Za-z0-9_.]+)[[:space:]]*\; ]]; then
            package="${BASH_REMATCH[1]}"
        elif [[ $line =~ ^[[:space:]]*service[[:space:]]+([A-Za-z0-9_]+) ]]; then
            service="${BASH_REMATCH[1]}"
            services[$service]=1
        elif [[ -n $service && $line =~ ^[[:space:]]*rpc[[:space:]]+([A-Za-z0-9_]+)[[:space:]]*\( ]]; then
            methods["$package.$service/${BASH_REMATCH[1]}"]=1
            short["$service/${BASH_REMATCH[1]}"]=1
        elif [[ $line =~ ^\} ]]; then
            service=""
        fi
    done < "$file"
done

# Methods registered in code without a .proto (benchmarks only), each with the file that must still
# define it, so this list cannot outlive the code.
declare -A in_code=(
    ["oneseal.bench.v1.Echo/Unary"]="clients/bench-wire/BenchEchoService.swift"
)
for method in "${!in_code[@]}"; do
    if grep -qF "/$method" "${in_code[$method]}" 2>/dev/null; then
        methods[$method]=1
    else
        problem "scripts/check-docs.sh: $method is listed as defined in ${in_code[$method]}, which no longer defines it"
    fi
done

if [[ ${#methods[@]} -eq 0 ]]; then
    echo "check-docs: no rpc found under proto/ — is this the repository root?" >&2
    exit 1
fi

docs=(PROTOCOL.md README.md)
for doc in docs/*.md; do docs+=("$doc"); done

# --- 1a. Full method paths. ---
while IFS= read -r hit; do
    file="${hit%%:*}"
    rest="${hit#*:}"
    number="${rest%%:*}"
    path="${rest#*:}"
    path="${path#/}"
    if [[ -z ${methods[$path]+x} ]]; then
        problem "$file:$number: names RPC /$path, which no .proto under proto/ declares"
    fi
done < <(grep -noE '/?oneseal\.[a-z_]+\.v1\.[A-Za-z0-9_]+/[A-Za-z0-9_]+' "${docs[@]}" || true)

# --- 1b. Short forms Service/Method, for the service names proto/ declares. ---
names="$(IFS='|'; echo "${!services[*]}")"
while IFS= read -r hit; do
    file="${hit%%:*}"
    rest="${hit#*:}"
    number="${rest%%:*}"
    match="${rest#*:}"
    # Drop the one character of left context the pattern took (if any).
    [[ $match =~ ^[^A-Za-z] ]] && match="${match:1}"
    if [[ -z ${short[$match]+x} ]]; then
        problem "$file:$number: names RPC $match, which no .proto under proto/ declares"
    fi
done < <(grep -noE "(^|[^A-Za-z0-9_./-])($names)/[A-Za-z0-9_]+" "${docs[@]}" || true)

# --- 2. References to the design notes outside the repository. ---
self="scripts/check-docs.sh"
pattern='\.\./shared/'
while IFS= read -r hit; do
    hit="${hit#./}"
    file="${hit%%:*}"
    rest="${hit#*:}"
    number="${rest%%:*}"
    [[ $file == "$self" ]] && continue
    problem "$file:$number: points outside the repository (a shared folder one level up); point at docs/architecture.md or docs/law.md"
done < <(grep -rInoE "$pattern" . \
            --exclude-dir=.git --exclude-dir='.build*' --exclude-dir=.cluster --exclude-dir=.swiftpm --exclude-dir=.testdb \
            --exclude-dir=node_modules 2>/dev/null || true)

# --- 3. Anchors: `docs/X.md#anchor` anywhere (code comments included), and `](X.md#anchor)` /
#        `](#anchor)` links in the docs, must name a heading of that file (GitHub's slug rule). ---
export LC_ALL=C.UTF-8   # so [:alnum:] knows Chinese headings
declare -A slugs=()     # "docs/law.md#ratings" -> 1
declare -A slugged=()   # files already read
slug_file() {
    local file="$1" line text
    [[ -n ${slugged[$file]+x} ]] && return 0
    slugged[$file]=1
    [[ -f $file ]] || return 0
    while IFS= read -r line; do
        [[ $line =~ ^#+[[:space:]]+(.*)$ ]] || continue
        text="${BASH_REMATCH[1]}"
        text="${text,,}"
        text="${text//[^[:alnum:] _-]/}"
        slugs["$file#${text// /-}"]=1
    done < <(grep -E '^#+[[:space:]]' "$file")
}
check_anchor() {  # where (file:line), target file (from the root), anchor
    slug_file "$2"
    if [[ ! -f $2 ]]; then
        problem "$1: links to $2, which does not exist"
    elif [[ -z ${slugs["$2#$3"]+x} ]]; then
        problem "$1: links to $2#$3, but $2 has no such heading"
    fi
}
while IFS= read -r hit; do
    hit="${hit#./}"
    file="${hit%%:*}"; rest="${hit#*:}"; number="${rest%%:*}"; ref="${rest#*:}"
    [[ $file == "$self" ]] && continue
    while [[ $ref == *. ]]; do ref="${ref%.}"; done   # a sentence's full stop
    # In docs/, "docs/x.md" in a Markdown link would be relative to docs/; only prose uses it.
    check_anchor "$file:$number" "${ref%%#*}" "${ref#*#}"
done < <(grep -rInoE 'docs/[A-Za-z0-9_-]+\.md#[^][()`"'"'"'[:space:],;:]+' . \
            --include='*.swift' --include='*.sh' --include='*.md' --include='*.proto' --include='*.yml' \
            --exclude-dir=.git --exclude-dir='.build*' --exclude-dir=.cluster --exclude-dir=.swiftpm --exclude-dir=.testdb 2>/dev/null || true)
while IFS= read -r hit; do
    file="${hit%%:*}"; rest="${hit#*:}"; number="${rest%%:*}"; ref="${rest#*:}"
    ref="${ref#](}"; ref="${ref%)}"
    target="${ref%%#*}"
    if [[ -z $target ]]; then
        target="$file"
    elif [[ $target == http* ]]; then
        continue
    else
        dir="."; [[ $file == */* ]] && dir="${file%/*}"
        target="$dir/$target"
        # Normalise "docs/../X" and "./X".
        while [[ $target == */../* ]]; do
            before="${target%%/../*}"; after="${target#*/../}"
            before="${before%/*}"; [[ $before == "${target%%/../*}" ]] && before="."
            target="$before/$after"
        done
        target="${target#./}"
    fi
    check_anchor "$file:$number" "$target" "${ref#*#}"
done < <(grep -noE '\]\([^)[:space:]]*#[^)[:space:]]+\)' "${docs[@]}" || true)

if [[ $problems -gt 0 ]]; then
    echo "check-docs: $problems problem(s)" >&2
    exit 1
fi
echo "check-docs: ok (${#methods[@]} methods in proto/, ${#docs[@]} docs checked)"
