# OneSeal: one image holding the five service executables and the `oneseal` CLI.
#   docker build -t oneseal:latest .
# Stage 1 builds release binaries with a static Swift standard library; stage 2 is a slim Debian
# with only the C libraries the binaries link (libpq, cairo, qrencode) and a CJK font for licences.
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      libpq-dev libprotobuf-c-dev pkg-config libcairo2-dev libqrencode-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so a source change does not refetch them.
COPY Package.swift ./
RUN swift package resolve
COPY . .
RUN for product in oneseal-intake oneseal-approval oneseal-certificate oneseal-supervision oneseal-evaluation oneseal-web oneseal; do \
      swift build -c release --static-swift-stdlib --product "$product" || exit 1; \
    done \
 && mkdir -p /out \
 && cp .build/release/oneseal-intake .build/release/oneseal-approval .build/release/oneseal-certificate \
       .build/release/oneseal-supervision .build/release/oneseal-evaluation .build/release/oneseal-web .build/release/oneseal /out/ \
 && cp -R .build/release/*.resources /out/

FROM ${RUNTIME_IMAGE}
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      libpq5 libcairo2 libqrencode4 fonts-wqy-zenhei tzdata ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin oneseal
# Binaries and their resource bundles (SQL migrations) must sit in the same directory.
COPY --from=build /out/ /opt/oneseal/
ENV PATH=/opt/oneseal:$PATH TZ=Asia/Shanghai ONESEAL_LISTEN_HOST=0.0.0.0
USER oneseal
# Each compose service names its executable as the command.
CMD ["oneseal", "--help"]
