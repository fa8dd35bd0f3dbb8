"""Model packages on disk (``allscope.core.model_package``): identity with and without a
manifest, and the manifest or model.json damaged in ways a copy or an editor can damage them.
Each refusal names the file and says what to do."""

from __future__ import annotations

import hashlib

import pytest

from allscope.core.model_package import (
    MANIFEST_FILE,
    CropSpec,
    InputSpec,
    ModelPackageError,
    load_package,
    write_package,
)
from allscope.testing import CELL_CLASSES, tiny_cell_model, write_tiny_package


@pytest.fixture()
def package(tmp_path):
    return write_tiny_package(tmp_path / "tiny")


def test_a_package_is_identified_by_its_manifest(package):
    manifest = package.path / MANIFEST_FILE
    assert package.sha256 == hashlib.sha256(manifest.read_bytes()).hexdigest()
    assert package.describe() == "tiny-color 0 (mean colour + dense (test model), FP32)"


def test_an_unverified_package_is_identified_by_its_ir_files(package):
    loaded = load_package(package.path, verify=False)
    assert loaded.manifest_sha256 == ""
    joined = loaded.files["model.xml"] + loaded.files["model.bin"]
    assert loaded.sha256 == hashlib.sha256(joined.encode()).hexdigest()
    assert loaded.sha256 != package.sha256


def test_a_folder_without_model_json_is_refused(package):
    (package.path / "model.json").unlink()
    with pytest.raises(ModelPackageError, match="model.json: missing; a model package needs"):
        load_package(package.path)


def test_a_model_json_that_is_not_utf8_is_refused(package):
    (package.path / "model.json").write_bytes(b'{"name": "caf\xe9"}')
    with pytest.raises(ModelPackageError, match="model.json: cannot be read .*reinstall the model"):
        load_package(package.path)


@pytest.mark.parametrize(
    "manifest",
    [b"\xff\xfe not text", b"0123abcd model.json with one space only\n"],
    ids=["not-utf8", "no-two-spaces"],
)
def test_a_malformed_manifest_is_refused(package, manifest):
    (package.path / MANIFEST_FILE).write_bytes(manifest)
    with pytest.raises(ModelPackageError, match="manifest.sha256: unreadable or malformed"):
        load_package(package.path)


def test_a_manifest_that_leaves_out_model_json_is_refused(package):
    manifest = package.path / MANIFEST_FILE
    kept = [line for line in manifest.read_text().splitlines() if not line.endswith("model.json")]
    manifest.write_text("\n".join(kept) + "\n")
    with pytest.raises(ModelPackageError, match="does not cover model.json; reinstall"):
        load_package(package.path)


def test_a_cells_package_written_with_a_crop_spec_keeps_it(tmp_path):
    crop = CropSpec(scale=2.0, suppress_background=True, fill=(200, 210, 220))
    meta = {
        "kind": "cells", "name": "cells", "version": "1", "classes": list(CELL_CLASSES),
        "blast_class": "blast", "input": InputSpec(width=32, height=32), "crop": crop,
    }
    written = write_package(tmp_path / "cells", tiny_cell_model(None, 32), meta)
    assert written.kind == "cells" and written.crop == crop
    assert load_package(written.path, kind="cells").crop == crop
