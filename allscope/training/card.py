"""MODEL_CARD.md and the model.json ``summary`` of a shipped package, from the run's JSON records.

Every number in the card is read from the evaluation/export/comparison JSON, never typed in.
"""

from __future__ import annotations

import json
from pathlib import Path

from allscope.training.export import set_summary
from allscope.training.markdown import ci, markdown, pct

CITATION = (
    'Hosseini, Ghaderzadeh, Eshraghi et al., "A mobile application based on efficient lightweight '
    'CNN '
    'model for classification of B-ALL cancer from non-cancerous cells", Informatics in Medicine '
    "Unlocked 39 (2023) 101244"
)


def summary(export: dict, split: dict, recipe: dict) -> dict:
    """Key figures, each naming its split, for the GUI About box and the PDF report."""
    report = export["reports"]["FP32" if export["shipped"] != "INT8" else "INT8"]
    test, val, rob = report["test"], report["val"], report["robustness"]
    n_test = test["n"]
    metrics = [
        {
            "metric": "4-class accuracy",
            "split": f"test blocks ({n_test} fields)",
            "value": test["accuracy"],
            "ci95": test["accuracy_ci95"],
        },
        {
            "metric": "4-class accuracy",
            "split": f"val blocks ({val['n']} fields)",
            "value": val["accuracy"],
        },
        {
            "metric": "ALL sensitivity",
            "split": f"test blocks ({test['all_vs_benign']['all_fields']} ALL fields)",
            "value": test["all_vs_benign"]["sensitivity"],
            "ci95": test["all_vs_benign"]["sensitivity_ci95"],
        },
        {
            "metric": "specificity (benign not flagged)",
            "split": f"test blocks ({test['all_vs_benign']['benign_fields']} benign fields)",
            "value": test["all_vs_benign"]["specificity"],
            "ci95": test["all_vs_benign"]["specificity_ci95"],
        },
        {
            "metric": "4-class accuracy, scale-bar corner blanked",
            "split": "test blocks",
            "value": rob["corner_blanked"]["accuracy"],
        },
        {
            "metric": "4-class accuracy, camera/stain shifted (mean of 3)",
            "split": "test blocks",
            "value": rob["camera_shift_mean"]["accuracy"],
        },
        {"metric": "ECE after temperature scaling", "split": "test blocks", "value": test["ece"]},
    ]
    if "bccd" in rob:
        metrics.append(
            {
                "metric": "fields flagged as ALL",
                "split": f"BCCD normal blood, another lab ({rob['bccd']['n']} fields)",
                "value": rob["bccd"]["flagged_rate"],
                "ci95": rob["bccd"]["flagged_rate_ci95"],
            }
        )
    return {
        "split": split,
        "metrics": metrics,
        "threshold_rule": report["threshold_rule"],
        "precision_choice": f"{export['shipped']} (INT8 lost {export['int8_loss_pt']:.2f} pt test "
        "accuracy; "
        "INT8 ships only when it loses at most 0.5 pt)",
        "latency_ms_batch1": export["latency_ms"],
        "recipe": recipe,
        "intended_use": "Screening aid at the microscope; not a diagnosis.",
        "citation": CITATION,
    }


def comparison_table(comparison: dict, bccd: dict) -> str:
    lines = [
        "| configuration | val acc | val, corner blanked | val, camera/stain shifted | selection "
        "score | "
        "BCCD flagged (external) |",
        "|---|---|---|---|---|---|",
    ]
    for name, run in comparison["runs"].items():
        if "val" not in run:
            lines.append(f"| {name} | failed (exit {run['exit_status']}) | | | | |")
            continue
        v = run["val"]
        b = bccd.get(name, {}).get("bccd")
        mark = " **(chosen)**" if name == comparison["chosen"] else ""
        lines.append(
            f"| {name}{mark} | {pct(v['val_plain'])} | {pct(v['val_corner_blanked'])} | "
            f"{pct(v['val_camera_shift'])} | {pct(v['score'])} | "
            f"{pct(b['flagged_rate']) if b else 'n/a'} |"
        )
    return "\n".join(lines)


def precision_table(export: dict) -> str:
    lines = [
        "| precision | val acc | test acc | test ALL sensitivity | test specificity | BCCD "
        "flagged | "
        "median latency, batch 1 |",
        "|---|---|---|---|---|---|---|",
    ]
    for precision, r in export["reports"].items():
        b = r["test"]["all_vs_benign"]
        bccd = r["robustness"].get("bccd", {}).get("flagged_rate")
        lines.append(
            f"| {precision} | {pct(r['val']['accuracy'])} | {pct(r['test']['accuracy'])} | "
            f"{pct(b['sensitivity'])} | {pct(b['specificity'])} | "
            f"{pct(bccd) if bccd is not None else 'n/a'} | {export['latency_ms'][precision]:.1f} "
            "ms |"
        )
    return "\n".join(lines)


def targets_table(export: dict) -> str:
    """The issue's targets against the shipped model's figures (test blocks unless named)."""
    r = export["reports"]["FP32" if export["shipped"] != "INT8" else "INT8"]
    b, rob = r["test"]["all_vs_benign"], r["robustness"]
    rows = [
        (
            "4-class accuracy ≥ 99% (test blocks)", pct(r["test"]["accuracy"]),
            r["test"]["accuracy"] >= 0.99,
        ),
        ("ALL sensitivity ≥ 99.5% (test blocks)", pct(b["sensitivity"]), b["sensitivity"] >= 0.995),
        (
            "specificity ≥ 98% at that threshold (test blocks)",
            f"{pct(b['specificity'])} ({b['true_negative']}/{b['benign_fields']})",
            b["specificity"] >= 0.98,
        ),
        (
            "corner blanked within 1 pt (test blocks)",
            f"{rob['corner_blanked']['delta_pt']:+.1f} pt",
            abs(rob["corner_blanked"]["delta_pt"]) <= 1,
        ),
        (
            "camera/stain shift within 3 pt (test blocks, worst of 3)",
            f"{min(rob[f'camera_shift_{v}']['delta_pt'] for v in range(3)):+.1f} pt",
            all(rob[f"camera_shift_{v}"]["delta_pt"] >= -3 for v in range(3)),
        ),
    ]
    if "bccd" in rob:
        rows.append(
            (
                "BCCD flagged ≤ 5%", pct(rob["bccd"]["flagged_rate"]),
                rob["bccd"]["flagged_rate"] <= 0.05,
            )
        )
    rows.append(
        (
            "INT8 ≤ 2 ms per field, batch 1 (this shared 2-core CPU)",
            f"{export['latency_ms']['INT8']:.1f} ms", export["latency_ms"]["INT8"] <= 2,
        )
    )
    lines = ["| target | shipped model | met |", "|---|---|---|"]
    lines += [f"| {t} | {v} | {'yes' if ok else '**no**'} |" for t, v, ok in rows]
    return "\n".join(lines)


def write_card(
    package_dir: str | Path, export: dict, comparison: dict, bccd: dict, split: dict, recipe: dict,
    template: str | Path,
) -> None:
    """Fill the card template's {placeholders} and write MODEL_CARD.md plus the summary."""
    report = export["reports"]["FP32" if export["shipped"] != "INT8" else "INT8"]
    fields = {
        "citation": CITATION,
        "shipped": export["shipped"],
        "int8_loss": f"{export['int8_loss_pt']:.2f}",
        "evaluation": markdown(report),
        "comparison": comparison_table(comparison, bccd),
        "precision_table": precision_table(export),
        "targets": targets_table(export),
        "selection_rule": comparison["selection_rule"],
        "chosen": comparison["chosen"],
        "threshold": f"{report['threshold']:.3f}",
        "temperature": f"{report['temperature']:.3f}",
        "split_counts": json.dumps(split["counts"]),
        "recipe": ", ".join(f"{k} {v}" for k, v in recipe.items()),
        "test_acc": pct(report["test"]["accuracy"]),
        "test_acc_ci": ci(report["test"]["accuracy_ci95"]),
    }
    text = Path(template).read_text(encoding="utf-8").format(**fields)
    (Path(package_dir) / "MODEL_CARD.md").write_text(text, encoding="utf-8")
    set_summary(package_dir, summary(export, split, recipe))
