"""One OpenBLAS in the Linux bundle instead of two (installer/cv2_blas_shim.c).

OpenCV's wheel links its own OpenBLAS (about 39 MB, with a private libgfortran and libquadmath)
for the few BLAS and LAPACK functions it calls; numpy's wheel ships another. ``build_shim``
compiles a small library under the name OpenCV links to that serves those functions from
numpy's OpenBLAS, and checks that it defines every symbol OpenCV takes from the original. When
it cannot (no C compiler, or an OpenCV that calls a function the shim lacks) it returns None and
says why, and the bundle keeps OpenCV's own OpenBLAS.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SOURCE = Path(__file__).resolve().with_name("cv2_blas_shim.c")


def _symbols(library: Path, defined: bool) -> set[str]:
    flag = "--defined-only" if defined else "--undefined-only"
    out = subprocess.run(["nm", "-D", flag, str(library)], capture_output=True, text=True,
                         check=True).stdout
    return {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip()}


def served_symbols(client: Path, original: Path) -> set[str]:
    """The symbols ``client`` (cv2's extension) takes from ``original`` (its OpenBLAS)."""
    return _symbols(client, defined=False) & _symbols(original, defined=True)


def build_shim(client: Path, original: Path, numpy_blas: Path, out_dir: Path,
               rpath: str = "$ORIGIN/../numpy.libs:$ORIGIN/numpy.libs") -> Path | None:
    """The shim, named as ``original``, linked to ``numpy_blas`` (found through ``rpath``: in the
    bundle numpy.libs/ lies beside OpenCV's library folder, or below the folder of a link to the
    shim); None, with the reason printed, when it cannot stand in for ``original``."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None or shutil.which("nm") is None:
        print("WARNING: no C compiler or nm: the bundle keeps OpenCV's own OpenBLAS (+42 MB)")
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    shim = out_dir / original.name
    subprocess.run(
        [compiler, "-shared", "-fPIC", "-O2", "-o", str(shim), str(SOURCE),
         f"-Wl,-soname,{original.name}", f"-L{numpy_blas.parent}", f"-l:{numpy_blas.name}",
         f"-Wl,-rpath,{rpath}", "-Wl,--no-undefined"],
        check=True,
    )
    missing = served_symbols(client, original) - _symbols(shim, defined=True)
    if missing:
        print(f"WARNING: {client.name} calls {sorted(missing)}, which the OpenBLAS shim lacks: "
              "the bundle keeps OpenCV's own OpenBLAS")
        return None
    return shim
