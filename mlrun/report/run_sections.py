"""One collapsed <details> section per run: its facts, pruning decision, resolved spec, metrics and
confusion matrix, range-test suggestions, diagnostics and advice, and its own PNG figures inline."""

from __future__ import annotations

import base64
import io
import os
import re
from html import escape

from mlrun.comparison.formats import format_duration, format_value
from mlrun.diagnostics.report import load_report
from mlrun.inputs import read_regular_text
from mlrun.runs.files import read_json

FIGURES = ("roc.png", "pr.png", "residuals.png", "lr_find.png", "diagnostics.png")  # the matrix is a table
MAX_PNG = 8 << 20
FACTS = ("status", "stop_reason", "epochs", "best_epoch", "seed", "kind")


def anchor(run: str) -> str:
    return "run-" + re.sub(r"[^A-Za-z0-9_-]", "-", run)


def _read(path: str, name: str, kind: str = "json"):
    try:
        return read_json(os.path.join(path, name), kind)
    except (OSError, ValueError):
        return None


def _kv_table(pairs) -> str:
    rows = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(format_value(v, 6))}</td></tr>" for k, v in pairs)
    return f'<table class="kv">{rows}</table>' if rows else ""


def _facts(row: dict, info: dict) -> str:
    pairs = [(k, info.get(k)) for k in FACTS if info.get(k) is not None]
    pairs.append(("duration", format_duration(row.get("duration"))))
    if isinstance(info.get("sweep"), dict):
        pairs.append(("sweep trial", info["sweep"].get("trial")))
    pairs.append(("path", row.get("path")))
    return _kv_table(pairs)


def _pruning(info: dict) -> str:
    record = info.get("pruning")
    if not isinstance(record, dict):
        return ""
    return "<h4>Pruning decision</h4>" + _kv_table(record.items())


def _spec(path: str) -> str:
    try:
        text = read_regular_text(os.path.join(path, "config.yaml"), "spec")
    except (OSError, ValueError):
        return ""
    return f"<h4>Resolved spec (config.yaml)</h4><pre>{escape(text)}</pre>"


def _metrics(metrics) -> str:
    if not isinstance(metrics, dict):
        return ""
    splits = [s for s in ("train", "validation", "test") if isinstance(metrics.get(s), dict)]
    names = list(dict.fromkeys(k for s in splits for k, v in metrics[s].items() if not isinstance(v, list)))
    if not names:
        return ""
    head = "".join(f'<th scope="col">{escape(s)}</th>' for s in splits)
    body = "".join(f"<tr><th>{escape(n)}</th>" + "".join(
        f'<td class="num">{escape(format_value(metrics[s].get(n), 4))}</td>' for s in splits) + "</tr>"
        for n in names)
    return f'<h4>Metrics</h4><table class="metrics"><tr><th></th>{head}</tr>{body}</table>'


def _confusion(metrics, info: dict) -> str:
    test = metrics.get("test") if isinstance(metrics, dict) else None
    matrix = test.get("confusion_matrix") if isinstance(test, dict) else None
    if not isinstance(matrix, list) or not matrix or not all(isinstance(r, list) for r in matrix):
        return ""
    classes = (info.get("data") or {}).get("classes") or list(range(len(matrix)))
    peak = max((v for r in matrix for v in r if isinstance(v, (int, float))), default=0) or 1
    head = "".join(f'<th scope="col">{escape(str(c))}</th>' for c in classes)
    body = "".join(
        f"<tr><th>{escape(str(c))}</th>" + "".join(
            f'<td class="s{_shade(v, peak)}">{escape(str(v))}</td>' for v in r) + "</tr>"
        for c, r in zip(classes, matrix))
    return ('<h4>Confusion matrix (test; rows true, columns predicted)</h4>'
            f'<table class="confusion"><tr><th></th>{head}</tr>{body}</table>')


def _shade(value, peak) -> int:
    """0..9, the cell's share of the largest count (a class, not a style: a tenth of the bytes)."""
    return min(9, int(10 * value / peak)) if isinstance(value, (int, float)) and value > 0 else 0


def _lr_find(info: dict) -> str:
    resolved = info.get("resolved") if isinstance(info.get("resolved"), dict) else {}
    pairs = [(k, info.get(k)) for k in ("suggestion", "rule", "steps") if info.get(k) is not None]
    pairs += [(f"suggestion ({rule})", lr) for rule, lr in (info.get("suggestions") or {}).items()]
    html = "<h4>Range test</h4>" + _kv_table(pairs) if pairs else ""
    if resolved:
        html += "<h4>Resolved values</h4>" + _kv_table(resolved.items())
    return html


def _diagnostics(path: str) -> str:
    try:
        report = load_report(path)
    except (OSError, ValueError, KeyError, TypeError):  # ConfigError is a ValueError
        return ""
    if report.note or not report.columns:
        return ""
    head = "".join(f'<th scope="col">{escape(c)}</th>' for c in report.columns)
    body = "".join("<tr>" + "".join(f'<td class="num">{escape(format_value(v, 3))}</td>' for v in r) + "</tr>"
                   for r in report.rows)
    return f'<h4>Diagnostics (epoch {report.epoch})</h4><table class="diag"><tr>{head}</tr>{body}</table>'


def _advice(info: dict) -> str:
    items = []
    for finding in info.get("advice") or []:
        if not isinstance(finding, dict) or not finding.get("message"):
            continue
        remedy = "; ".join(str(r) for r in finding.get("remedy") or [])
        items.append(f"<li><b>{escape(str(finding.get('rule', '')))}</b>: {escape(str(finding['message']))}"
                     + (f"<br><code>{escape(remedy)}</code>" if remedy else "") + "</li>")
    return f"<h4>Advice</h4><ul>{''.join(items)}</ul>" if items else ""


def png_data(path: str) -> bytes | None:
    """The PNG at ``path`` re-encoded with a palette (matplotlib's flat colours survive; a third of the
    bytes), or None when it is missing, not a regular file or unreadable."""
    try:
        if not os.path.isfile(path) or os.path.getsize(path) > MAX_PNG:
            return None
        from PIL import Image

        with Image.open(path) as image:
            small = image.convert("RGB").quantize(colors=128, method=Image.Quantize.FASTOCTREE)
        buf = io.BytesIO()
        small.save(buf, format="PNG", optimize=True)
        return buf.getvalue()
    except (OSError, ValueError):
        return None


def _figures(path: str, embed: bool) -> str:
    present = [name for name in FIGURES if os.path.isfile(os.path.join(path, "plots", name))]
    if not present:
        return ""
    if not embed:
        return (f'<p class="note">{len(present)} figures in {escape(os.path.join(path, "plots"))} '
                "(left out to keep the file small: raise --images)</p>")
    images = []
    for name in present:
        data = png_data(os.path.join(path, "plots", name))
        if data:
            src = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
            images.append(f'<figure><img src="{src}" alt="{escape(name)}" loading="lazy">'
                          f"<figcaption>{escape(name)}</figcaption></figure>")
    return f'<div class="figures">{"".join(images)}</div>' if images else ""


def run_section(row: dict, metric: str | None, embed_figures: bool) -> str:
    """The run's <details> (closed): a summary line, then whatever its directory holds."""
    path = row.get("path") or ""
    info = _read(path, "run.json", "run.json")
    info = info if isinstance(info, dict) else {}
    metrics = _read(path, "metrics.json")
    score = f" · {metric} {format_value(row.get(metric), 4)}" if metric and row.get(metric) is not None else ""
    status = escape(str(row["status"]))
    summary = f'{escape(str(row["run"]))} <span class="status-{status}">{status}</span>{escape(score)}'
    parts = [_facts(row, info), _pruning(info), _metrics(metrics), _confusion(metrics, info), _lr_find(info),
             _diagnostics(path), _advice(info), _figures(path, embed_figures), _spec(path)]
    body = "".join(p for p in parts if p)
    return f'<details class="run" id="{anchor(str(row["run"]))}"><summary>{summary}</summary>{body}</details>'
