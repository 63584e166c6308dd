"""The report page: header, table, figures, run sections, one file with everything inline.

A Content-Security-Policy allows nothing from anywhere (scripts and styles inline, images as data:
URLs), so the page can make no request however it is opened; without JavaScript the table, the
sections and their PNG figures still read as they are.
"""

from __future__ import annotations

import base64
import os
import tempfile
from dataclasses import dataclass
from html import escape
from importlib import resources

from mlrun.comparison.formats import plot_curves
from mlrun.report import curves, figures
from mlrun.report.run_sections import anchor, png_data, run_section
from mlrun.report.table import table_html
from mlrun.runs.files import atomic_write

CSP = ("default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
       "img-src data:; font-src data:")
IMAGE_RUNS = 10  # runs whose PNG figures are embedded (the table's first): about 150 KiB each


@dataclass
class Written:
    path: str
    bytes: int
    runs: int
    rows: int


def _asset(name: str) -> str:
    return resources.files("mlrun.report").joinpath(name).read_text(encoding="utf-8")


def _header(study) -> str:
    counts = ", ".join(f"{n} {status}" for status, n in study.status_counts().items()) or "none"
    facts = [("paths", ", ".join(study.paths)), ("runs", f"{len(study.runs)} ({counts})"),
             ("table", f"{len(study.table)} {'seed groups' if study.grouped else 'rows'}"),
             ("metric", study.metric or "none")]
    for sweep in study.sweeps:
        pruning = sweep.get("pruning") or {}
        rule = (f"; pruned by {pruning.get('rule')} on {pruning.get('metric')}, rungs at "
                f"{', '.join(sorted(pruning.get('rungs') or {}, key=int))}" if pruning else "")
        facts.append(("sweep", f"{sweep.get('name')} ({sweep.get('method')}, {sweep.get('seeds')} seeds{rule}): "
                               f"{sweep['path']}"))
    facts += [("made by", f"mlrun {study.version}"), ("made at", study.made)]
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in facts)
    warnings = "".join(f"<li>{escape(w)}</li>" for w in study.warnings)
    return (f"<header><h1>mlrun report</h1><dl>{items}</dl>"
            + (f'<ul class="warnings">{warnings}</ul>' if warnings else "") + "</header>")


def _static_curves(study) -> str:
    """The learning curves as a PNG, for a reader without JavaScript."""
    if not study.groups:
        return ""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "curves.png")
        try:
            plot_curves(study.groups, out, key="val_loss", limit=12)
        except (OSError, ValueError):
            return ""
        data = png_data(out)
    if not data:
        return ""
    src = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    return f'<noscript><img class="static" src="{src}" alt="validation loss of the first configurations"></noscript>'


def _figures(study) -> tuple[str, str]:
    """The parameter figures' and the curves' HTML; plotly.js goes in with the first figure drawn."""
    made = [(name, build(study)) for name, build in
            (("parallel", figures.parallel), ("scatter", figures.scatter), ("curves", curves.curves))]
    html, first = {}, True
    for name, fig in made:
        html[name] = "" if fig is None else f'<div class="figure" id="fig-{name}">' + figures.to_div(
            fig, f"plot-{name}", first) + "</div>"
        first = first and fig is None
    noscript = '<noscript><p class="note">The interactive figures need JavaScript.</p></noscript>'
    params = html["parallel"] + html["scatter"]
    table_note = ('<noscript><p class="note">The interactive figures need JavaScript; the table holds their '
                  "values.</p></noscript>")
    return ((table_note + params) if params else f'<p class="note">{escape(_no_parameter_figure(study))}</p>',
            noscript + html["curves"] + _static_curves(study) if html["curves"] else
            '<p class="note">No run has a history.csv.</p>')


def _no_parameter_figure(study) -> str:
    if study.metric is None:
        return "No metric to plot the parameters against (--metric KEY chooses one)."
    if not figures.figure_params(study):
        return "No parameter differs between the rows."
    return f"No row has a value of {study.metric}."


def page_html(study, precision: int = 4, image_runs: int = IMAGE_RUNS) -> str:
    """The whole document as text."""
    anchors = {str(row["run"]): anchor(str(row["run"])) for row in study.runs}
    table = table_html(study.table, study.table.columns, precision, anchors)
    params, learning = _figures(study)
    sections = "".join(run_section(row, study.metric, i < image_runs) for i, row in enumerate(study.runs))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mlrun report: {escape(", ".join(study.paths))}</title>
<style>{_asset("report.css")}</style>
<noscript><style>.figure {{ display: none; }}</style></noscript></head>
<body>
{_header(study)}
<nav><a href="#table">table</a> · <a href="#parameters">parameters</a> · <a href="#curves">learning curves</a>
 · <a href="#runs">runs</a></nav>
<main>
<section id="table"><h2>Runs compared</h2>
<p class="controls" hidden><label>filter <input id="table-filter" type="search" placeholder="text in any cell"></label>
 <span id="table-count"></span> <span class="note">click a column header to sort</span></p>
<div class="scroll">{table}</div>
<p class="note">Best value of each metric in bold; ↑ higher is better, ↓ lower is better.</p></section>
<section id="parameters"><h2>Parameters against {escape(study.metric or "the metric")}</h2>{params}</section>
<section id="curves"><h2>Learning curves</h2>{learning}</section>
<section id="runs"><h2>Each run</h2>
<p class="controls" hidden><button type="button" id="open-all">open all</button>
 <button type="button" id="close-all">close all</button></p>
{sections}</section>
</main>
<script>{_asset("report.js")}</script>
</body></html>
"""


def write_report(study, out, precision: int = 4, image_runs: int = IMAGE_RUNS) -> Written:
    """Write the report of ``study`` to ``out`` atomically; its size and what it holds."""
    text = page_html(study, precision, image_runs)
    path = atomic_write(out, text)
    return Written(str(path), len(text.encode("utf-8")), len(study.runs), len(study.table))
