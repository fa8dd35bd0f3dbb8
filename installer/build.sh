#!/usr/bin/env bash
# Build the one-folder allscope application and pack it as
# dist/allscope-<version>-<os>-<arch>.tar.gz (Linux and macOS; on Windows see installer/build.ps1).
#
#   installer/build.sh             build, self-test the bundle, pack the archive
#   PYTHON=/path/python installer/build.sh   use another interpreter (default: .venv/bin/python)
#
# Needs the build extra: pip install -e '.[build]', and on Linux a C compiler and binutils (cc,
# nm, readelf) for the OpenBLAS shim and the cut ICU data that keep the bundle under 400 MB.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
if ! "$PYTHON" -m PyInstaller --version >/dev/null 2>&1; then
    echo "PyInstaller is not installed for $PYTHON: run $PYTHON -m pip install -e '.[build]'" >&2
    exit 2
fi

version=$("$PYTHON" -c "import allscope; print(allscope.__version__)")
os=$(uname -s | tr '[:upper:]' '[:lower:]')
arch=$(uname -m)
archive="dist/allscope-$version-$os-$arch.tar.gz"

start=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build installer/allscope.spec
bundle=dist/allscope
if [ "$os" = linux ]; then
    cp installer/allscope.desktop installer/install-desktop-entry.sh resources/icons/allscope.png "$bundle/"
fi
built=$(date +%s)

# The bundle must pass its own self-test before it is packed (needs a default model).
if [ -f models/default/model.json ]; then
    scratch=$(mktemp -d)  # the self-test's PDF and session go here, not into the user's temp
    TMPDIR="$scratch" QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}" "$bundle/allscope" --self-test
    rm -rf "$scratch"
else
    echo "WARNING: models/default has no model package: self-test skipped, the bundle has no default model" >&2
fi

rm -f "$archive"
packed=allscope
[ "$os" = darwin ] && packed=allscope.app  # the .app bundle made from the same folder
tar -C dist -czf "$archive" "$packed"
echo "bundle:  $bundle ($(du -sh "$bundle" | cut -f1) unpacked), built in $((built - start)) s"
echo "archive: $archive ($(du -h "$archive" | cut -f1))"
