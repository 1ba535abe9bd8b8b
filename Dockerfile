# The connector's runtime images: the source and the destination, from one Dockerfile.
#
# Cargo builds the binary OUTSIDE Docker (like Airbyte's JVM connectors: the build tool makes the
# artifact, the Dockerfile only assembles the runtime image); nothing here compiles or downloads:
#
#   cargo build --release -p salesforce-connector
#   docker build --target source      -t salesforce-connector/source-salesforce:0.1.0 .
#   docker build --target destination -t salesforce-connector/destination-salesforce:0.1.0 .
#
# (docker/build-images.sh does all of that, and prepares the base image when it cannot be pulled.)
# The Airbyte platform runs `sh -c "$AIRBYTE_ENTRYPOINT <cmd> <args>"`, so each image's
# entrypoint carries its role: source-salesforce and destination-salesforce are links to the one
# binary, which takes its role from the name it was called by. ENTRYPOINT == AIRBYTE_ENTRYPOINT,
# and the io.airbyte.* labels equal metadata.yaml's dockerRepository / dockerImageTag
# (tests/it/packaging.rs checks both).

FROM debian:bookworm-slim AS runtime
# CA roots for anything in the image that speaks TLS (the connector itself also carries
# webpki roots). The base prepared by docker/prepare-base-image.sh already has them; a plain
# debian:bookworm-slim gets them from apt.
RUN if [ ! -s /etc/ssl/certs/ca-certificates.crt ]; then \
        apt-get update \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && groupadd --gid 1000 airbyte \
    && useradd --uid 1000 --gid 1000 --home-dir /airbyte --create-home --shell /bin/sh airbyte
COPY target/release/salesforce-connector /usr/local/bin/salesforce-connector
RUN ln -s salesforce-connector /usr/local/bin/source-salesforce \
    && ln -s salesforce-connector /usr/local/bin/destination-salesforce
WORKDIR /airbyte
USER 1000:1000

FROM runtime AS destination
ENV AIRBYTE_ENTRYPOINT="/usr/local/bin/destination-salesforce"
ENTRYPOINT ["/usr/local/bin/destination-salesforce"]
LABEL io.airbyte.name="salesforce-connector/destination-salesforce" \
      io.airbyte.version="0.1.0"

# Last, so a plain `docker build .` gives the source.
FROM runtime AS source
ENV AIRBYTE_ENTRYPOINT="/usr/local/bin/source-salesforce"
ENTRYPOINT ["/usr/local/bin/source-salesforce"]
LABEL io.airbyte.name="salesforce-connector/source-salesforce" \
      io.airbyte.version="0.1.0"
