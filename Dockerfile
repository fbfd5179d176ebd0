# Ssgwan: one image with the server binary, the web app built into it.
#   docker build -t ssgwan .
#   docker run -p 8080:8080 -p 8080:8080/udp -p 8081:8081 -v ssgwan-data:/data ssgwan
#     embedded: SQLite + local files; live video on UDP 8080 (and ICE over TCP on 8081) at
#     127.0.0.1 (set SSGWAN_MEDIA_PUBLIC_IP to the address browsers reach the host at)
# Production settings (database, Redis, S3, Kakao, TURN) are SSGWAN_* environment variables; see
# docs/operations.md and deploy/compose.yaml.

# ---- the web app ----
FROM node:22-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

# ---- the server ----
FROM rust:1.95-bookworm AS server
WORKDIR /src
# Dependencies first, so a source change does not rebuild them.
COPY Cargo.toml Cargo.lock ./
COPY crates/ crates/
# Embedded into the binary by the build (crates/server/src/http/web.rs).
COPY --from=web /src/web/dist web/dist
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p ssgwan-server \
    && cp target/release/ssgwan /usr/local/bin/ssgwan

# ---- the runtime: Debian slim, no compiler, an unprivileged user ----
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tzdata curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /data ssgwan \
    && mkdir -p /data && chown ssgwan /data
COPY --from=server /usr/local/bin/ssgwan /usr/local/bin/ssgwan
USER ssgwan
ENV SSGWAN_ADDR=0.0.0.0:8080 \
    SSGWAN_DATA_DIR=/data \
    SSGWAN_LOG_FORMAT=json
# HTTP and WebSocket; the media server's UDP port and its ICE-over-TCP port.
EXPOSE 8080 8080/udp 8081
VOLUME ["/data"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["ssgwan"]
CMD ["serve"]
