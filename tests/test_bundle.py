"""The built one-folder bundle (installer/build.sh → dist/allscope) runs on its own.

Skipped when no bundle has been built. The checks run the frozen executable the way a user
would, with the offscreen Qt platform so that they need no display.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "dist" / "allscope"
EXECUTABLE = BUNDLE / ("allscope.exe" if sys.platform == "win32" else "allscope")
DATA = BUNDLE / "_internal"

pytestmark = pytest.mark.skipif(
    not EXECUTABLE.is_file(),
    reason=f"no bundle built ({EXECUTABLE} absent): run installer/build.sh",
)


def run_bundle(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "TMPDIR": str(tmp_path),
        "TEMP": str(tmp_path),
    }
    return subprocess.run([str(EXECUTABLE), *args], capture_output=True, text=True, env=env,
                          timeout=180, cwd=tmp_path)


def bundled_default_model() -> Path:
    """The bundle's default model; skips (or fails, when the project has one) if it is missing."""
    model = DATA / "models" / "default"
    if not (model / "model.json").is_file():
        if (ROOT / "models" / "default" / "model.json").is_file():
            pytest.fail(
                f"{model} is missing but models/default exists: the bundle is stale, rebuild it"
            )
        pytest.skip("the project has no models/default yet, so the bundle carries no default model")
    return model


def test_bundle_carries_openvino_cpu_plugin_and_ir_frontend_beside_libopenvino():
    libs = DATA / "openvino" / "libs"
    names = [p.name for p in libs.iterdir()]
    assert any("openvino" in n and "cpu_plugin" in n for n in names), names
    assert any("openvino_ir_frontend" in n for n in names), names
    assert any(n.startswith(("libopenvino.so", "libopenvino.", "openvino.dll")) for n in names), (
        names
    )


def test_bundle_carries_fonts_and_colour_target():
    resources = DATA / "resources"
    assert (resources / "colour_target.json").is_file()
    assert (resources / "fonts" / "NotoSans-Regular.ttf").is_file()


def test_bundle_self_test_passes_with_the_bundled_model(tmp_path):
    model = bundled_default_model()
    done = run_bundle("--self-test", tmp_path=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(frozen)" in done.stdout
    assert (
        f"at {model}" in done.stdout
    )  # the model was found inside the bundle, not in the source tree
    assert "self-test passed" in done.stdout


def test_bundle_self_test_fails_clearly_on_a_missing_model(tmp_path):
    done = run_bundle("--self-test", "--model", str(tmp_path / "no-such-model"), tmp_path=tmp_path)
    assert done.returncode == 1
    assert "SELF-TEST FAILED" in done.stderr and "no-such-model" in done.stderr


def test_bundle_demo_shows_and_processes_frames(tmp_path):
    done = run_bundle("--demo", "--quit-after", "5", "--settings-dir", str(tmp_path / "settings"),
                      tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["seconds"] > 0, figures  # a first frame was shown
    assert figures["display_fps"] > 0 and figures["processed_fps"] > 0, figures


# issue 11 ("Bundle of 400 MB or less, unpacked"): the unpacked folder's file bytes, links not
# followed, in decimal megabytes (the stricter reading; `du -sh` and build.sh report MiB).
UNPACKED_LIMIT_BYTES = 400 * 10**6


def test_bundle_unpacked_size_is_at_most_400_mb():
    sizes: dict[str, int] = {}
    for path in BUNDLE.rglob("*"):
        if path.is_file() and not path.is_symlink():
            top = path.relative_to(BUNDLE).parts[:2]
            sizes["/".join(top)] = sizes.get("/".join(top), 0) + path.stat().st_size
    total = sum(sizes.values())
    largest = sorted(sizes.items(), key=lambda kv: -kv[1])[:8]
    print(f"unpacked: {total / 1e6:.1f} MB ({total / 2**20:.1f} MiB); largest (MiB): "
          + ", ".join(f"{name} {size / 2**20:.1f}" for name, size in largest))
    assert total <= UNPACKED_LIMIT_BYTES, largest


def test_bundle_carries_one_openblas():
    """OpenCV's linear algebra is served by numpy's OpenBLAS (installer/blas_shim.py)."""
    blas = [p for p in DATA.rglob("*openblas*") if p.is_file() and not p.is_symlink()]
    large = [p for p in blas if p.stat().st_size > 2**20]
    assert len(large) == 1 and "numpy.libs" in str(large[0]), blas
