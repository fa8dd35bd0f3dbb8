"""model.json's schema (``allscope.core.model_schema.validate_meta``): each rule refuses a bad
document with a message that names the key, and fills in what a valid one leaves out."""

from __future__ import annotations

import json

import pytest

from allscope.core.model_schema import validate_meta

SHA = "ab" * 32


def fields_meta(**changes) -> str:
    meta = {
        "name": "m", "version": "1", "classes": ["Benign", "ALL"], "benign_class": "Benign",
        "input": {"width": 224, "height": 224},
        "files": {"model.xml": SHA, "model.bin": SHA},
    }
    merged = {**meta, **changes}
    return json.dumps({k: v for k, v in merged.items() if v is not None})  # None: key left out


def test_a_minimal_fields_document_gets_its_defaults():
    meta = validate_meta(fields_meta())
    assert (meta.kind, meta.output, meta.threshold, meta.temperature) == ("fields", "logits",
                                                                          0.5, 1.0)
    assert meta.crop is None and meta.ood is None


def test_a_cells_document_without_a_crop_gets_the_default_crop():
    meta = validate_meta(fields_meta(kind="cells", classes=["blast", "other"],
                                     blast_class="blast", benign_class=None))
    assert meta.crop is not None
    assert (meta.crop.scale, meta.crop.suppress_background) == (1.5, False)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"classes": ["Benign", "ALL", "ALL"]}, "class names must be unique; repeated: ALL"),
        ({"files": {"model.xml": SHA}}, "files: .*must give the SHA-256 of model.bin"),
        ({"files": {"model.xml": SHA, "model.bin": SHA, "../up.bin": SHA}},
         "must be a file name inside the package, not a path \\('../up.bin'\\)"),
        ({"files": {"model.xml": SHA, "model.bin": SHA, ".hidden": SHA}},
         "not a path \\('.hidden'\\)"),
        ({"ood": {"kind": "feature", "threshold": 3.0}},
         "a 'feature' detector needs the sha256 of its statistics file"),
        ({"ood": {"kind": "feature", "threshold": 3.0, "sha256": SHA, "file": "a/b.npz"}},
         "ood.file: .*not a path"),
        ({"cam": {"file": "..", "sha256": SHA}}, "cam.file: .*not a path"),
        ({"site_head": {"file": "C:\\\\head.npz", "sha256": SHA}}, "site_head.file: .*not a path"),
    ],
    ids=["repeated-class", "missing-ir-hash", "file-up", "file-hidden", "ood-no-sha",
         "ood-path", "cam-dots", "site-head-backslash"],
)
def test_a_bad_document_is_refused_by_key(changes, message):
    with pytest.raises(ValueError, match=message):
        validate_meta(fields_meta(**changes))


@pytest.mark.parametrize(
    ("text", "message"),
    [("[1, 2]", "the top level must be a JSON object"), ("{name: 1}", "not valid JSON"),
     (fields_meta(format=2), "format 2 is newer than this allscope understands \\(1\\)")],
    ids=["list", "not-json", "newer"],
)
def test_a_document_that_is_not_a_model_json_is_refused(text, message):
    with pytest.raises(ValueError, match=message):
        validate_meta(text)
