"""The shipped cells package (models/cells) holds the end-to-end figures its model.json records.

Every expected figure, its split and its 95% interval are read from model.json
(``summary.end_to_end.<precision>``), never written here, so a retrained package is checked
against its own card. Each figure is measured again with the application's runtime (the
detector's cells, ``CellClassifier``, the package's threshold) on the split the figure names,
with the labelling rules of the training's own end-to-end check
(``allscope.training.cells.sources``). To keep the run short the fields of a split are
subsampled deterministically (every ``STRIDE``-th field, in the order of the split; set
ALLSCOPE_FULL_SPLITS=1 to measure whole splits); ``card_figures`` widens the recorded interval
by the binomial spread of that subsample.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from card_figures import Recorded, recorded

from allscope.core.cells import CellClassifier
from allscope.core.model_loading import cell_model_folder, has_cell_package
from allscope.core.model_package import ModelPackage, load_package
from allscope.paths import shared_data_dir

DATA = shared_data_dir()
FIELD_SPLIT = Path(__file__).resolve().parents[3] / "models" / "default" / "split.json"
FULL = os.environ.get("ALLSCOPE_FULL_SPLITS") == "1"
STRIDE = {"taleqani": 3, "pbc": 2, "bccd": 1}  # about 120 B-ALL fields, 140 PBC cells, 52 BCCD
SOURCES = {"B-ALL": "taleqani", "PBC": "pbc", "BCCD": "bccd"}  # the split names' first word

pytestmark = [
    pytest.mark.shared,
    pytest.mark.slow,
    pytest.mark.skipif(not has_cell_package(), reason="models/cells is not installed"),
    pytest.mark.skipif(
        not all((DATA / d).is_dir() for d in ("all-fields", "pbc-cells", "bccd")),
        reason=f"{DATA} lacks all-fields/, pbc-cells/ or bccd/ (the data beside the project)",
    ),
]


@dataclass(frozen=True)
class Judged:
    """One field (or cell image) of a split, its cells' labels and the runtime's calls."""

    field_class: str
    labels: np.ndarray
    called: np.ndarray

    @property
    def flagged(self) -> bool:
        return bool(self.called.any())


@dataclass(frozen=True)
class Measure:
    """How to measure one recorded rate: which items of a split count, and what a hit is."""

    metric: str  # the start of the recorded metric's name
    population: Callable[[list[Judged]], np.ndarray]  # one bool per cell or field counted


def _cells(items: list[Judged], keep: Callable[[Judged], np.ndarray], hit: str) -> np.ndarray:
    picked = [(j.called if hit == "called" else ~j.called)[keep(j)] for j in items]
    return np.concatenate(picked) if picked else np.zeros(0, bool)


def _fields(items: list[Judged], keep: Callable[[Judged], bool], flagged: bool) -> np.ndarray:
    return np.array([j.flagged == flagged for j in items if keep(j)], bool)


def _is_all(j: Judged) -> bool:
    return j.field_class != "Benign"


def _measures() -> list[Measure]:
    from allscope.training.cells.sources import BLAST, NON_BLAST

    return [
        Measure("blast sensitivity (cells of ALL fields",
                lambda s: _cells(s, lambda j: j.labels == BLAST, "called")),
        Measure("specificity vs benign lymphoid (cells of Benign fields",
                lambda s: _cells(s, lambda j: j.labels != BLAST, "not called")),
        Measure("field ALL sensitivity", lambda s: _fields(s, _is_all, True)),
        Measure("field specificity (Benign fields", lambda s: _fields(
            s, lambda j: not _is_all(j), False)),
        Measure("specificity (normal cells not blast)",
                lambda s: _cells(s, lambda j: np.ones(len(j.labels), bool), "not called")),
        Measure("specificity (WBC-box cells not blast)",
                lambda s: _cells(s, lambda j: j.labels == NON_BLAST, "not called")),
        Measure("BCCD fields flagged", lambda s: _fields(s, lambda j: True, True)),
    ]


@pytest.fixture(scope="module")
def package() -> ModelPackage:
    return load_package(cell_model_folder(), kind="cells")  # SHA-256 of the IR checked


@pytest.fixture(scope="module")
def figures(package) -> list[dict]:
    end_to_end = package.summary.get("end_to_end", {})
    assert package.precision in end_to_end, (
        f"models/cells/model.json records no summary.end_to_end.{package.precision}")
    return end_to_end[package.precision]


def _source_and_part(split: str) -> tuple[str, str]:
    named = re.match(r"(B-ALL|PBC|BCCD) (train|val|test)\b", split)
    assert named, f"split {split!r} names no known source and part"
    return SOURCES[named.group(1)], named.group(2)


def _link(target: Path, link: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)


def _items(source: str, part: str, tmp: Path) -> Iterator:
    """The split's labelled items through the training's own readers, fed only the
    subsample (a split file or a folder of links), so that no other field is detected."""
    from allscope.evaluation.bccd import read_voc_annotation
    from allscope.training.cells import sources

    stride = 1 if FULL else STRIDE[source]
    if source == "taleqani":
        chosen = json.loads(FIELD_SPLIT.read_text(encoding="utf-8"))["splits"][part][::stride]
        (tmp / "split.json").write_text(json.dumps({"splits": {part: chosen}}))
        return sources.taleqani_fields(DATA / "all-fields", tmp / "split.json")
    if source == "pbc":
        names = [f"{folder}/{p.name}" for folder in sources.PBC_FOLDERS
                 for p in sorted((DATA / "pbc-cells" / folder).glob("*.jpg"))]
        for name in [n for n in names if sources.hashed_split(n) == part][::stride]:
            _link(DATA / "pbc-cells" / name, tmp / "pbc" / name)
        return sources.pbc_cells(tmp / "pbc")
    root = DATA / "bccd"
    fields = [(xml, read_voc_annotation(xml, root / "JPEGImages"))
              for xml in sorted((root / "Annotations").glob("*.xml"))]
    in_part = [(xml, f) for xml, f in fields if sources.hashed_split(f.image.name) == part]
    for xml, field in in_part[::stride]:
        _link(xml, tmp / "bccd" / "Annotations" / xml.name)
        _link(field.image, tmp / "bccd" / "JPEGImages" / field.image.name)
    return sources.bccd_cells(tmp / "bccd")


@pytest.fixture(scope="module")
def judged(package, tmp_path_factory) -> Callable[[str], list[Judged]]:
    """The runtime's calls on a named split, measured once per split."""
    classifier = CellClassifier(package)
    measured: dict[tuple[str, str], list[Judged]] = {}

    def on(split: str) -> list[Judged]:
        key = _source_and_part(split)
        if key not in measured:
            tmp = tmp_path_factory.mktemp("-".join(key))
            measured[key] = [
                Judged(item.field_class, np.array(item.labels),
                       np.array([c.is_blast for c in classifier.predict(item.image,
                                                                        list(item.cells))], bool))
                for item in _items(*key, tmp)
            ]
        return measured[key]

    return on


@pytest.mark.parametrize("measure", _measures(), ids=lambda m: m.metric.split(" (")[0])
def test_end_to_end_figure_agrees_with_the_card(measure, figures, judged):
    entry = next((e for e in figures if e["metric"].startswith(measure.metric)), None)
    assert entry is not None, (
        f"model.json's end_to_end no longer records {measure.metric!r}: "
        f"{[e['metric'] for e in figures]}")
    figure: Recorded = recorded(figures, measure.metric, entry["split"])
    hits = measure.population(judged(figure.split))
    print(("full split: " if FULL else "subsample: ") + figure.check(int(hits.sum()), len(hits)))
    assert len(hits) > 0
    if FULL:
        assert len(hits) == figure.n  # the card's cells or fields, every one of them
    assert figure.agrees(int(hits.sum()), len(hits))


def test_the_field_split_is_the_one_the_card_counts(figures):
    """The B-ALL split file holds as many ALL and Benign test fields as the card's field
    figures count, so the subsample is drawn from the split the card names."""
    all_fields = recorded(figures, "field ALL sensitivity", "B-ALL")
    benign = recorded(figures, "field specificity", "B-ALL")
    _, part = _source_and_part(all_fields.split)
    split = json.loads(FIELD_SPLIT.read_text(encoding="utf-8"))["splits"][part]
    benign_count = sum(s["name"].startswith("Benign/") for s in split)
    assert (len(split) - benign_count, benign_count) == (all_fields.n, benign.n)
