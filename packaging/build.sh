#!/usr/bin/env bash
# Build the vramplan one-folder bundle with PyInstaller (Linux here; see packaging/README.md for
# Windows and macOS).  The version comes from pyproject.toml and is stamped into the bundle
# (resources/build-info.json, Windows file version, macOS Info.plist).
#
#   bash packaging/build.sh                  -> dist/vramplan/ (one folder) + checks --version
#   bash packaging/build.sh --tarball        -> also dist/vramplan-VERSION-linux-ARCH.tar.gz
#   bash packaging/build.sh --onefile        -> also dist/vramplan-onefile (optional artefact)
#   bash packaging/build.sh --full           -> keep every Qt module/plugin (the size before trimming)
#   options: --dist DIR (default dist)  --work DIR (default build/pyinstaller)  --clean
# PYTHON=... picks the interpreter (default .venv/bin/python, needs the "package" extra).
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-.venv/bin/python}
dist=dist
work=build/pyinstaller
tarball=0
clean=()
export VRAMPLAN_BUNDLE_SLIM=1 VRAMPLAN_ONEFILE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --tarball) tarball=1 ;;
    --onefile) export VRAMPLAN_ONEFILE=1 ;;
    --full) export VRAMPLAN_BUNDLE_SLIM=0 ;;
    --clean) clean=(--clean) ;;
    --dist) dist=$2; shift ;;
    --work) work=$2; shift ;;
    *) echo "build.sh: unknown option $1 (see the header of packaging/build.sh)" >&2; exit 2 ;;
  esac
  shift
done

version=$("$python" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
export VRAMPLAN_VERSION=$version
echo "build.sh: vramplan $version -> $dist/vramplan"
start=$(date +%s)
"$python" -m PyInstaller --noconfirm --log-level WARN "${clean[@]}" \
  --distpath "$dist" --workpath "$work" packaging/vramplan.spec
echo "build.sh: PyInstaller took $(( $(date +%s) - start )) s"

reported=$("$dist/vramplan/vramplan" --version)
if [ "$reported" != "vramplan $version" ]; then
  echo "build.sh: the bundle reports '$reported', expected 'vramplan $version'" >&2
  exit 1
fi
echo "build.sh: $reported, $(du -sm "$dist/vramplan" | cut -f1) MB in $dist/vramplan"

if [ $tarball = 1 ]; then
  bash packaging/make_tarball.sh "$dist" "$version"
fi
