"""allscope.paths finds models/ and resources/ from a source tree and inside a frozen bundle."""

from __future__ import annotations

import sys
from pathlib import Path

from allscope import paths

ROOT = Path(__file__).resolve().parents[1]


def test_source_tree_root_is_the_project_root():
    assert paths.resource_root() == ROOT
    assert (paths.resources_dir() / "colour_target.json").is_file()


def test_default_model_dir_is_models_default_under_the_root():
    assert paths.default_model_dir() == ROOT / "models" / "default"


def test_frozen_root_is_the_bundle_data_folder(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.is_frozen()
    assert paths.resources_dir() == tmp_path / "resources"
    assert paths.default_model_dir() == tmp_path / "models" / "default"


def test_frozen_flag_without_bundle_folder_is_not_a_pyinstaller_bundle(monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)
    assert not paths.is_frozen()
    assert paths.resource_root() == ROOT


def test_shared_folder_defaults_to_the_folder_beside_the_checkout(monkeypatch):
    monkeypatch.delenv(paths.SHARED_ENV, raising=False)
    assert paths.shared_dir() == ROOT.parent / "shared"
    assert paths.shared_data_dir() == ROOT.parent / "shared" / "data"


def test_shared_folder_comes_from_the_environment_when_set(monkeypatch, tmp_path):
    monkeypatch.setenv(paths.SHARED_ENV, str(tmp_path))
    assert paths.shared_dir() == tmp_path.resolve()
    assert paths.shared_weights_dir() == tmp_path.resolve() / "weights"
