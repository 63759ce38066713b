"""Fits that turn measured numbers into the quantities the paper's bounds predict.

``fit_kappa_trajectory`` fits Lemma C.4's geometric approach ``kappa_t ~ kappa* + q^t
(kappa_0 - kappa*)`` to measured condition numbers (experiment 1); ``fit_loglog_slope`` fits
the exponent of a power law ``y ~ n^slope`` (experiment 2: a ``1/sqrt(n)`` rate is slope
``-1/2``). Both return 95% intervals by default.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class KappaFit:
    """Least-squares fit of ``kappa_t = kappa* + q^t (kappa_0 - kappa*)``.

    Attributes:
        kappa_star: Fitted limit ``kappa*``.
        q: Fitted contraction per round, in ``[0, 1]``.
        kappa_star_interval: ``(low, high)`` interval for ``kappa*`` (NaN if unidentified).
        q_interval: ``(low, high)`` interval for ``q`` (NaN if unidentified).
        residual_rms: Root-mean-square residual over the fitted points ``t >= 1`` (of
            ``log kappa_t`` when fitted on the log scale).
        num_seeds: Number of trajectories fitted jointly.
        interval_method: ``"jackknife"`` (over seeds) or ``"asymptotic"`` (one seed).
    """

    kappa_star: float
    q: float
    kappa_star_interval: tuple[float, float]
    q_interval: tuple[float, float]
    residual_rms: float
    num_seeds: int
    interval_method: str


def _initial_q(kappas: FloatArray) -> float:
    """A starting ``q`` from ratios of successive differences, which equal ``q`` exactly."""
    diffs = np.diff(kappas, axis=1)  # (S, T)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = diffs[:, 1:] / diffs[:, :-1]
    ratios = ratios[np.isfinite(ratios)]
    return float(np.clip(np.median(ratios), 0.05, 0.95)) if ratios.size else 0.5


def _fit_pooled(kappas: FloatArray, log_scale: bool) -> optimize.OptimizeResult:
    """One ``(kappa*, q)`` for all seeds; each seed keeps its own measured ``kappa_0``."""
    t = np.arange(kappas.shape[1])  # (T + 1,)
    kappa_0 = kappas[:, :1]  # (S, 1)
    target = np.log(kappas) if log_scale else kappas

    def residuals(params: FloatArray) -> FloatArray:
        kappa_star, q = params
        model = kappa_star + q**t * (kappa_0 - kappa_star)  # (S, T + 1)
        if log_scale:
            # The model is >= min(kappa*, kappa_0) > 0 except at kappa* = 0; keep log finite.
            model = np.log(np.maximum(model, 1e-300))
        return (model - target)[:, 1:].ravel()  # t = 0 fits itself

    x0 = [max(float(kappas[:, -1].mean()), 0.0), _initial_q(kappas)]
    return optimize.least_squares(residuals, x0, bounds=([0.0, 0.0], [np.inf, 1.0]))


def _asymptotic_intervals(
    result: optimize.OptimizeResult, confidence: float
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Gauss-Newton intervals ``estimate +- t * sqrt(s^2 (J^T J)^-1)`` for one trajectory."""
    nan = (float("nan"), float("nan"))
    dof = result.fun.size - 2
    jtj = result.jac.T @ result.jac  # (2, 2)
    if dof < 1 or np.linalg.cond(jtj) > 1e12:
        return nan, nan
    s2 = float(result.fun @ result.fun) / dof
    half = stats.t.ppf(0.5 + confidence / 2, dof) * np.sqrt(s2 * np.diag(np.linalg.inv(jtj)))
    (kappa_star, q), (h_kappa, h_q) = (float(v) for v in result.x), (float(h) for h in half)
    return (kappa_star - h_kappa, kappa_star + h_kappa), (q - h_q, q + h_q)


def _jackknife_intervals(
    kappas: FloatArray, log_scale: bool, confidence: float
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Leave-one-seed-out intervals ``estimate +- t_{S-1} * se_jackknife`` over seeds.

    ``se^2 = (S - 1)/S * sum_i (theta_(i) - mean_i theta_(i))^2``, with ``theta_(i)`` the pooled
    fit without seed ``i``.
    """
    num_seeds = kappas.shape[0]
    full = _fit_pooled(kappas, log_scale).x  # (2,)
    leave_one_out = np.array(
        [_fit_pooled(np.delete(kappas, i, axis=0), log_scale).x for i in range(num_seeds)]
    )  # (S, 2)
    spread = leave_one_out - leave_one_out.mean(axis=0)
    se = np.sqrt((num_seeds - 1) / num_seeds * np.sum(spread**2, axis=0))  # (2,)
    half = stats.t.ppf(0.5 + confidence / 2, num_seeds - 1) * se
    low, high = full - half, full + half
    return (float(low[0]), float(high[0])), (float(low[1]), float(high[1]))


def fit_kappa_trajectory(
    kappas: ArrayLike,
    *,
    log_scale: bool = True,
    confidence: float = 0.95,
) -> KappaFit:
    """Fit Lemma C.4's trajectory ``kappa_t = kappa* + q^t (kappa_0 - kappa*)`` to measurements.

    Nonlinear least squares (``scipy.optimize.least_squares``) over ``t = 1..T`` of all seeds
    jointly, with ``kappa* >= 0`` and ``0 <= q <= 1``; each seed's ``kappa_0`` is its measured
    first value, not a parameter. By default the residuals are ``log(model) - log(kappa_t)``:
    ``kappa_t`` spans orders of magnitude and its spread grows with its size, which
    unweighted residuals would let the first rounds dominate. [R: the closed form being fitted]

    Symbols: ``kappa_t`` -> ``kappas[..., t]``; ``kappa*`` -> ``KappaFit.kappa_star``;
    ``q`` -> ``KappaFit.q``.

    Args:
        kappas: Measured ``kappa_0..kappa_T``, shape (T + 1,) or (S, T + 1) for ``S`` seeds;
            ``T >= 2``, all positive.
        log_scale: Fit relative (log) rather than absolute residuals.
        confidence: Coverage of the intervals.

    Returns:
        The fit. With ``S >= 2`` seeds the intervals are leave-one-seed-out jackknife
        intervals with ``t_{S-1}`` quantiles (seeds are the independent units; rounds within a
        seed are not); with one seed they are asymptotic (Gauss-Newton) intervals with
        Student-t quantiles, which treat the rounds' residuals as independent.

    Raises:
        ValueError: If ``kappas`` has the wrong shape or non-finite or non-positive entries.

    Notes:
        ``q`` is unidentified when the trajectory is flat (``kappa_0 = kappa*``) and
        ``kappa*`` when it has not yet bent (``q`` near 1); their intervals are then wide or
        NaN. Lemma C.4 gives an upper bound on ``kappa_T``, so a fitted ``q`` smaller than the
        lemma's is consistent with it. Its reconstructed ``q = B'/(B' + sqrt(B'^2 + 4A))``
        is at most 1/2 for any ``A, B, C >= 0``; a fitted ``q`` above 1/2 does not by itself
        contradict the lemma, whose ``A, B, C`` are unknown and whose bound may sit well
        above a trajectory that decays more slowly.
    """
    kappas = np.atleast_2d(np.asarray(kappas, dtype=np.float64))  # (S, T + 1)
    if kappas.ndim != 2 or kappas.shape[1] < 3:
        raise ValueError(f"kappas must have shape (T + 1,) or (S, T + 1), T >= 2: {kappas.shape}")
    if not np.all(np.isfinite(kappas) & (kappas > 0)):
        raise ValueError("kappas has non-finite or non-positive entries")

    result = _fit_pooled(kappas, log_scale)
    if not result.success:
        warnings.warn(f"kappa fit did not converge: {result.message}", stacklevel=2)

    num_seeds = kappas.shape[0]
    if num_seeds >= 2:
        intervals = _jackknife_intervals(kappas, log_scale, confidence)
    else:
        intervals = _asymptotic_intervals(result, confidence)
    return KappaFit(
        kappa_star=float(result.x[0]),
        q=float(result.x[1]),
        kappa_star_interval=intervals[0],
        q_interval=intervals[1],
        residual_rms=float(np.sqrt(np.mean(result.fun**2))),
        num_seeds=num_seeds,
        interval_method="jackknife" if num_seeds >= 2 else "asymptotic",
    )


@dataclass(frozen=True)
class SlopeFit:
    """Fit of ``log y = intercept + slope * log n``.

    Attributes:
        slope: Estimated exponent.
        intercept: Estimated intercept (natural logarithms).
        slope_interval: ``(low, high)`` confidence interval for the slope.
        stderr: Standard error of the slope.
        dof: Degrees of freedom of the Student-t quantile.
        method: ``"ols"`` (one curve), ``"pooled"`` or ``"per_seed"``.
    """

    slope: float
    intercept: float
    slope_interval: tuple[float, float]
    stderr: float
    dof: int
    method: str


def _ols(log_n: FloatArray, log_y: FloatArray) -> tuple[float, float, float]:
    """Slope, intercept and slope standard error of ordinary least squares."""
    result = stats.linregress(log_n, log_y)
    return float(result.slope), float(result.intercept), float(result.stderr)


def fit_loglog_slope(
    n: ArrayLike,
    y: ArrayLike,
    *,
    confidence: float = 0.95,
    method: Literal["auto", "pooled", "per_seed"] = "auto",
) -> SlopeFit:
    """Fit the exponent of ``y ~ n^slope`` by least squares on ``log y = a + slope * log n``.

    Symbols: ``n`` -> ``n`` (sample sizes); ``y`` -> ``y`` (e.g. measured failure rates).

    Args:
        n: Sample sizes, shape (N,), positive.
        y: Measurements, shape (N,) or (S, N) for ``S`` seeds, positive.
        confidence: Coverage of the slope interval (Student-t quantiles).
        method: For 2-D ``y``: ``"per_seed"`` fits each seed and reports the mean slope with
            interval ``mean +- t_{S-1} sd / sqrt(S)`` (robust to correlation within a seed);
            ``"pooled"`` fits all ``S * N`` points at once (``t_{SN-2}``, assumes independent
            points). ``"auto"`` is ``"per_seed"`` when ``S >= 2``.

    Returns:
        The fit.

    Raises:
        ValueError: On shape mismatch, too few points, or non-positive values (a zero
            failure rate has no logarithm: drop it or use more prompts).
    """
    log_n = np.log(_positive(n, "n"))
    log_y = np.log(_positive(y, "y"))
    if log_y.shape[-1] != log_n.shape[0] or log_y.ndim > 2 or log_n.ndim != 1:
        raise ValueError(f"y must have shape (N,) or (S, N) with N = len(n): {log_y.shape}")
    if log_n.size < 3:
        raise ValueError(f"need at least 3 values of n, got {log_n.size}")

    if method not in ("auto", "pooled", "per_seed"):
        raise ValueError(f"method={method!r}: expected 'auto', 'pooled' or 'per_seed'")

    # One curve, or pooled seeds: plain OLS with (number of points - 2) degrees of freedom.
    log_y = np.atleast_2d(log_y)  # (S, N)
    num_seeds = log_y.shape[0]
    if method == "auto":
        method = "per_seed" if num_seeds >= 2 else "pooled"
    if num_seeds == 1 or method == "pooled":
        tiled_n = np.tile(log_n, num_seeds)  # (S * N,)
        slope, intercept, stderr = _ols(tiled_n, log_y.ravel())
        dof = tiled_n.size - 2
        label = "ols" if num_seeds == 1 else "pooled"
    else:
        # Per seed: the spread of the seeds' slopes gives the interval.
        fits = np.array([_ols(log_n, row) for row in log_y])  # (S, 3)
        slope, intercept = (float(v) for v in fits[:, :2].mean(axis=0))
        stderr = float(fits[:, 0].std(ddof=1) / np.sqrt(num_seeds))
        dof, label = num_seeds - 1, "per_seed"

    half = float(stats.t.ppf(0.5 + confidence / 2, dof)) * stderr
    return SlopeFit(slope, intercept, (slope - half, slope + half), stderr, dof, label)


def _positive(values: ArrayLike, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    bad = int(np.sum(~(array > 0)))
    if bad:
        raise ValueError(f"{name} has {bad} non-positive or NaN entries; a log-log fit needs > 0")
    return array
