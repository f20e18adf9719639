# tfo-mcp as one static binary in an empty image: no shell, no libc, no package
# manager; only the CA bundle of the build stage for https (README "TLS and proxies").
# Build and run:
#   docker build -t tfo-mcp .
#   docker run -i --rm -p 127.0.0.1:9090:9090 tfo-mcp
# (-i: the MCP protocol runs on the container's stdin/stdout.)

ARG RUST_VERSION=1.95.0

# Build stage: the same toolchain and commands as the README's musl build.
FROM rust:${RUST_VERSION}-slim-bookworm AS build
# musl-gcc compiles ring's C and assembly for the musl target; ca-certificates gives the
# bundle the runtime stage copies, unpinned on purpose: trust should be current.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends musl-tools=1.2.3-1 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && rustup target add x86_64-unknown-linux-musl
WORKDIR /src
# Cargo.toml names the bench targets, so their sources must be present to build.
COPY Cargo.toml Cargo.lock ./
COPY build.rs ./
# The musl target's flags (.cargo/config.toml): dependency paths cut from panic locations.
COPY .cargo ./.cargo
COPY src ./src
COPY benches ./benches
RUN cargo build --release --locked --target x86_64-unknown-linux-musl

# Runtime stage: the binary alone, run as an unprivileged numeric user (no
# /etc/passwd needed in a scratch image).
FROM scratch
COPY --from=build /src/target/x86_64-unknown-linux-musl/release/tfo-mcp /tfo-mcp
# The CAs https connections trust (OTLP collectors, the Claude API): the first path the
# binary looks at. Mount another file and set SSL_CERT_FILE to trust other CAs.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
# Inside the container's own network namespace the metrics endpoint must listen on
# all interfaces to be reachable through a published port (the host default is loopback).
ENV TELEMETRYFLOW_MCP_METRICS_HOST=0.0.0.0 \
    TELEMETRYFLOW_MCP_METRICS_PORT=9090
EXPOSE 9090
USER 65532:65532
ENTRYPOINT ["/tfo-mcp"]
CMD ["serve"]
