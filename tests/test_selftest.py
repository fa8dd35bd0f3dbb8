"""``allscope --self-test`` from source, on a real tiny model package."""

import os
import subprocess
import sys

from allscope.testing import write_tiny_package


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-m", "allscope", *args], capture_output=True, text=True,
                          timeout=180, env=env)


def test_self_test_passes_and_reports_versions_and_a_pdf(tmp_path):
    package = write_tiny_package(tmp_path / "model")
    done = run_cli("--self-test", "--model", str(package.path))
    assert done.returncode == 0, done.stderr
    assert "self-test passed" in done.stdout
    assert "OpenVINO" in done.stdout and "PDF:" in done.stdout
    assert "Screening aid, not a diagnosis." in done.stdout


def test_self_test_fails_clearly_on_a_damaged_model(tmp_path):
    package = write_tiny_package(tmp_path / "model")
    (package.path / "model.bin").write_bytes(b"damaged")
    done = run_cli("--self-test", "--model", str(package.path))
    assert done.returncode == 1
    assert "SELF-TEST FAILED" in done.stderr and "model.bin" in done.stderr
