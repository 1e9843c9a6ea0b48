#!/usr/bin/env bash
# The README's two commands, tried as a new user would: in a clean Debian 12 root (debootstrap minbase
# with git, make and ca-certificates only), clone this repository and run `make test && make demo`.
# It catches what the development machines happen to have and a new machine does not (zlib1g-dev, which
# LLVM 16's CMake package needs, was such a package). Too slow for every CI run: run it before a release
# and before resolving an issue that changes dependencies (docs/building.md).
#
#   sudo bash scripts/fresh-debian-check.sh [--keep] [REV]
#
# REV (default HEAD) is the commit to check; its committed tree is what is cloned, so uncommitted changes
# are not part of the check. --keep leaves the root in place for a look afterwards (its path is printed).
# The mirror is the one the machine's own apt sources name (deb.debian.org when none is found).
# Exit code: 0 both commands passed; 1 one failed (the log's last lines are printed); 2 bad use.
set -euo pipefail

keep=0
rev=HEAD
for a in "$@"; do
  case "$a" in
    --keep) keep=1 ;;
    -h | --help)
      sed -n '2,13p' "$0"
      exit 0
      ;;
    -*)
      echo "fresh-debian-check: unknown option $a (use --keep, or a commit)" >&2
      exit 2
      ;;
    *) rev="$a" ;;
  esac
done

if [ "$(id -u)" -ne 0 ]; then
  echo "fresh-debian-check: debootstrap and chroot need root: run it with sudo" >&2
  exit 2
fi

repo="$(cd "$(dirname "$0")/.." && pwd)"
commit="$(git -C "$repo" rev-parse --verify "$rev^{commit}")" || {
  echo "fresh-debian-check: \`$rev\` is not a commit of $repo" >&2
  exit 2
}

# The mirror the machine uses: the first http(s) Debian URI in its apt sources (deb822 or one-line form).
# Comment lines are skipped (Debian's images name a snapshot there that is not the mirror in use).
mirror="$(grep -hE '^[[:space:]]*(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list \
  2>/dev/null | grep -oE 'https?://[^ ]+' | grep -v security | head -n1 || true)"
mirror="${mirror:-http://deb.debian.org/debian}"

if ! command -v debootstrap >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap
fi

root="$(mktemp -d /var/tmp/orgos-fresh-debian.XXXXXX)"
log="$root.log"
cleanup() {
  for m in dev/pts dev proc sys; do umount -l "$root/$m" 2>/dev/null || true; done
  if [ "$keep" -eq 0 ]; then rm -rf "$root"; else echo "fresh-debian-check: root kept at $root"; fi
}
trap cleanup EXIT

echo "fresh-debian-check: debootstrap bookworm from $mirror into $root (log: $log)"
debootstrap --variant=minbase --include=git,make,ca-certificates bookworm "$root" "$mirror" >"$log" 2>&1 || {
  tail -n 20 "$log"
  echo "fresh-debian-check: debootstrap failed" >&2
  exit 1
}
# The new root uses the same mirror for the packages scripts/deps.sh installs.
echo "deb $mirror bookworm main" >"$root/etc/apt/sources.list"
mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

# A bare clone of the commit, made outside the root and cloned again inside it, as a user's clone would be.
git clone -q --no-local "$repo" "$root/root/orgos-src"
git -C "$root/root/orgos-src" checkout -q "$commit"

echo "fresh-debian-check: make test && make demo at ${commit:0:12} (log: $log)"
start=$(date +%s)
if chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
  bash -c 'cd /root && git clone -q orgos-src orgos && cd orgos && make test && make demo' >>"$log" 2>&1; then
  echo "fresh-debian-check: passed in $(($(date +%s) - start)) s"
  grep -E 'tests passed|tests failed' "$log" | tail -n1
else
  tail -n 40 "$log"
  echo "fresh-debian-check: FAILED after $(($(date +%s) - start)) s (full log: $log)" >&2
  exit 1
fi
