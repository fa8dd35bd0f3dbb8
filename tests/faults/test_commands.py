"""Every command that loads a model refuses a bad package the same way, and training refuses a
checkpoint that would run code when loaded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import assert_clean, field_image, write_png
from .test_model_package import edited_package


@pytest.mark.parametrize(
    "command",
    [("bench", "--repeats", "1", "--live-frames", "0", "--model"), ("trust", "augment", "--model")],
    ids=["bench", "trust-augment"],
)
def test_every_command_refuses_a_bad_package_by_name(command, tiny_model, tmp_path, cli):
    package = edited_package(tiny_model, tmp_path, "temperature", 0)
    outcome = cli(*command, package, *(("--out", tmp_path / "aug") if "augment" in command else ()))
    assert_clean(outcome, "model.json", "temperature", status=2)


def test_sessions_export_refuses_a_bad_package_by_name(tiny_model, tmp_path, cli):
    package = edited_package(tiny_model, tmp_path, "threshold", "abc")
    write_png(image := tmp_path / "f.png", field_image(0))
    assert_clean(cli("analyze", image, "--no-model", "--pdf", tmp_path / "r.pdf"), status=0)
    outcome = cli("sessions", "export", "1", "--pdf", tmp_path / "again.pdf", "--model", package)
    assert_clean(outcome, "model.json", "threshold", status=2)
    assert not (tmp_path / "again.pdf").exists()


class _Payload:
    """Unpickling this runs code: it creates the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("loader", ["load_checkpoint", "export_package"])
def test_a_checkpoint_that_runs_code_is_refused(loader, tmp_path):
    """torch.load(weights_only=True): a tampered checkpoint cannot execute anything."""
    torch = pytest.importorskip("torch", reason="training needs the train extra (torch)")
    marker = tmp_path / "code-ran"
    checkpoint = tmp_path / "checkpoint.pt"
    torch.save({"config": {"arch": "mobilenetv2"}, "payload": _Payload(marker)}, checkpoint)
    if loader == "load_checkpoint":
        from allscope.training.train import load_checkpoint

        call = lambda: load_checkpoint(checkpoint)  # noqa: E731
    else:
        from allscope.training.export import export_package

        call = lambda: export_package(checkpoint, tmp_path / "out", "FP32")  # noqa: E731
    with pytest.raises(Exception, match="(?i)weights_only|unpickl|unsupported|global"):
        call()
    assert not marker.exists()
    shutil.rmtree(tmp_path / "out", ignore_errors=True)
