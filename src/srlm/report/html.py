"""The report: verdicts recomputed from saved data, figures, and one self-contained HTML file.

:func:`build_report` never runs an experiment: it reads each experiment's ``data.csv`` and
``params.json``, computes the verdict and the figure from them, and writes

- ``figures/<name>.png`` and ``.svg``;
- ``claims.csv`` (the claims table) and ``verdicts.json`` (every verdict's numbers);
- ``report.html``: the table, then per claim its statement, criterion, verdict, numbers,
  sizes and figure (inline SVG), with no outside file or network access needed.

The same data always gives the same bytes (no timestamps), so a rebuilt report can be
compared with the original.
"""

from __future__ import annotations

import html
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from srlm.experiments import EXPERIMENTS, Experiment, Verdict
from srlm.experiments.base import PROFILES, fmt
from srlm.experiments.runner import is_finished, load_data
from srlm.io import atomic_write_text, write_csv, write_json
from srlm.report.figures import save_figure

logger = logging.getLogger(__name__)

STATUS_COLORS = {"confirmed": "#1a7f37", "contradicted": "#cf222e", "inconclusive": "#9a6700"}
STYLE = """
body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;width:100%;font-size:0.9em}
td,th{border:1px solid #ccc;padding:0.3em 0.5em;text-align:left;vertical-align:top}
.status{font-weight:bold;color:#fff;padding:0.1em 0.4em;border-radius:0.3em}
section{border-top:1px solid #ddd;margin-top:2em}
svg{max-width:100%;height:auto}
code,pre{font-size:0.85em;background:#f6f8fa}
"""


@dataclass(frozen=True)
class ClaimResult:
    """One experiment's place in the report (``verdict`` is None without usable data).

    Attributes:
        missing: Why there is no verdict: ``"not run"`` or ``"stale"`` (data made with sizes
            this version of the code no longer uses; ``srlm reproduce`` reruns it).
    """

    exp: Experiment
    verdict: Verdict | None
    params: dict[str, Any] | None
    svg: str | None
    missing: str = "not run"


def evaluate(exp: Experiment, run_dir: Path, profile: str) -> ClaimResult:
    """Verdict and figure of one experiment from its saved data."""
    loaded = load_data(exp, run_dir)
    if loaded is None:
        return ClaimResult(exp, None, None, None)
    rows, params = loaded
    if profile in PROFILES and not is_finished(run_dir / exp.name, exp.sizes(profile)):
        # Another version's data: its columns may not be what this verdict reads.
        logger.warning("%s: data made with other sizes; rerun srlm reproduce", exp.name)
        return ClaimResult(exp, None, params, None, missing="stale")
    verdict = exp.verdict(rows, params)
    svg, _ = save_figure(exp.plot(rows, params), run_dir / "figures", exp.name)
    return ClaimResult(exp, verdict, params, svg)


def build_report(run_dir: Path) -> Path:
    """Rebuild every output of ``run_dir`` from its saved data; return ``report.html``'s path.

    Raises:
        FileNotFoundError: If ``run_dir`` holds no experiment data at all.
    """
    profile = _profile(run_dir)
    results = [evaluate(exp, run_dir, profile) for exp in EXPERIMENTS]
    if all(r.params is None for r in results):
        raise FileNotFoundError(f"{run_dir} holds no experiment data (run srlm reproduce first)")
    write_csv(run_dir / "claims.csv", [_table_row(r) for r in results])
    write_json(
        run_dir / "verdicts.json",
        {r.exp.name: _verdict_json(r.verdict) for r in results if r.verdict is not None},
    )
    path = run_dir / "report.html"
    atomic_write_text(path, render(results, profile))
    return path


def _profile(run_dir: Path) -> str:
    run_json = run_dir / "run.json"
    return str(json.loads(run_json.read_text())["profile"]) if run_json.is_file() else "?"


def _table_row(result: ClaimResult) -> dict[str, Any]:
    verdict = result.verdict
    return {
        "claim": result.exp.number,
        "name": result.exp.name,
        "title": result.exp.title,
        "reference": result.exp.reference,
        "verdict": verdict.status if verdict else result.missing,
        "reason": verdict.reason if verdict else "",
    }


def _verdict_json(verdict: Verdict | None) -> dict[str, Any]:
    assert verdict is not None
    return {"status": verdict.status, "reason": verdict.reason, "numbers": verdict.numbers}


def _badge(status: str) -> str:
    color = STATUS_COLORS.get(status, "#57606a")
    return f'<span class="status" style="background:{color}">{html.escape(status)}</span>'


def render(results: list[ClaimResult], profile: str) -> str:
    """The whole HTML document."""
    rows = "".join(
        f"<tr><td>{r.exp.number}</td><td><a href='#{r.exp.name}'>{html.escape(r.exp.title)}</a>"
        f"</td><td>{html.escape(r.exp.reference)}</td>"
        f"<td>{_badge(r.verdict.status if r.verdict else r.missing)}</td>"
        f"<td>{html.escape(r.verdict.reason if r.verdict else '')}</td></tr>"
        for r in results
    )
    sections = "".join(_section(r) for r in results)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>srlm: the paper's claims as experiments</title><style>{STYLE}</style></head><body>"
        "<h1>Why self-rewarding works: the claims as experiments</h1>"
        f"<p>Profile <code>{html.escape(profile)}</code>. Every verdict below is computed from "
        "the saved data by the criterion shown, declared in code before the run; rebuild with "
        "<code>srlm report RUN_DIR</code>. Bounds hold up to unknown constants, so only their "
        "shapes (rates) are compared; a measured rate faster than an upper bound's agrees with "
        "it. The paper's error is self-consistency (confidence in the model's own mode), not "
        "correctness.</p>"
        "<table><tr><th>#</th><th>claim</th><th>paper</th><th>verdict</th><th>why</th></tr>"
        f"{rows}</table>{sections}</body></html>\n"
    )


def _section(result: ClaimResult) -> str:
    exp, verdict = result.exp, result.verdict
    head = f"<section id='{exp.name}'><h2>{exp.number}. {html.escape(exp.title)}</h2>"
    body = (
        f"<p><b>Claim</b> ({html.escape(exp.reference)}): {html.escape(exp.claim)}</p>"
        f"<p><b>Criterion</b>: {html.escape(exp.criterion)}</p>"
    )
    if verdict is None:
        return head + body + f"<p>No verdict: {result.missing} in this directory.</p></section>"
    numbers = "".join(
        f"<tr><td><code>{html.escape(k)}</code></td><td>{html.escape(fmt(v))}</td></tr>"
        for k, v in verdict.numbers.items()
    )
    sizes = html.escape(json.dumps(result.params, indent=1, sort_keys=True))
    return (
        head
        + body
        + f"<p><b>Verdict</b>: {_badge(verdict.status)} {html.escape(verdict.reason)}</p>"
        + f"<details><summary>numbers</summary><table>{numbers}</table></details>"
        + f"<details><summary>sizes (profile parameters)</summary><pre>{sizes}</pre></details>"
        + f"<figure>{_strip_xml_header(result.svg or '')}</figure></section>"
    )


def _strip_xml_header(svg: str) -> str:
    """Inline SVG must start at ``<svg``: drop the XML declaration and DOCTYPE."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg
