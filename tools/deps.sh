#!/bin/sh
# Install the Debian packages the book needs, if any are missing.
# Usage: tools/deps.sh [PACKAGE...]   (default: the packages `make` and `make test` need)
# Targets that need more name their packages, only for themselves: `make bench` and
# `make fixtures` python3-torch, `make fuzz` clang libclang-rt-dev (libFuzzer and the
# sanitizers' runtimes; fuzz/fuzz.mk).
# Prints what it installs; uses sudo when not root; fails with one clear line where
# there is no apt-get or an install fails.
set -u
pkgs=${*:-"build-essential libopenblas-dev zlib1g-dev libcriterion-dev gnuplot-nox dataset-fashion-mnist fortunes parallel"}

missing=""
for p in $pkgs; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "deps: missing packages:$missing; this is not a Debian machine (no apt-get): install them by hand" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  sudo=""
elif command -v sudo >/dev/null 2>&1; then
  sudo="sudo"
else
  echo "deps: missing packages:$missing; not root and no sudo: install them as root" >&2
  exit 1
fi

echo "deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet; refresh them once.
$sudo apt-get update -qq >/dev/null 2>&1 || echo "deps: apt-get update failed; trying the existing package lists" >&2
# shellcheck disable=SC2086
if ! $sudo apt-get install -y -qq --no-install-recommends $missing >&2; then
  echo "deps: apt-get install failed for:$missing" >&2
  exit 1
fi
echo "deps: installed:$missing" >&2
