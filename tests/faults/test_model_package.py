"""Model package faults: every model.json field wrong, missing, out of range or of the wrong
type; files outside the package; damaged OOD/CAM files; files that do not match the manifest.

The package is resealed after each deliberate edit (its manifest rewritten to match), so what
must catch the fault is the schema, not the hash. ``allscope analyze --model`` must refuse it
with a message naming model.json and the key, exit 2, and write no result.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path

import pytest

from .conftest import assert_clean, field_image, run, write_png

DELETE = object()
HASH = "0" * 64


def reseal(folder: Path) -> None:
    """Rewrite manifest.sha256 over every file (what a deliberate, trusted edit does)."""
    lines = [
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n"
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != "manifest.sha256"
    ]
    (folder / "manifest.sha256").write_text("".join(lines))


def edited_package(
    tiny_model: Path, tmp_path: Path, key: str, value: object, raw: str | None = None
) -> Path:
    folder = tmp_path / "package"
    shutil.copytree(tiny_model, folder)
    meta_path = folder / "model.json"
    if raw is not None:
        meta_path.write_text(raw)
    else:
        meta = json.loads(meta_path.read_text())
        *parents, last = key.split(".")
        target = meta
        for part in parents:
            target = target[part]
        if value is DELETE:
            target.pop(last, None)
        else:
            target[last] = value
        meta_path.write_text(json.dumps(meta, allow_nan=True))
    reseal(folder)
    return folder


NAN, INF = math.nan, math.inf
CASES = [
    ("temperature", 0),
    ("temperature", -1.0),
    ("temperature", "1"),
    ("temperature", None),
    ("temperature", NAN),
    ("temperature", INF),
    ("temperature", True),
    ("temperature", [1]),
    ("threshold", 0),
    ("threshold", 1),
    ("threshold", 1.5),
    ("threshold", -0.1),
    ("threshold", "abc"),
    ("threshold", NAN),
    ("threshold", None),
    ("threshold", True),
    ("classes", []),
    ("classes", ["Benign"]),
    ("classes", ["Benign", "Benign", "Pre-B", "Pro-B"]),
    ("classes", "Benign"),
    ("classes", [1, 2, 3, 4]),
    ("classes", ["", "Early Pre-B", "Pre-B", "Pro-B"]),
    ("classes", DELETE),
    ("benign_class", "Normal"),
    ("benign_class", 5),
    ("benign_class", DELETE),
    ("input", DELETE),
    ("input", "224x224"),
    ("input.width", 0),
    ("input.width", -3),
    ("input.width", "224"),
    ("input.width", 224.5),
    ("input.height", 10**9),
    ("input.color_order", "RGBA"),
    ("input.layout", "CHW"),
    ("input.mean", [1, 2]),
    ("input.mean", ["a", 0, 0]),
    ("input.std", [0, 1, 1]),
    ("input.std", [NAN, 1, 1]),
    ("input.masked", "yes"),
    ("output", "softmax"),
    ("name", ""),
    ("name", 5),
    ("name", DELETE),
    ("version", DELETE),
    ("version", 1),
    ("precision", 16),
    ("files", DELETE),
    ("files", {"model.xml": "abc", "model.bin": HASH}),
    ("files", {"model.xml": HASH}),
    ("files", {"../model.xml": HASH, "model.xml": HASH, "model.bin": HASH}),
    ("format", 99),
    ("format", "1"),
    ("format", 0),
    ("ood", {"kind": "feature", "threshold": 1.0, "file": "../../outside.npz", "sha256": HASH}),
    ("ood", {"kind": "feature", "threshold": 1.0, "file": "/etc/passwd", "sha256": HASH}),
    ("ood", {"kind": "entropy", "threshold": 1.0}),
    ("ood", {"kind": "energy", "threshold": "x"}),
    ("ood", {"kind": "energy", "threshold": 1.0, "temperature": 0}),
    ("ood", {"kind": "energy"}),
    ("ood", {"kind": "feature", "threshold": 1.0}),
    ("cam", {"file": "/etc/passwd", "sha256": HASH}),
    ("cam", {"file": "cam_head.npz"}),
    ("cam", {"file": "../cam_head.npz", "sha256": HASH}),
    ("summary", "text"),
]


def _case_id(case: tuple) -> str:
    key, value = case
    return f"{key}={'missing' if value is DELETE else json.dumps(value, allow_nan=True)[:24]}"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_every_bad_model_json_field_is_refused_by_name(case, tiny_model, tmp_path, cli):
    key, value = case
    package = edited_package(tiny_model, tmp_path, key, value)
    image = write_png(tmp_path / "field.png", field_image(0))
    out = tmp_path / "r.json"
    outcome = cli("analyze", image, "--model", package, "--json", out)
    assert_clean(outcome, "model.json", key.split(".")[-1], status=2)
    assert not out.exists()


@pytest.mark.parametrize(
    "raw",
    ["", "{not json", "[]", "null", '{"name": "x"'],
    ids=["empty", "broken", "list", "null", "cut"],
)
def test_an_unreadable_model_json_is_refused(raw, tiny_model, tmp_path, cli):
    package = edited_package(tiny_model, tmp_path, "", None, raw=raw)
    outcome = cli("analyze", write_png(tmp_path / "f.png", field_image(0)), "--model", package)
    assert_clean(outcome, "model.json", status=2)


def test_temperature_zero_no_longer_disables_flagging_silently(tiny_model, tmp_path):
    """The headline fault: T = 0 made every P(ALL) NaN and every field Benign, with exit 0."""
    package = edited_package(tiny_model, tmp_path, "temperature", 0)
    outcome = run(
        tmp_path,
        "analyze",
        write_png(tmp_path / "f.png", field_image(0)),
        "--model",
        package,
        "--json",
        tmp_path / "r.json",
    )
    assert_clean(outcome, "temperature", "greater than 0", "model.json", status=2)
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("victim", ["model.bin", "model.xml", "model.json"])
def test_a_changed_file_fails_the_manifest_hash(victim, tiny_model, tmp_path, cli):
    package = tmp_path / "package"
    shutil.copytree(tiny_model, package)
    data = bytearray((package / victim).read_bytes())
    if victim == "model.json":
        meta = json.loads(data)
        meta["threshold"] = 0.3  # valid, but not what was shipped
        data = bytearray(json.dumps(meta).encode())
    else:
        data[len(data) // 2] ^= 0x01
    (package / victim).write_bytes(bytes(data))
    outcome = cli("analyze", write_png(tmp_path / "f.png", field_image(0)), "--model", package)
    assert_clean(outcome, victim, "SHA-256", "Reinstall", status=2)


def test_a_package_without_its_manifest_is_refused(tiny_model, tmp_path, cli):
    package = tmp_path / "package"
    shutil.copytree(tiny_model, package)
    (package / "manifest.sha256").unlink()
    outcome = cli("analyze", write_png(tmp_path / "f.png", field_image(0)), "--model", package)
    assert_clean(outcome, "manifest.sha256", "reinstall", status=2)


def test_a_file_linked_from_outside_the_package_is_refused(tiny_model, tmp_path, cli):
    package = tmp_path / "package"
    shutil.copytree(tiny_model, package)
    outside = tmp_path / "elsewhere.bin"
    shutil.move(package / "model.bin", outside)
    (package / "model.bin").symlink_to(outside)
    outcome = cli("analyze", write_png(tmp_path / "f.png", field_image(0)), "--model", package)
    assert_clean(outcome, "model.bin", "outside the model package", status=2)


@pytest.mark.parametrize("part", ["ood", "cam"])
@pytest.mark.parametrize("damage", ["garbage", "empty_zip", "truncated"])
def test_a_damaged_ood_or_cam_file_fails_the_load_not_a_thread(
    part, damage, tiny_model, tmp_path, cli
):
    """The file matches its recorded hash (damaged before it was packaged): reading it must fail
    at load with a message, never later in a worker thread (the GUI hung at "Waiting for
    frames")."""
    name = {"ood": "ood_features.npz", "cam": "cam_head.npz"}[part]
    content = {
        "garbage": b"not an npz archive" * 10,
        "empty_zip": b"PK\x05\x06" + bytes(18),
        "truncated": b"PK\x03\x04" + bytes(40),
    }[damage]
    package = tmp_path / "package"
    shutil.copytree(tiny_model, package)
    (package / name).write_bytes(content)
    meta = json.loads((package / "model.json").read_text())
    digest = hashlib.sha256(content).hexdigest()
    meta[part] = (
        {"kind": "feature", "threshold": 1.0, "file": name, "sha256": digest}
        if part == "ood"
        else {"file": name, "sha256": digest}
    )
    (package / "model.json").write_text(json.dumps(meta))
    reseal(package)
    outcome = cli("analyze", write_png(tmp_path / "f.png", field_image(0)), "--model", package)
    assert_clean(outcome, name, "reinstall", status=2)


def test_the_window_shows_a_damaged_model_as_a_banner(tiny_model, tmp_path, qtbot, monkeypatch):
    """The window opens, shows frames' source, and says what is wrong with the model."""
    from allscope.gui.app import create_app

    package = tmp_path / "package"
    shutil.copytree(tiny_model, package)
    (package / "ood_features.npz").write_bytes(b"damaged" * 20)
    meta = json.loads((package / "model.json").read_text())
    digest = hashlib.sha256(b"damaged" * 20).hexdigest()
    meta["ood"] = {
        "kind": "feature",
        "threshold": 1.0,
        "file": "ood_features.npz",
        "sha256": digest,
    }
    (package / "model.json").write_text(json.dumps(meta))
    reseal(package)
    monkeypatch.setenv("ALLSCOPE_DATA_DIR", str(tmp_path / "data"))
    args = ["--demo", "--settings-dir", str(tmp_path / "config"), "--model", str(package)]
    _, window = create_app(args, source_options={"width": 320, "height": 240})
    qtbot.addWidget(window)
    try:
        assert window.classifier is None
        texts = [m.what for m in window.banner.messages()]
        assert any("ood_features.npz" in t and "cannot be read" in t for t in texts), texts
    finally:
        window.close()
        window.shutdown()
