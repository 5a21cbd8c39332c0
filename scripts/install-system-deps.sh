#!/usr/bin/env bash
# What the engine tests need from Debian 12 (bookworm), installed only when missing:
# - chromium: the browser suite drives Debian's Chromium (never a downloaded browser);
# - a Vulkan driver Dawn accepts, for WebGPU in Node: Mesa >= 25 lavapipe from bookworm-backports (Debian 12's own
#   Mesa 22.3.6 is rejected by Dawn). On a machine with a GPU driver, Dawn uses that one instead.
# Usage: scripts/install-system-deps.sh   (as root, or with sudo available)
set -uo pipefail
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
install() { as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
updated=
update() { [ -n "$updated" ] || { as_root apt-get update -qq && updated=1; }; }

if ! command -v chromium >/dev/null 2>&1; then
  update && install chromium || echo "warning: could not install chromium; the browser suite will fail" >&2
fi

mesa=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
if [ "${mesa%%.*}" = "" ] || [ "${mesa%%.*}" -lt 25 ] 2>/dev/null; then
  if grep -q 'VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null; then
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
      echo 'deb http://deb.debian.org/debian bookworm-backports main' | as_root tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
      updated=
    fi
    update && install -t bookworm-backports mesa-vulkan-drivers libvulkan1 \
      || echo "warning: could not install Mesa lavapipe from bookworm-backports; the webgpu test will fail" >&2
  else
    echo "warning: not Debian bookworm: install a Vulkan driver with Mesa >= 25 for the webgpu test" >&2
  fi
fi
exit 0
