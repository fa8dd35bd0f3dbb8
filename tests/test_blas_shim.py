"""The bundle's OpenBLAS shim (installer/blas_shim.py): OpenCV's linear algebra, served by
numpy's OpenBLAS, gives numpy's answers, and OpenCV's own OpenBLAS is not loaded at all.

The shim is built here against this environment's wheels and preloaded under the name OpenCV
links to, as the bundle's loader would find it; every function OpenCV takes from OpenBLAS is
reached by one of the calls below (LU, QR, Cholesky, SVD in both precisions, eigenvalues,
matrix products of real and complex matrices).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "installer"))
from blas_shim import build_shim, served_symbols  # noqa: E402

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the shim is built for the Linux bundle only")

CHECKS = r"""
import json, numpy as np, cv2
rng = np.random.default_rng(0)
a, b = rng.normal(size=(6, 6)), rng.normal(size=(6, 2))
spd = a @ a.T + 6 * np.eye(6)
expected = np.linalg.solve(a, b)
out = {}
for name, flag in (("lu", cv2.DECOMP_LU), ("svd", cv2.DECOMP_SVD), ("qr", cv2.DECOMP_QR)):
    ok, x = cv2.solve(a, b, flags=flag)
    out[f"solve_{name}"] = bool(ok) and bool(np.allclose(x, expected))
ok, x = cv2.solve(spd, b, flags=cv2.DECOMP_CHOLESKY)
out["solve_cholesky"] = bool(ok) and bool(np.allclose(x, np.linalg.solve(spd, b)))
ok, x = cv2.solve(rng.normal(size=(9, 4)), rng.normal(size=(9, 1)), flags=cv2.DECOMP_QR)
out["least_squares"] = bool(ok) and x.shape == (4, 1)
singular = np.sort(np.linalg.svd(a, compute_uv=False))
for dtype, tol in ((np.float64, 1e-9), (np.float32, 1e-4)):
    w, u, vt = cv2.SVDecomp(a.astype(dtype))
    out[f"svd_{np.dtype(dtype).name}"] = bool(np.allclose(np.sort(w.ravel()), singular, atol=tol)
        and np.allclose((u * w.ravel()) @ vt, a, atol=10 * tol))
values, _ = cv2.eigenNonSymmetric(a)
out["eigen"] = bool(np.allclose(np.sort(values.ravel()), np.sort(np.linalg.eigvals(a).real)))
for dtype in (np.float32, np.float64):
    m = rng.normal(size=(200, 200)).astype(dtype)
    out[f"gemm_{np.dtype(dtype).name}"] = bool(np.allclose(cv2.gemm(m, m, 1, None, 0), m @ m,
                                                           rtol=1e-3, atol=1e-2))
z = (rng.normal(size=(120, 120)) + 1j * rng.normal(size=(120, 120)))
for name, dtype in (("complex64", np.float32), ("complex128", np.float64)):
    pair = np.dstack([z.real, z.imag]).astype(dtype)
    product = cv2.gemm(pair, pair, 1, None, 0)
    out[f"gemm_{name}"] = bool(np.allclose(product[..., 0] + 1j * product[..., 1], z @ z,
                                           rtol=1e-3, atol=1e-2))
out["original_loaded"] = "opencv_python_headless.libs/libopenblas" in open("/proc/self/maps").read()
print(json.dumps(out))
"""


def _wheel_libraries() -> tuple[Path, Path, Path]:
    cv2_dir = Path(importlib.util.find_spec("cv2").origin).parent  # type: ignore[union-attr]
    numpy_dir = Path(importlib.util.find_spec("numpy").origin).parent  # type: ignore[union-attr]
    client = next(cv2_dir.glob("cv2*.so"))
    originals = sorted((cv2_dir.parent / "opencv_python_headless.libs").glob("libopenblas*.so*"))
    numpy_blas = sorted((numpy_dir.parent / "numpy.libs").glob("lib*openblas*.so*"))
    if not originals or not numpy_blas:
        pytest.fail("OpenCV's or numpy's wheel no longer ships an OpenBLAS: revisit "
                    "installer/blas_shim.py and the spec that uses it")
    return client, originals[0], numpy_blas[0]


@pytest.fixture(scope="module")
def shim(tmp_path_factory) -> tuple[Path, Path, Path]:
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.fail("no C compiler: the bundle build cannot make its OpenBLAS shim either")
    client, original, numpy_blas = _wheel_libraries()
    built = build_shim(client, original, numpy_blas, tmp_path_factory.mktemp("shim"),
                       rpath=str(numpy_blas.parent))
    assert built is not None, "the shim lacks a symbol OpenCV takes from its OpenBLAS"
    return built, client, original


def test_the_shim_defines_every_symbol_opencv_takes_from_its_openblas(shim):
    built, client, original = shim
    served = served_symbols(client, original)
    assert {"cblas_sgemm", "dgesv_", "sgesdd_"} <= served  # OpenCV does call into it
    assert served <= served_symbols(client, built)


def test_opencv_linear_algebra_through_the_shim_matches_numpy(shim):
    built = shim[0]
    env = {**os.environ, "LD_PRELOAD": str(built)}
    done = subprocess.run([sys.executable, "-c", CHECKS], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert results.pop("original_loaded") is False  # the shim served OpenCV, not its own copy
    assert results and all(results.values()), results
