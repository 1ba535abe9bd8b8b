#!/usr/bin/env bash
# Builds the three images from release binaries cargo makes outside Docker:
#   salesforce-connector/source-salesforce:<version>       (Dockerfile, target source)
#   salesforce-connector/destination-salesforce:<version>  (Dockerfile, target destination)
#   salesforce-connector/sf-emulator:<version>             (emulator/Dockerfile)
# The base image debian:bookworm-slim is pulled, or built locally by prepare-base-image.sh.
# No cargo and no network inside Docker.
#
# Usage: docker/build-images.sh            (SF_SKIP_CARGO=1 reuses target/release as it is)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "build-images: $*" >&2; }

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
emulator_version="$(sed -n 's/^version = "\(.*\)"$/\1/p' emulator/Cargo.toml | head -n 1)"
[ -n "$version" ] || { say "cannot read the package version from Cargo.toml"; exit 1; }

if [ "${SF_SKIP_CARGO:-0}" != 1 ]; then
    say "cargo build --release (connector and emulator)"
    cargo build --release --locked -p salesforce-connector -p sf-emulator
fi
release="${CARGO_TARGET_DIR:-target}/release"
# The build context: only the two binaries, at the paths the Dockerfiles COPY from (copied, so a
# target directory elsewhere or behind a symlink works too).
context="$(mktemp -d "${TMPDIR:-/tmp}/sf-image-context.XXXXXX")"
trap 'rm -rf "$context"' EXIT
mkdir -p "$context/target/release"
for binary in salesforce-connector sf-emulator; do
    [ -x "$release/$binary" ] || { say "$release/$binary is missing: run cargo build --release first"; exit 1; }
    cp -L "$release/$binary" "$context/target/release/$binary"
done
cp .dockerignore "$context/.dockerignore"

docker/prepare-base-image.sh debian:bookworm-slim

# The legacy builder needs nothing beyond the engine; BuildKit needs the buildx plugin.
if ! docker buildx version >/dev/null 2>&1; then
    export DOCKER_BUILDKIT=0
fi

build() {
    say "docker build $*"
    docker build --quiet "$@" >/dev/null
}
build -f Dockerfile --target source -t "salesforce-connector/source-salesforce:$version" -t salesforce-connector/source-salesforce:dev "$context"
build -f Dockerfile --target destination -t "salesforce-connector/destination-salesforce:$version" -t salesforce-connector/destination-salesforce:dev "$context"
build -f emulator/Dockerfile -t "salesforce-connector/sf-emulator:$emulator_version" -t salesforce-connector/sf-emulator:dev "$context"
say "built salesforce-connector/{source-salesforce,destination-salesforce}:$version and salesforce-connector/sf-emulator:$emulator_version (also tagged :dev)"
