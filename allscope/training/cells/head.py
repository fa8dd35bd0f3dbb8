"""Training the cell head on frozen features (seconds on a CPU).

The head is linear on standardised features. It is fitted in the span of the leading
``components`` principal directions of the training features (a regulariser, and ~5× less
arithmetic on a shared CPU) and then folded back into one linear layer on all features, so the
exported graph and the ``features`` output are unchanged.

Rows with a class label train a class-balanced cross-entropy (every class weighs the same in
total, so the many B-ALL cells do not drown the PBC types). Rows labelled ``NON_BLAST`` (BCCD
white cells of unknown type) add a binary term, -log(1 - P(blast)), with the weight of one
class. Temperature is fitted afterwards on validation rows (``metrics.fit_temperature``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from allscope.training.cells.backbone import Head
from allscope.training.cells.sources import BLAST, CLASSES, NON_BLAST


@dataclass(frozen=True)
class HeadConfig:
    epochs: int = 12
    batch: int = 512
    lr: float = 1e-2
    weight_decay: float = 1e-2
    components: int = 256  # principal directions the linear head is fitted in
    seed: int = 0


def row_weights(labels: np.ndarray) -> np.ndarray:
    """Per-row loss weights: each present class (and the NON_BLAST group) sums to one share."""
    weights = np.zeros(len(labels), np.float64)
    groups = [*range(len(CLASSES)), NON_BLAST]
    present = [g for g in groups if (labels == g).any()]
    for g in present:
        weights[labels == g] = 1.0 / (labels == g).sum()
    return weights * len(labels) / len(present)


def fit_head(features: np.ndarray, labels: np.ndarray, config: HeadConfig = HeadConfig()) -> Head:
    """A trained linear head (eval mode) for ``features`` (N, F) and ``labels`` (N,)."""
    torch.manual_seed(config.seed)
    x = torch.from_numpy(np.asarray(features, np.float32))
    mean, std = x.mean(0), x.std(0) + 1e-3
    basis = _principal_basis((x - mean) / std, config.components, config.seed)
    z = ((x - mean) / std) @ basis
    y = torch.from_numpy(np.asarray(labels, np.int64))
    w = torch.from_numpy(row_weights(labels).astype(np.float32))
    linear = torch.nn.Linear(z.shape[1], len(CLASSES))
    optimiser = torch.optim.AdamW(linear.parameters(), config.lr, weight_decay=config.weight_decay)
    batches = max(1, len(z) // config.batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, config.lr, total_steps=config.epochs * batches
    )
    generator = torch.Generator().manual_seed(config.seed)
    for _ in range(config.epochs):
        order = torch.randperm(len(z), generator=generator)
        for b in range(batches):
            idx = order[b * config.batch : (b + 1) * config.batch]
            loss = _loss(linear(z[idx]), y[idx], w[idx])
            optimiser.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimiser.step()
            schedule.step()
    head = Head(mean, std, len(CLASSES), hidden=0, dropout=0.0)
    last = head.net[-1]
    assert isinstance(last, torch.nn.Linear)
    with torch.no_grad():
        last.weight.copy_(linear.weight @ basis.T)
        last.bias.copy_(linear.bias)
    return head.eval()


def _principal_basis(xs: torch.Tensor, k: int, seed: int, sample: int = 6000) -> torch.Tensor:
    """(F, k) leading principal directions of standardised rows (from a seeded sample)."""
    generator = torch.Generator().manual_seed(seed)
    rows = xs[torch.randperm(len(xs), generator=generator)[:sample]]
    _, _, vh = torch.linalg.svd(rows - rows.mean(0), full_matrices=False)
    return vh[: min(k, vh.shape[0])].T.contiguous()


def _loss(logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    log_p = torch.log_softmax(logits, dim=1)
    known = labels >= 0
    per_row = torch.zeros_like(weights)
    per_row[known] = -log_p[known, labels[known]]
    p_blast = log_p[~known, BLAST].exp().clamp(max=1 - 1e-6)
    per_row[~known] = -torch.log1p(-p_blast)
    return (per_row * weights).sum() / weights.sum()


def head_logits(head: Head, features: np.ndarray, batch: int = 4096) -> np.ndarray:
    """Logits (N, classes) of ``features`` through a trained head."""
    out = []
    with torch.no_grad():
        for i in range(0, len(features), batch):
            out.append(
                head(torch.from_numpy(np.asarray(features[i : i + batch], np.float32))).numpy()
            )
    return np.concatenate(out) if out else np.zeros((0, len(CLASSES)), np.float32)
