"""The fine-tune recipe of the cell model on the CPU: views, loss weights, a few real steps."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from allscope.training.cells.finetune import (  # noqa: E402
    FILL_RGB,
    LYMPHOCYTE,
    NON_BLAST,
    FineNet,
    FineTuneConfig,
    balanced_weights,
    eval_views,
    train_views,
)
from allscope.training.cells.finetune_run import train_model  # noqa: E402
from allscope.training.mobilenetv2 import MobileNetV2  # noqa: E402

SIDE = 56


def synthetic(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BGR crops: class 0 a large dark-violet disc, class 1 a small pale disc; their masks."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:SIDE, :SIDE]
    crops = np.empty((n, SIDE, SIDE, 3), np.uint8)
    masks = np.empty((n, SIDE, SIDE), bool)
    labels = np.arange(n) % 2
    for i in range(n):
        radius = (17 if labels[i] == 0 else 10) + rng.uniform(-2, 2)
        cx, cy = SIDE / 2 + rng.uniform(-3, 3, 2)
        disc = (xx - cx) ** 2 + (yy - cy) ** 2 < radius**2
        colour = (150, 40, 90) if labels[i] == 0 else (200, 160, 170)
        crops[i] = (225, 215, 235)
        crops[i][disc] = colour
        crops[i] = np.clip(crops[i] + rng.normal(0, 6, crops[i].shape), 0, 255)
        masks[i] = disc
    return crops, masks, labels


def random_trunk_state() -> dict:
    torch.manual_seed(0)
    return MobileNetV2(num_classes=2).features.state_dict()


def test_evaluation_view_is_the_runtime_square_and_suppression_fills_the_rest():
    crops, masks, _ = synthetic(4)
    c, m = torch.from_numpy(crops), torch.from_numpy(masks)
    plain = eval_views(c, m, FineTuneConfig(size=40, suppress=False))
    suppressed = eval_views(c, m, FineTuneConfig(size=40, suppress=True))
    assert plain.shape == (4, 3, 40, 40) and float(plain.abs().max()) <= 1.0
    fill = torch.tensor(FILL_RGB).view(3) * 2 - 1
    assert torch.allclose(suppressed[:, :, 0, 0], fill.expand(4, 3), atol=1e-4)
    assert not torch.allclose(plain[:, :, 0, 0], fill.expand(4, 3), atol=0.05)
    # the centre keeps the cell's colour (BGR 150,40,90 → RGB red channel 90/255 → -0.29)
    assert float(plain[0, 0, 20, 20]) == pytest.approx(90 / 127.5 - 1, abs=0.12)


def test_training_views_are_random_but_seeded():
    crops, masks, _ = synthetic(8)
    c, m = torch.from_numpy(crops), torch.from_numpy(masks)
    config = FineTuneConfig(size=32)
    a = train_views(c, m, config, torch.Generator().manual_seed(1))
    b = train_views(c, m, config, torch.Generator().manual_seed(1))
    other = train_views(c, m, config, torch.Generator().manual_seed(2))
    assert a.shape == (8, 3, 32, 32) and torch.equal(a, b) and not torch.equal(a, other)
    assert float(a.min()) >= -1.0 and float(a.max()) <= 1.0


def test_lymphocyte_share_is_split_between_sources_and_classes_weigh_the_same():
    labels = np.array([0] * 60 + [LYMPHOCYTE] * 30 + [LYMPHOCYTE] * 10 + [6] * 5 + [NON_BLAST] * 5)
    sources = np.array([0] * 60 + [0] * 30 + [1] * 10 + [1] * 5 + [2] * 5)
    w = balanced_weights(labels, sources)
    totals = [w[labels == g].sum() for g in (0, LYMPHOCYTE, 6, NON_BLAST)]
    assert totals == pytest.approx([totals[0]] * 4)
    hematogones = w[(labels == LYMPHOCYTE) & (sources == 0)]
    pbc_lymphocytes = w[(labels == LYMPHOCYTE) & (sources == 1)]
    assert hematogones.sum() == pytest.approx(pbc_lymphocytes.sum())


def test_a_few_fine_tune_steps_lower_the_loss_deterministically():
    """Six epochs of two batches on 32 synthetic crops, every layer trained, on the CPU."""
    crops, masks, labels = synthetic(32)
    data = {
        "crops": torch.from_numpy(crops),
        "mask": torch.from_numpy(masks),
        "source_np": np.zeros(32, np.int32),
    }
    config = FineTuneConfig(size=32, epochs=6, batch=16, lr=3e-4, low_resolution_p=0.0, dropout=0.0)
    state = random_trunk_state()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small convolutions: threads only wait on each other
    runs = []
    for _ in range(2):
        history: list[float] = []
        model = train_model(data, np.arange(32), labels, state, config, lambda _: None, history)
        runs.append(history)
    torch.set_num_threads(threads)
    first, second = runs
    assert first == second  # same seed, same steps, same losses
    assert np.mean(first[-2:]) < 0.75 * np.mean(first[:2])
    assert isinstance(model, FineNet)
    trunk_param = next(model.trunk.parameters())
    assert not torch.equal(trunk_param.detach(), state[next(iter(state))].float())
