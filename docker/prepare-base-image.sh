#!/usr/bin/env bash
# Makes sure the base image the Dockerfiles name (debian:bookworm-slim) exists in the local
# Docker engine. Users pull it from Docker Hub; where nothing can be pulled (CI here), this builds
# an image of that exact name from Debian's packages:
#   debootstrap --variant=minbase --include=ca-certificates bookworm <dir> <apt's Debian mirror>
#   tar -C <dir> -c . | docker import - debian:bookworm-slim
# The root file system is cached as a tarball (SF_BASE_CACHE, default ~/.cache/salesforce-connector)
# so a second machine state without the image re-imports it in seconds.
#
# Usage: docker/prepare-base-image.sh [IMAGE]   (default debian:bookworm-slim)
set -euo pipefail

image="${1:-debian:bookworm-slim}"
suite="bookworm"
cache="${SF_BASE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/salesforce-connector}"
rootfs_tar="$cache/$suite-minbase-rootfs.tar"

say() { echo "prepare-base-image: $*" >&2; }

if ! docker info >/dev/null 2>&1; then
    say "no Docker engine answers (docker info failed)"
    exit 2
fi
if docker image inspect "$image" >/dev/null 2>&1; then
    say "$image is present"
    exit 0
fi
if docker pull "$image" >/dev/null 2>&1; then
    say "pulled $image"
    exit 0
fi

# Root is needed for debootstrap and for apt-get; use sudo when we are not root.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
        say "need root (or sudo) to run: $*"; exit 1; fi
}

# The Debian mirror apt uses on this machine: the first URI serving the main archive
# (not -security, not a third-party repository), from deb822 .sources or one-line .list files.
debian_mirror() {
    local files=() f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && files+=("$f")
    done
    [ "${#files[@]}" -gt 0 ] || return 0
    {
        # one-line format: deb [options] URI suite components
        grep -hE '^[[:space:]]*deb[[:space:]]' "${files[@]}" 2>/dev/null |
            sed -E 's/\[[^]]*\]//' | awk '{print $2}'
        # deb822 format: URIs: a b c
        grep -hE '^[[:space:]]*URIs:' "${files[@]}" 2>/dev/null | sed -E 's/^[[:space:]]*URIs:[[:space:]]*//' | tr ' ' '\n'
    } | grep -E '^https?://' | grep -v -- '-security' | grep -E '/debian/?$' | head -n 1
}

mkdir -p "$cache"
if [ ! -s "$rootfs_tar" ]; then
    mirror="${SF_DEBIAN_MIRROR:-$(debian_mirror)}"
    mirror="${mirror:-http://deb.debian.org/debian}"
    if ! command -v debootstrap >/dev/null 2>&1; then
        say "installing debootstrap with apt-get"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    fi
    work="$(mktemp -d "${TMPDIR:-/tmp}/sf-rootfs.XXXXXX")"
    trap 'as_root rm -rf "$work"' EXIT
    mkdir -p "$cache/debs"
    say "debootstrap $suite from $mirror (packages cached in $cache/debs)"
    as_root debootstrap --variant=minbase --include=ca-certificates \
        --cache-dir="$cache/debs" "$suite" "$work/rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
        say "debootstrap failed; the last lines of $cache/debootstrap.log:"
        tail -n 20 "$cache/debootstrap.log" >&2
        exit 1
    }
    # Like Docker's slim images: no apt lists, no package cache, no docs.
    as_root rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/"*.bin \
        "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/usr/share/doc/"* \
        "$work/rootfs/usr/share/man/"* "$work/rootfs/usr/share/info/"*
    as_root tar --numeric-owner -C "$work/rootfs" -cf "$rootfs_tar.partial" .
    as_root chown "$(id -u):$(id -g)" "$rootfs_tar.partial"
    mv "$rootfs_tar.partial" "$rootfs_tar"
fi
say "importing $rootfs_tar as $image"
docker import --change 'CMD ["bash"]' "$rootfs_tar" "$image" >/dev/null
docker image inspect "$image" --format '{{.Id}}' >/dev/null
say "$image is ready"
