#!/usr/bin/env bash
# Add allscope to the desktop's application menu for the current user (run from the unpacked
# bundle: ./install-desktop-entry.sh). Writes the .desktop file with this folder's absolute path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/256x256/apps"
mkdir -p "$apps" "$icons"
cp "$here/allscope.png" "$icons/allscope.png"
sed -e "s|^Exec=allscope|Exec=\"$here/allscope\"|" -e "s|^TryExec=allscope|TryExec=$here/allscope|" \
    "$here/allscope.desktop" > "$apps/allscope.desktop"
echo "installed $apps/allscope.desktop (icon in $icons)"
