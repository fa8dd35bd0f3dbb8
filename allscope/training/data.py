"""Field data sets: a folder-per-class tree (or a packed copy of it) and its block split.

Consecutive file numbers inside a class were taken one after another from the same slide and
look alike, so a random image-level split leaks near-duplicates into validation and test.
``block_split`` therefore cuts each class into blocks of consecutive file numbers and assigns
whole blocks to train / val / test; the split is written next to the run (``split.json``) so
it can be audited.
"""

from __future__ import annotations

import io
import json
import re
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

CLASSES = ("Benign", "Early Pre-B", "Pre-B", "Pro-B")
BENIGN_CLASS = "Benign"
DEFAULT_FOLDERS = {"Benign": "Benign", "Early": "Early Pre-B", "Pre": "Pre-B", "Pro": "Pro-B"}
SPLITS = ("train", "val", "test")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")


class DataError(ValueError):
    """The data folder or pack is missing or not laid out as expected."""


@dataclass(frozen=True)
class Sample:
    """One field: where it is, its class index and its file number (acquisition order)."""

    name: str  # path relative to the data root, e.g. "Pro/WBC-Malignant-Pro-001.jpg"
    label: int
    number: int


def file_number(name: str) -> int:
    """The last run of digits in a file name (``WBC-Malignant-Pro-017.jpg`` → 17)."""
    digits = re.findall(r"\d+", Path(name).stem)
    if not digits:
        raise DataError(f"{name}: no file number in the name; the block split needs one.")
    return int(digits[-1])


def list_samples(root: str | Path, folders: dict[str, str] | None = None) -> list[Sample]:
    """Every image under ``root/<folder>/``, labelled by ``folders`` (folder → class name)."""
    root = Path(root)
    folders = folders or DEFAULT_FOLDERS
    if not root.is_dir():
        raise DataError(f"Data folder not found: {root}.")
    samples = []
    for folder, cls in folders.items():
        if cls not in CLASSES:
            raise DataError(f"Class {cls!r} for folder {folder!r} is not one of {list(CLASSES)}.")
        files = sorted(p for p in (root / folder).glob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise DataError(
                f"{root / folder}: no images; expected folders {sorted(folders)} under {root}."
            )
        samples += [
            Sample(f"{folder}/{p.name}", CLASSES.index(cls), file_number(p.name)) for p in files
        ]
    return samples


def block_split(
    samples: list[Sample], block_size: int = 30, fractions: tuple[float, float] = (0.15, 0.15),
    seed: int = 0,
) -> dict[str, list[Sample]]:
    """Assign whole blocks of ``block_size`` consecutive file numbers per class to val/test/train.

    Per class, files sorted by number are cut into consecutive blocks; a seeded shuffle of the
    blocks gives ``fractions[0]`` of them to val, ``fractions[1]`` to test (at least one each),
    and the rest to train. The result depends only on the sample list, block size and seed.
    """
    split: dict[str, list[Sample]] = {name: [] for name in SPLITS}
    for label in sorted({s.label for s in samples}):
        ordered = sorted((s for s in samples if s.label == label), key=lambda s: (s.number, s.name))
        blocks = [ordered[i : i + block_size] for i in range(0, len(ordered), block_size)]
        rng = np.random.default_rng([seed, zlib.crc32(CLASSES[label].encode())])
        order = rng.permutation(len(blocks))
        n_val = max(1, round(fractions[0] * len(blocks)))
        n_test = max(1, round(fractions[1] * len(blocks)))
        if n_val + n_test >= len(blocks):
            raise DataError(f"Class {CLASSES[label]}: {len(blocks)} blocks are too few to split.")
        for rank, index in enumerate(order):
            part = "val" if rank < n_val else "test" if rank < n_val + n_test else "train"
            split[part] += blocks[index]
    return {name: sorted(items, key=lambda s: s.name) for name, items in split.items()}


def write_split(path: str | Path, split: dict[str, list[Sample]], info: dict | None = None) -> None:
    """Write the split (every file name per part, plus how it was made) as JSON."""
    payload = {"classes": list(CLASSES), **(info or {})}
    payload["counts"] = {part: _class_counts(items) for part, items in split.items()}
    payload["splits"] = {part: [asdict(s) for s in items] for part, items in split.items()}
    Path(path).write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")


def read_split(path: str | Path) -> dict[str, list[Sample]]:
    payload = json.loads(Path(path).read_text(encoding="utf-8"))
    return {part: [Sample(**s) for s in items] for part, items in payload["splits"].items()}


def _class_counts(items: list[Sample]) -> dict[str, int]:
    return {cls: sum(1 for s in items if s.label == i) for i, cls in enumerate(CLASSES)}


class FieldStore:
    """Decoded BGR fields by sample name, from a data folder or a ``.npz`` pack of encoded files."""

    def __init__(self, root: str | Path, size: int = 224):
        self.root = Path(root)
        self.size = size
        self._packed: dict[str, bytes] | None = None
        if self.root.suffix == ".npz":
            with np.load(self.root) as pack:
                names = [str(n) for n in pack["names"]]
                blobs = [pack[f"f{i}"].tobytes() for i in range(len(names))]
            self._packed = dict(zip(names, blobs, strict=False))

    def samples(self, folders: dict[str, str] | None = None) -> list[Sample]:
        if self._packed is None:
            return list_samples(self.root, folders)
        folders = folders or DEFAULT_FOLDERS
        return sorted(
            (
                Sample(n, CLASSES.index(folders[n.split("/")[0]]), file_number(n))
                for n in self._packed
                if n.split("/")[0] in folders
            ),
            key=lambda s: s.name,
        )

    def read(self, name: str) -> np.ndarray:
        """The field as uint8 BGR ``size``×``size`` (resized only if the file differs)."""
        if self._packed is not None:
            image = cv2.imdecode(np.frombuffer(self._packed[name], np.uint8), cv2.IMREAD_COLOR)
        else:
            image = cv2.imread(str(self.root / name), cv2.IMREAD_COLOR)
        if image is None:
            raise DataError(f"{self.root / name}: not a readable image.")
        if image.shape[:2] != (self.size, self.size):
            image = cv2.resize(image, (self.size, self.size), interpolation=cv2.INTER_AREA)
        return image

    def read_many(self, samples: list[Sample]) -> np.ndarray:
        return (
            np.stack([self.read(s.name) for s in samples])
            if samples
            else np.zeros((0, self.size, self.size, 3), np.uint8)
        )


def pack_folder(
    root: str | Path, out: str | Path, quality: int = 90, folders: dict[str, str] | None = None
) -> int:
    """Re-encode every field as JPEG at ``quality`` into one ``.npz`` (to move data compactly).

    Returns the pack's size in bytes.
    """
    samples = list_samples(root, folders)
    arrays: dict[str, Any] = {"names": np.array([s.name for s in samples])}
    for i, s in enumerate(samples):
        image = cv2.imread(str(Path(root) / s.name), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"{Path(root) / s.name}: not a readable image; remove or replace it.")
        ok, blob = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        arrays[f"f{i}"] = blob.ravel()
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    Path(out).write_bytes(buffer.getvalue())
    return len(buffer.getvalue())
