"""The block split: whole blocks of consecutive file numbers per class, deterministic, audited."""

from __future__ import annotations

from allscope.training.data import (
    CLASSES,
    Sample,
    block_split,
    file_number,
    read_split,
    write_split,
)


def _samples(per_class: int = 200) -> list[Sample]:
    return [
        Sample(f"{c}/field-{n:03d}.jpg", label, n)
        for label, c in enumerate(CLASSES)
        for n in range(1, per_class + 1)
        if n % 17 != 0
    ]  # gaps in the numbering, as in the real data


def _part_of(split: dict[str, list[Sample]]) -> dict[str, str]:
    return {s.name: part for part, items in split.items() for s in items}


def test_every_field_lands_in_exactly_one_part():
    samples = _samples()
    split = block_split(samples, block_size=30, seed=0)
    names = [s.name for items in split.values() for s in items]
    assert sorted(names) == sorted(s.name for s in samples)


def test_no_block_of_consecutive_numbers_straddles_two_parts():
    samples = _samples()
    part = _part_of(block_split(samples, block_size=30, seed=3))
    for label in range(len(CLASSES)):
        ordered = sorted((s for s in samples if s.label == label), key=lambda s: s.number)
        for start in range(0, len(ordered), 30):
            assert len({part[s.name] for s in ordered[start : start + 30]}) == 1


def test_parts_change_only_at_block_boundaries():
    samples = _samples()
    part = _part_of(block_split(samples, block_size=30, seed=1))
    ordered = sorted((s for s in samples if s.label == 0), key=lambda s: s.number)
    changes = [
        i for i in range(1, len(ordered)) if part[ordered[i].name] != part[ordered[i - 1].name]
    ]
    assert changes and all(i % 30 == 0 for i in changes)


def test_split_is_deterministic_for_a_seed_and_differs_between_seeds():
    samples = _samples()
    assert block_split(samples, seed=5) == block_split(list(reversed(samples)), seed=5)
    assert block_split(samples, seed=5) != block_split(samples, seed=6)


def test_each_class_gets_roughly_15_percent_val_and_test():
    split = block_split(_samples(300), block_size=30, seed=0)
    for part in ("val", "test"):
        for label in range(len(CLASSES)):
            share = sum(s.label == label for s in split[part]) / sum(
                s.label == label for s in _samples(300)
            )
            assert 0.08 <= share <= 0.22


def test_split_round_trips_through_split_json(tmp_path):
    split = block_split(_samples(), seed=0)
    write_split(tmp_path / "split.json", split, {"seed": 0})
    assert read_split(tmp_path / "split.json") == split


def test_file_number_is_the_last_run_of_digits():
    assert file_number("WBC-Malignant-Pro-017.jpg") == 17
