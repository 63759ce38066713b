"""What an experiment is: a claim, a criterion declared before it runs, and a computed verdict.

Every experiment of the registry is an :class:`Experiment`: its ``criterion`` text is fixed in
code, ``run`` produces a data table (rows, saved as CSV), and ``verdict`` turns that table into
a :class:`Verdict` with no hand-written part. ``plot`` draws the measured points with error
bands and the theory curve over them. The helpers below are the statistics the verdicts share:
seed means with Student-t intervals, tables pivoted from sweep rows, log-log slopes that say
how they treated zeros.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from srlm.theory.fits import SlopeFit, fit_loglog_slope

FloatArray = NDArray[np.float64]
Status = Literal["confirmed", "contradicted", "inconclusive"]
Profile = Literal["smoke", "quick", "full"]
Backend = Literal["local", "ray"]
Rows = list[dict[str, Any]]
PROFILES: tuple[str, ...] = ("smoke", "quick", "full")

# How far a measured log-log slope must lie from a bound's exponent before it counts against
# it. The bounds are stated up to logarithmic factors (log n, log(n kappa_0)), which move a
# local log-log slope by about 1/log(n), 0.1 to 0.15 at the lab's n: a difference smaller than
# that can be a logarithm, not a different rate.
SLOPE_TOLERANCE = 0.1


@dataclass(frozen=True)
class Verdict:
    """The outcome of one experiment, computed from its data.

    Attributes:
        status: ``confirmed``, ``contradicted`` or ``inconclusive``.
        reason: One or two sentences that say which part of the criterion decided.
        numbers: The key measured numbers (rounded only when displayed).
    """

    status: Status
    reason: str
    numbers: dict[str, float | str] = field(default_factory=dict)


@dataclass(frozen=True)
class Experiment:
    """One claim of the paper as an experiment.

    Attributes:
        number: Position in the report's list of claims (1-10).
        name: Directory and figure name, e.g. ``"01-kappa-contraction"``.
        title: Short title for the claims table.
        claim: The statement tested, in words.
        reference: Where the paper states it.
        criterion: The decision rule, declared before running.
        sizes: ``profile -> params`` (instance sizes, grids, seeds, beta).
        run: ``(params, work_dir, backend) -> rows`` of measured data.
        verdict: ``(rows, params) -> Verdict``.
        plot: ``(rows, params) -> Figure`` with measured points, bands and theory.
    """

    number: int
    name: str
    title: str
    claim: str
    reference: str
    criterion: str
    sizes: Callable[[str], dict[str, Any]]
    run: Callable[[dict[str, Any], Path, Backend], Rows]
    verdict: Callable[[Rows, dict[str, Any]], Verdict]
    plot: Callable[[Rows, dict[str, Any]], Figure]


def worst(statuses: Sequence[Status]) -> Status:
    """Combine parts of a verdict: any contradiction decides, then any undecided part."""
    for status in ("contradicted", "inconclusive"):
        if status in statuses:
            return status  # type: ignore[return-value]
    return "confirmed"


def pick(profile: str, smoke: Any, quick: Any, full: Any) -> Any:
    """The value of a size for ``profile``."""
    return {"smoke": smoke, "quick": quick, "full": full}[profile]


# --- Statistics over seeds ----------------------------------------------------------------


def mean_ci(
    values: ArrayLike, axis: int = 0, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Mean over ``axis`` with a Student-t interval ``mean +- t_{S-1} sd / sqrt(S)``.

    With one value along ``axis`` the interval collapses to the mean.
    """
    array = np.asarray(values, dtype=np.float64)
    mean = array.mean(axis=axis)
    num = array.shape[axis]
    if num < 2:
        return mean, mean.copy(), mean.copy()
    half = stats.t.ppf(0.5 + confidence / 2, num - 1) * array.std(axis=axis, ddof=1)
    half = half / np.sqrt(num)
    return mean, mean - half, mean + half


def select(rows: Rows, **equal: Any) -> Rows:
    """Rows whose fields equal the given values."""
    return [r for r in rows if all(r.get(k) == v for k, v in equal.items())]


def log_band(
    ax: Any, x: FloatArray, values: FloatArray, label: str, color: str, floor: float = 1e-5
) -> FloatArray:
    """Plot the seed mean and 95% band of (S, N) ``values`` on a log axis; return the mean.

    Points whose mean is 0 cannot be drawn on a log axis and are left out; the lower edge
    of the band is floored at ``floor`` for the same reason.
    """
    from srlm.report.figures import band

    mean, low, high = mean_ci(values)
    shown = mean > 0
    band(ax, x[shown], mean[shown], np.maximum(low[shown], floor), high[shown], label, color)
    return mean


def matrix(
    rows: Rows, column: str, key: str, keys: Sequence[Any], seeds: Sequence[int]
) -> FloatArray:
    """A (S, N) table of ``column``, one row per seed and one column per value of ``key``.

    Raises:
        ValueError: If some (seed, key) cell is missing or repeated.
    """
    out = np.full((len(seeds), len(keys)), np.nan)
    for i, seed in enumerate(seeds):
        for j, value in enumerate(keys):
            found = select(rows, seed=seed, **{key: value})
            if len(found) != 1:
                raise ValueError(f"{len(found)} rows for seed={seed}, {key}={value}")
            out[i, j] = float(found[0][column])
    return out


def trajectories(rows: Rows, column: str, seeds: Sequence[int], **equal: Any) -> FloatArray:
    """``column`` over rounds for each seed, shape (S, T + 1), from per-round rows."""
    out = []
    for seed in seeds:
        found = sorted(select(rows, seed=seed, **equal), key=lambda r: int(r["round"]))
        out.append([float(r[column]) for r in found])
    return np.asarray(out, dtype=np.float64)


def positive_slope(x: ArrayLike, y: FloatArray) -> tuple[SlopeFit | None, str, list[int]]:
    """Log-log slope of ``y (S, N)`` against ``x`` over the columns where it can be taken.

    Columns where any seed is 0 are dropped (a zero failure rate has no logarithm; it is
    not floored, so no invented value enters the fit). With fewer than 3 columns left, the
    seed means are fitted instead, over the columns where the mean is positive (one curve,
    OLS interval); with fewer than 3 of those, no fit.

    Returns:
        The fit (or None), a note on what was dropped, and the indices of the kept columns.
    """
    keep = [j for j in range(y.shape[1]) if np.all(y[:, j] > 0) and np.all(np.isfinite(y[:, j]))]
    dropped = y.shape[1] - len(keep)
    note = f"{dropped} of {y.shape[1]} points dropped (a seed at 0)" if dropped else ""
    if len(keep) < 3:
        mean = y.mean(axis=0)
        keep = [j for j in range(y.shape[1]) if mean[j] > 0 and np.isfinite(mean[j])]
        if len(keep) < 3:
            return None, note or "fewer than 3 points", keep
        note = f"seed means fitted ({note})"
        fit = fit_loglog_slope(np.asarray(x, dtype=np.float64)[keep], mean[keep])
        return fit, note, keep
    fit = fit_loglog_slope(np.asarray(x, dtype=np.float64)[keep], y[:, keep])
    return fit, note, keep


def log_linear_rate(
    t: FloatArray, y: FloatArray, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Per-round factor ``r`` of ``y_t ~ a r^t``: per-seed slopes of ``log y`` on ``t``.

    Args:
        t: (N,) rounds.
        y: (S, N) positive values.
        confidence: Coverage of the interval.

    Returns:
        ``(r, r_low, r_high)``: ``exp`` of the mean slope and of its Student-t interval over
        seeds (an asymptotic OLS interval with one seed).
    """
    log_y = np.log(y)
    fits = [stats.linregress(t, row) for row in log_y]
    slopes = np.array([f.slope for f in fits])
    if slopes.size >= 2:
        _, low, high = mean_ci(slopes, confidence=confidence)
    else:
        half = stats.t.ppf(0.5 + confidence / 2, t.size - 2) * fits[0].stderr
        low, high = slopes - half, slopes + half
    return float(np.exp(slopes.mean())), float(np.exp(low)), float(np.exp(high))


def fmt(value: float | str) -> str:
    """A number as the report shows it (3 significant digits)."""
    if isinstance(value, str):
        return value
    return "nan" if not np.isfinite(value) else f"{value:.3g}"
