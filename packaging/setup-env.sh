#!/usr/bin/env bash
# Set up vramplan on a fresh Debian/Ubuntu machine (or any machine with Python >= 3.11):
#   bash packaging/setup-env.sh          -> system libraries for Qt + .venv with the app
#   bash packaging/setup-env.sh --test   -> also Xvfb, poppler-utils, test/dev/packaging extras, CPU torch
# System packages are installed with apt-get when it is available and we are root (or sudo works);
# elsewhere the script prints what to install and carries on.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

# PySide6 (even offscreen) needs these on a bare Debian 12; a CJK font so Chinese does not render as boxes.
apt_runtime="libegl1 libgl1 libx11-6 libx11-xcb1 libdbus-1-3 libfontconfig1 libfreetype6 libglib2.0-0 libxkbcommon0
  libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0
  libxcb-render-util0 libxcb-image0 libxcb-xfixes0 libxrender1 libxi6 fonts-wqy-microhei"
apt_test="xvfb xauth poppler-utils binutils"

pkgs="$apt_runtime"
[ $want_test = 1 ] && pkgs="$pkgs $apt_test"

if command -v apt-get >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo"
  if [ "$(id -u)" = 0 ] || [ -n "$sudo" ]; then
    missing=$(for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
    if [ -n "$missing" ]; then
      echo "setup: installing system packages: $(echo $missing)"
      $sudo apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
  else
    echo "setup: not root and no sudo; make sure these are installed: $(echo $pkgs)" >&2
  fi
else
  echo "setup: no apt-get; install the equivalents of: $(echo $pkgs)" >&2
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ $want_test = 1 ]; then
  .venv/bin/python -m pip install -q -e ".[test,dev,package,validate]"
else
  .venv/bin/python -m pip install -q -e .
fi
echo "setup: ready (.venv)"
