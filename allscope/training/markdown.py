"""Markdown tables of an evaluation report (they go into the model card as they are)."""

from __future__ import annotations

from allscope.training.data import CLASSES


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def ci(pair) -> str:
    return f"{100 * pair[0]:.1f}–{100 * pair[1]:.1f}%"


def markdown(report: dict) -> str:
    """Headline, per-class, confusion and robustness tables of one evaluation report."""
    lines = [
        f"Temperature {report['temperature']:.3f} (fitted on val); flag threshold P(ALL) ≥ "
        f"{report['threshold']:.3f} ({report['threshold_rule']}).",
        "",
        "| split | fields | 4-class accuracy (95% CI) | ALL sensitivity (95% CI) | specificity "
        "(95% CI) | ECE |",
        "|---|---|---|---|---|---|",
    ]
    for part in ("val", "test"):
        r = report[part]
        b = r["all_vs_benign"]
        lines.append(
            f"| {part} blocks | {r['n']} | {pct(r['accuracy'])} ({ci(r['accuracy_ci95'])}) | "
            f"{pct(b['sensitivity'])} ({b['true_positive']}/{b['all_fields']}; "
            f"{ci(b['sensitivity_ci95'])}) | "
            f"{pct(b['specificity'])} ({b['true_negative']}/{b['benign_fields']}; "
            f"{ci(b['specificity_ci95'])}) | "
            f"{r['ece']:.3f} |"
        )
    lines += [
        "", "Per class (test blocks):", "", "| class | precision | recall | fields |",
        "|---|---|---|---|",
    ]
    for cls, m in report["test"]["per_class"].items():
        lines.append(f"| {cls} | {pct(m['precision'])} | {pct(m['recall'])} | {m['support']} |")
    lines += [
        "", "Confusion matrix (test blocks; rows true, columns predicted):", "",
        "| true \\ predicted | " + " | ".join(CLASSES) + " |", "|---" * (len(CLASSES) + 1) + "|",
    ]
    for cls, row in zip(CLASSES, report["test"]["confusion"], strict=False):
        lines.append(f"| {cls} | " + " | ".join(str(v) for v in row) + " |")
    lines += ["", robustness_table(report)]
    return "\n".join(lines)


def robustness_table(report: dict) -> str:
    rob = report["robustness"]
    plain = report["test"]["accuracy"]
    lines = [
        "| robustness check (test blocks) | 4-class accuracy | change | ALL sensitivity | "
        "specificity |",
        "|---|---|---|---|---|",
        f"| plain | {pct(plain)} | – | {pct(report['test']['all_vs_benign']['sensitivity'])} | "
        f"{pct(report['test']['all_vs_benign']['specificity'])} |",
    ]
    names = {
        "corner_blanked": "scale-bar corner blanked",
        "camera_shift_0": "camera/stain shift A (warm, pink)",
        "camera_shift_1": "camera/stain shift B (cool, blue)",
        "camera_shift_2": "camera/stain shift C (dark, pale)",
    }
    for key, label in names.items():
        r = rob[key]
        lines.append(
            f"| {label} | {pct(r['accuracy'])} | {r['delta_pt']:+.1f} pt | "
            f"{pct(r['sensitivity'])} | "
            f"{pct(r['specificity'])} |"
        )
    if "bccd" in rob:
        b = rob["bccd"]
        lines += [
            "",
            f"BCCD ({b['n']} normal-blood fields from another lab and camera, centre square "
            "resized to 224): "
            f"{b['flagged']}/{b['n']} flagged as ALL = {pct(b['flagged_rate'])} "
            f"(95% CI {ci(b['flagged_rate_ci95'])}); predicted Benign by top class: "
            f"{pct(b['predicted_benign_rate'])}.",
        ]
    return "\n".join(lines)
