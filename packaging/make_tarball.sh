#!/usr/bin/env bash
# Lay the one-folder bundle out as an AppImage-style AppDir and pack it as a .tar.gz:
#
#   vramplan-VERSION-linux-ARCH/
#     AppRun                      starts the app (AppImage convention; `appimagetool` accepts the folder)
#     vramplan, _internal/        the PyInstaller one-folder bundle
#     vramplan.desktop, vramplan.png, .DirIcon
#     share/icons/hicolor/NxN/apps/vramplan.png
#     install-desktop-entry.sh    adds vramplan to the user's application menu (no root needed)
#
#   bash packaging/make_tarball.sh DIST VERSION      (packaging/build.sh --tarball calls it)
# With `appimagetool` on PATH it also writes vramplan-VERSION-ARCH.AppImage.
set -euo pipefail
cd "$(dirname "$0")/.."
dist=${1:?usage: make_tarball.sh DIST VERSION}
version=${2:?usage: make_tarball.sh DIST VERSION}
arch=$(uname -m)
name="vramplan-$version-linux-$arch"
appdir="$dist/$name"

[ -x "$dist/vramplan/vramplan" ] || { echo "make_tarball.sh: build $dist/vramplan first" >&2; exit 1; }
rm -rf "$appdir" "$dist/$name.tar.gz"
mkdir -p "$appdir"
cp -al "$dist/vramplan/." "$appdir/" 2>/dev/null || cp -a "$dist/vramplan/." "$appdir/"
cp packaging/vramplan.desktop "$appdir/vramplan.desktop"
cp resources/icons/vramplan-256.png "$appdir/vramplan.png"
ln -s vramplan.png "$appdir/.DirIcon"
for n in 16 24 32 48 64 128 256 512; do
  mkdir -p "$appdir/share/icons/hicolor/${n}x${n}/apps"
  cp "resources/icons/vramplan-$n.png" "$appdir/share/icons/hicolor/${n}x${n}/apps/vramplan.png"
done

cat > "$appdir/AppRun" <<'RUN'
#!/bin/sh
# Start vramplan from this folder (works from any current directory and through symlinks).
here=$(dirname "$(readlink -f "$0")")
exec "$here/vramplan" "$@"
RUN
chmod +x "$appdir/AppRun"

cat > "$appdir/install-desktop-entry.sh" <<'INSTALL'
#!/bin/sh
# Add vramplan to your application menu (per user, no root): a .desktop entry pointing here, and the icons.
set -eu
here=$(dirname "$(readlink -f "$0")")
data=${XDG_DATA_HOME:-$HOME/.local/share}
mkdir -p "$data/applications"
sed -e "s|^Exec=.*|Exec=\"$here/vramplan\" %f|" -e "s|^TryExec=.*|TryExec=$here/vramplan|" \
  "$here/vramplan.desktop" > "$data/applications/vramplan.desktop"
cp -r "$here/share/icons" "$data/"
echo "vramplan added to the application menu ($data/applications/vramplan.desktop)"
INSTALL
chmod +x "$appdir/install-desktop-entry.sh"

tar -C "$dist" -czf "$dist/$name.tar.gz" "$name"
echo "make_tarball.sh: $dist/$name.tar.gz ($(du -m "$dist/$name.tar.gz" | cut -f1) MB)"
if command -v appimagetool >/dev/null 2>&1; then
  ARCH=$arch appimagetool "$appdir" "$dist/vramplan-$version-$arch.AppImage"
fi
