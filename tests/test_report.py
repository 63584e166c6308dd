"""mlrun report: the HTML file from real runs (a pruned sweep with seeds and one run with figures),
its selection (compare's), its content offline, the CLI's errors, and the page in headless Chromium."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import mlrun
from mlrun.cli.app import cli
from mlrun.report import curves, figures
from mlrun.report.page import page_html
from mlrun.report.run_sections import anchor
from mlrun.report.study import gather
from mlrun.report.table import table_html

# Seed 3: a pruned sweep submits its configurations in an order shuffled by the spec's seed, and with
# this one the 1e-4 configuration (its two seeds judged together) arrives behind the 0.03 one at the
# first rung (with seed 0 it comes first and ASHA promotes it: nothing to compare it against yet).
SPEC = {"name": "tiny", "seed": 3, "data": {"dataset": "iris"},
        "model": {"hidden_layers": 1, "neurons": 8, "activation": "relu"},
        "optimizer": {"name": "adam", "learning_rate": 0.01}, "training": {"epochs": 3, "batch_size": 16}}
GRID = {"optimizer.learning_rate": [0.03, 0.0001]}  # 1e-4 falls behind at the first rung: pruned
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """A pruned sweep of 2 learning rates x 2 seeds (ASHA at epochs 1 and 2), one run of its own with figures
    and a range test."""
    root = tmp_path_factory.mktemp("report-runs")
    cfg = mlrun.load_config(SPEC)
    mlrun.sweep(cfg, grid=GRID, seeds=2, jobs=1, runs_dir=root,
                prune={"rule": "asha", "grace_period": 1, "reduction_factor": 2})
    own = mlrun.load_config(SPEC, overrides=["model.activation=elu", "optimizer.learning_rate=0.001"])
    mlrun.train(own, runs_dir=root)
    mlrun.lr_find(cfg, start=1e-4, end=1.0, steps=20, runs_dir=root)
    return root


@pytest.fixture(scope="module")
def report(runs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = CliRunner().invoke(cli, ["report", str(runs), "-o", str(out), "--group"])
    assert result.exit_code == 0, result.output
    return out


def _table_runs(html: str) -> list[list[str]]:
    body = html.split('<tbody>', 1)[1].split("</tbody>", 1)[0]
    return [re.findall(r'data-v="([^"]*)"', row) for row in body.split("<tr>")[1:]]


# ---------------------------------------------------------------- what the file holds


def test_the_file_needs_nothing_from_outside(report):
    html = report.read_text(encoding="utf-8")
    assert html.count("plotly.js v") == 1  # the library once, however many figures
    assert html.count("Plotly.newPlot(") == 3  # parallel coordinates, scatter, learning curves
    outside = re.findall(r'(?:src|href|action)\s*=\s*["\']?(?!data:|#)([^"\'\s>]+)', html.split("<script", 1)[0])
    assert outside == []
    assert "default-src 'none'" in html  # and the policy forbids any request the script might try
    assert 'src="data:image/png;base64,' in html  # the figures of the run that has them
    assert '<noscript><img class="static" src="data:image/png;base64,' in html  # the curves without JavaScript


def test_text_from_the_runs_is_text(runs):
    row = {"run": "x", "status": "completed", "data.target": "</td><script>alert(1)</script>"}
    html = table_html([row], ["run", "status", "data.target"])
    assert "<script>" not in html and "&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_range_test_report_has_its_suggestions_and_no_figure_library(runs):
    study = gather([runs], kind="lr_find")
    html = page_html(study)
    assert len(study.runs) == 1 and "plotly.js v" not in html  # no figure, no 4.6 MiB script
    section = html.split('<details class="run"', 1)[1]
    assert all(f"suggestion ({rule})" in section for rule in ("minimum", "steepest", "valley"))
    assert "lr_find.png" in section and "No metric to plot the parameters against" in html


def test_the_table_is_compares_selection(runs):
    study = gather([runs], group=True, filters=["model.activation!=elu"])
    expected = mlrun.compare([runs], group=True, filters=["model.activation!=elu"])
    assert [r["runs"] for r in study.table] == [r["runs"] for r in expected]
    assert len(study.table) == 2 and len(study.runs) == 4
    assert {len(g["paths"]) for g in study.groups} == {2}  # every configuration with its two seeds
    assert study.metric == "test.accuracy"
    assert set(study.status_counts()) <= {"completed", "pruned"} and sum(study.status_counts().values()) == 4


def test_best_values_are_marked_and_groups_show_mean_std_n(runs, report):
    study = gather([runs], group=True)
    html = report.read_text(encoding="utf-8")
    scores = [r["test.accuracy"] for r in study.table if r.get("test.accuracy") is not None]
    best = re.findall(r'<td class="num best" data-v="([^"]*)"><strong>([^<]*)</strong>', html)
    assert any(float(v) == max(scores) for v, _ in best)
    two_seeds = next(r for r in study.table if r["n"] == 2 and r.get("test.accuracy.std") is not None)
    assert f"{two_seeds['test.accuracy']:.4g} ± {two_seeds['test.accuracy.std']:.4g}" in html
    assert f'<a href="#{anchor(two_seeds["runs"][0])}">' in html  # a group's name opens its first run
    header = html.split("</header>", 1)[0]
    assert f"{len(study.runs)} (" in header and "mlrun 0.1.0" in header and "pruned by asha on val_loss" in header


def test_every_run_has_a_closed_section_with_what_its_directory_holds(runs, report):
    study = gather([runs])
    html = report.read_text(encoding="utf-8")
    sections = re.findall(r'<details class="run" id="[^"]+">(.*?)</details>', html, re.S)
    assert len(sections) == len(study.runs) == 5
    pruned = [s for s in sections if "Pruning decision" in s]
    assert len(pruned) == study.status_counts().get("pruned", 0) >= 1
    assert all("Resolved spec (config.yaml)" in s and "Diagnostics (epoch" in s for s in sections)
    own = next(s for s in sections if "confusion" in s and "roc.png" in s)  # the run drawn with figures
    assert "Confusion matrix (test" in own and "pr.png" in own and "diagnostics.png" in own


def test_learning_rates_are_on_log_axes_and_the_curve_menu_switches_columns(runs):
    study = gather([runs], group=True)
    scatter = figures.scatter(study)
    axis = next(ax for name, ax in scatter.layout.to_plotly_json().items()
                if name.startswith("xaxis") and ax.get("type") == "log")
    assert axis["tickvals"] == [0.001, 0.03]  # the pruned 1e-4 trials have no test metrics
    fig = curves.curves(study)
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == ["val_loss", "train_loss", "val_accuracy"]
    for button in buttons:  # each button shows its own column's traces, as many as the first one
        shown = [t for t, v in zip(fig.data, button.args[0]["visible"]) if v]
        assert shown and all(t.hovertemplate is None or f"<br>{button.label} at epoch" in t.hovertemplate
                             for t in shown)
        assert len(shown) == sum(button.args[0]["visible"]) == len(fig.data) // 3
    assert sum(t.visible is True for t in fig.data) == len(fig.data) // 3


def test_a_configuration_curve_is_its_seeds_mean_with_a_sample_std_band():
    seed_0 = [{"epoch": 1, "val_loss": 1.0}, {"epoch": 2, "val_loss": 0.5}]
    seed_1 = [{"epoch": 1, "val_loss": 3.0}, {"epoch": 2, "val_loss": None}]  # stopped before epoch 2's value
    epochs, means, stds = curves.band([seed_0, seed_1], "val_loss")
    assert epochs == [1, 2] and means == [2.0, 0.5]
    assert stds[0] == pytest.approx(np.std([1.0, 3.0], ddof=1)) and stds[1] is None  # one run: no band


def test_log_axis_rule():
    assert figures.is_log("optimizer.learning_rate", [1e-4, 1e-2])
    assert not figures.is_log("optimizer.learning_rate", [0.01, 0.02])  # less than a factor of 3
    assert not figures.is_log("model.neurons", [8, 512])


# ---------------------------------------------------------------- the command


def test_cli_filter_sort_and_errors(runs, tmp_path):
    out = tmp_path / "r.html"
    ok = CliRunner().invoke(cli, ["report", str(runs), "-o", str(out), "--filter", "model.activation=relu",
                                  "--sort", "optimizer.learning_rate", "--asc"])
    assert ok.exit_code == 0, ok.output
    assert re.match(r"report: .*r\.html \(\d.* MiB, 4 runs, 4 rows\)", ok.output)
    cells = _table_runs(out.read_text(encoding="utf-8"))
    expected = mlrun.compare([runs], filters=["model.activation=relu"], sort="optimizer.learning_rate",
                             descending=False)
    assert [row[0] for row in cells] == [r["run"] for r in expected] and len(cells) == 4
    for args, message in [
        (["--filter", "model.activaton=relu"], "unknown filter key 'model.activaton'"),
        (["--sort", "nonsense"], "unknown sort key"),
        (["--metric", "nonsense"], "unknown metric"),
        (["--filter", "model.activation=selu"], "no runs to report"),
    ]:
        bad = CliRunner().invoke(cli, ["report", str(runs), "-o", str(out), *args])
        assert bad.exit_code == 2 and message in bad.output and len(bad.output.strip().splitlines()) == 1, bad.output
    missing = CliRunner().invoke(cli, ["report", str(tmp_path / "nowhere"), "-o", str(out)])
    assert missing.exit_code == 2 and "no such file or directory" in missing.output
    folder = CliRunner().invoke(cli, ["report", str(runs), "-o", str(tmp_path / "no" / "r.html")])
    assert folder.exit_code == 2 and "does not exist" in folder.output


# ---------------------------------------------------------------- in headless Chromium

BROWSER_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 "--enable-unsafe-swiftshader", "--window-size=1280,1000")


@pytest.fixture(scope="module")
def browser(request):
    """One Chromium for the module, the report loaded from its file, the logs of the load kept."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip("no browser: Debian's chromium and chromium-driver are not installed")
    report = request.getfixturevalue("report")  # only when there is a browser to open it
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="report-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*BROWSER_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.get(report.as_uri())
        deadline = time.monotonic() + 20  # plotly draws after the load; the figure test says if it did not
        while (driver.execute_script("return document.querySelectorAll('.plotly-graph-div .main-svg').length") < 3
               and time.monotonic() < deadline):
            time.sleep(0.1)
        driver.logs = {"browser": driver.get_log("browser"), "performance": driver.get_log("performance")}
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _screenshot_dir(tmp_path) -> Path:
    """Where the screenshots go: $MLRUN_REPORT_SCREENSHOTS to look at them, else the test's tmp dir."""
    folder = Path(os.environ.get("MLRUN_REPORT_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_no_console_error_and_no_request_of_any_kind(browser, report):
    requests = [json.loads(e["message"])["message"] for e in browser.logs["performance"]]
    urls = [m["params"]["request"]["url"] for m in requests if m["method"] == "Network.requestWillBeSent"
            and not m["params"].get("documentURL", "").startswith("chrome://")]  # the browser's own start page
    assert report.as_uri() in urls  # the log does see requests: the page itself
    assert [u for u in urls if u != report.as_uri() and not u.startswith("data:")] == []
    assert [e for e in browser.logs["browser"] if e["level"] == "SEVERE"] == []  # a blocked request is one


def _column(browser, index: int) -> list[str]:
    return browser.execute_script(
        "var i = arguments[0]; return Array.from(document.querySelectorAll('#compare-table tbody tr:not(.hidden)'))"
        ".map(function (r) { return r.cells[i].getAttribute('data-v'); });", index)


def test_the_table_sorts_by_a_clicked_header_and_filters_by_typed_text(browser):
    from selenium.webdriver.common.by import By

    heads = [th.get_attribute("data-key") for th in browser.find_elements(By.CSS_SELECTOR, "#compare-table th")]
    index = heads.index("test.accuracy.mean")  # a seed group's column: compare --group's name
    button = browser.find_elements(By.CSS_SELECTOR, "#compare-table th button")[index]
    button.click()
    values = [float(v) for v in _column(browser, index) if v]
    assert values == sorted(values) and len(values) >= 2
    assert _column(browser, index)[-1] == ""  # the pruned group has no test metrics: last
    button.click()
    values = [float(v) for v in _column(browser, index) if v]
    assert values == sorted(values, reverse=True)
    box = browser.find_element(By.ID, "table-filter")
    box.send_keys("pruned")  # the 1e-4 group, pruned at the first rung
    assert _column(browser, heads.index("status")) == ["pruned"]
    assert browser.find_element(By.ID, "table-count").text == "1 of 3 rows"
    box.clear()
    box.send_keys(" ")  # clear() fires no input event
    assert len(_column(browser, 0)) == 3


def _variance(png: bytes) -> float:
    from PIL import Image

    return float(np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float).std())


def test_every_figure_is_drawn_and_the_page_fits_1280_and_800_pixels(browser, tmp_path):
    from selenium.webdriver.common.by import By

    folder = _screenshot_dir(tmp_path)
    for width in (1280, 800):
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": width, "height": 1000, "deviceScaleFactor": 1, "mobile": False})
        browser.execute_script("window.dispatchEvent(new Event('resize'))")
        time.sleep(0.3)
        body, inner = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
        assert body <= inner, f"the page is wider than the window at {width} px"
        browser.save_screenshot(str(folder / f"report-{width}.png"))
        plots = browser.find_elements(By.CSS_SELECTOR, ".plotly-graph-div")
        assert [p.get_attribute("id") for p in plots] == ["plot-parallel", "plot-scatter", "plot-curves"]
        for plot in plots:
            browser.execute_script("arguments[0].scrollIntoView()", plot)
            assert plot.size["width"] <= width
            png = plot.screenshot_as_png
            (folder / f"{plot.get_attribute('id')}-{width}.png").write_bytes(png)
            assert _variance(png) > 10, f"{plot.get_attribute('id')} is blank at {width} px"
    drawn = browser.execute_script(
        "return [document.querySelectorAll('#plot-parallel .parcoords .y-axis').length,"
        " document.getElementById('plot-parallel').data[0].dimensions.length,"
        " document.querySelectorAll('#plot-scatter .scatterlayer .point').length,"
        " document.querySelectorAll('#plot-curves .scatterlayer .trace').length]")
    assert drawn[0] == drawn[1] >= 3 and drawn[2] >= 3 and drawn[3] >= 3  # axes, points and curves are there
    browser.execute_script("document.querySelectorAll('details.run').forEach(function (d) { d.open = true; })")
    section = browser.find_element(By.CSS_SELECTOR, "details.run img")
    browser.execute_script("arguments[0].scrollIntoView()", section)
    browser.save_screenshot(str(folder / "report-run-800.png"))
    assert section.size["width"] > 100


def test_without_javascript_the_table_sections_and_a_static_figure_remain(browser, report, tmp_path):
    from selenium.webdriver.common.by import By

    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})  # the module's last test
    browser.get(report.as_uri())
    assert len(browser.find_elements(By.CSS_SELECTOR, "#compare-table tbody tr")) == 3
    assert len(browser.find_elements(By.CSS_SELECTOR, "details.run")) == 5
    static = browser.find_element(By.CSS_SELECTOR, "img.static")
    assert static.is_displayed() and static.size["width"] > 300
    assert not any(f.is_displayed() for f in browser.find_elements(By.CSS_SELECTOR, ".figure"))  # no empty boxes
    browser.save_screenshot(str(_screenshot_dir(tmp_path) / "report-no-javascript.png"))

