"""The paper's bounds, evaluated: pure numpy functions that broadcast over their arguments.

Each function names the result it evaluates and says whether its formula is stated in the
paper [P] or reconstructed [R] (``docs/deviations.md`` lists the [R] items).
Every bound holds up to an unknown absolute constant, exposed as ``constant``: only shapes
(rates in ``n``, ``T``, ``kappa_0``) can be compared with measurements, never levels.
Logarithms are natural; ``log_card_pi`` is ``log|Pi|``. Scalar inputs give 0-d arrays.

The measured-rate fits (``fit_kappa_trajectory``, ``fit_loglog_slope``) live in
:mod:`srlm.theory.fits` and are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from srlm.theory.fits import KappaFit, SlopeFit, fit_kappa_trajectory, fit_loglog_slope

FloatArray = NDArray[np.float64]

__all__ = [
    "KappaFit",
    "MultiRoundBound",
    "SlopeFit",
    "effective_dimension",
    "effective_dimension_exponential",
    "effective_dimension_polynomial",
    "effective_dimension_spiked",
    "exponential_spectrum",
    "fit_kappa_trajectory",
    "fit_loglog_slope",
    "iterate_kappa_recursion",
    "iteration_threshold",
    "kappa_contraction",
    "kappa_fixed_point",
    "kappa_recursion_step",
    "kappa_trajectory_bound",
    "linear_softmax_log_card_pi",
    "multi_round_upper_bound",
    "one_step_lower_bound",
    "polynomial_spectrum",
    "spiked_spectrum",
]


def _f64(x: ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


# --- Theorem 4.1: one step, lower bound ---------------------------------------------------


def one_step_lower_bound(
    n: ArrayLike,
    log_card_pi: ArrayLike,
    kappa_0: ArrayLike,
    *,
    constant: float = 1.0,
    inner_log: bool = True,
    clip: bool = True,
) -> FloatArray:
    """Theorem 4.1: the failure probability no one-step algorithm can avoid on some instance.

    With the inner logarithm (``inner_log=True``)::

        constant * sqrt( kappa_0 * log|Pi| / (n * max(1, log(n * kappa_0 / log|Pi|))) )

    and without it, the simplified ``Omega~`` form ``constant * sqrt(kappa_0 * log|Pi| / n)``.
    Failure is at ``delta = 1/2``; the bound is a probability, so by default it is clipped
    to ``[0, 1]``. [P]

    Symbols: ``n`` -> ``n`` (samples from ``pi_0``, used once); ``log|Pi|`` ->
    ``log_card_pi``; ``kappa_0`` -> ``kappa_0`` (condition number of ``pi_0``, Eq. 5).

    Args:
        n: Number of samples.
        log_card_pi: ``log|Pi|`` (for the hard instance ``d log A``).
        kappa_0: Condition number of the initial policy.
        constant: The unknown absolute constant of the ``Omega``.
        inner_log: Keep the ``log(n kappa_0 / log|Pi|)`` factor.
        clip: Clip the result to ``[0, 1]``.

    Returns:
        The bound, broadcast over the arguments.

    Notes:
        The paper states the bound only where it is meaningful, ``n kappa_0 >> log|Pi|``.
        Where the inner logarithm falls below 1 (``n kappa_0 / log|Pi| <= e``, the regime of
        constant failure) it is floored at 1, so the exact form never exceeds the simplified
        one and stays continuous and non-increasing in ``n``. The floor is this project's.
    """
    n, log_card_pi, kappa_0 = _f64(n), _f64(log_card_pi), _f64(kappa_0)
    ratio = kappa_0 * log_card_pi / n
    if inner_log:
        ratio = ratio / np.maximum(1.0, np.log(n * kappa_0 / log_card_pi))
    bound = constant * np.sqrt(ratio)
    return np.clip(bound, 0.0, 1.0) if clip else bound


# --- Theorem 5.3 and Corollary 5.7: T rounds, upper bound ---------------------------------


@dataclass(frozen=True)
class MultiRoundBound:
    """The two terms of Theorem 5.3, broadcast arrays of one shape.

    Attributes:
        stable: ``log(n|Pi|/rho) / (gamma delta sqrt(n)) / sqrt(c)``, the ``1/sqrt(n)`` floor.
        transient: ``log(n|Pi|/rho) / (gamma delta sqrt(n)) * sqrt(kappa_0) /
            (1 + sqrt(n c))^((T-1)/2)``, decaying geometrically in ``T``.
    """

    stable: FloatArray
    transient: FloatArray

    @property
    def total(self) -> FloatArray:
        """``stable + transient``."""
        return self.stable + self.transient


def multi_round_upper_bound(
    n: ArrayLike,
    log_card_pi: ArrayLike,
    rho: ArrayLike,
    gamma: ArrayLike,
    delta: ArrayLike,
    c: ArrayLike,
    kappa_0: ArrayLike,
    T: ArrayLike,
    *,
    constant: float = 1.0,
) -> MultiRoundBound:
    """Theorem 5.3: failure probability after ``T`` self-rewarding rounds, with prob. ``1 - rho``.

    ::

        P_x[pi_T(y_hat|x) <= 1 - delta]  <=  constant * log(n|Pi|/rho) / (gamma delta sqrt(n))
                                 * ( 1/sqrt(c) + sqrt(kappa_0) / (1 + sqrt(n c))^((T-1)/2) )

    The first summand is returned as ``stable``, the second as ``transient`` (both include
    ``constant``). [P shape; R the "+"]

    Symbols: ``n`` -> ``n`` (pairs per round); ``log|Pi|`` -> ``log_card_pi``; ``rho`` ->
    ``rho`` (confidence); ``gamma`` -> ``gamma`` (margin); ``delta`` -> ``delta`` (failure
    threshold); ``c`` -> ``c`` (minimum confidence); ``kappa_0`` -> ``kappa_0``; ``T`` -> ``T``.

    Returns:
        The two terms; ``.total`` is their sum. Meant for ``T >= 1``.

    Notes:
        The paper's display is quoted only as a product with a bracketed sum; that the two
        terms add (rather than, say, take a maximum) is a reconstruction. The stable term
        decreases in ``n`` only where ``n|Pi|/rho > e^2`` (``log(a n)/sqrt(n)`` rises below it).
    """
    n, c, T = _f64(n), _f64(c), _f64(T)
    log_term = np.log(n) + _f64(log_card_pi) - np.log(_f64(rho))
    prefactor = constant * log_term / (_f64(gamma) * _f64(delta) * np.sqrt(n))
    decay = (1.0 + np.sqrt(n * c)) ** ((T - 1.0) / 2.0)
    stable = prefactor / np.sqrt(c)
    transient = prefactor * np.sqrt(_f64(kappa_0)) / decay
    stable, transient = np.broadcast_arrays(stable, transient)
    return MultiRoundBound(stable=np.array(stable), transient=np.array(transient))


def iteration_threshold(n: ArrayLike, c: ArrayLike, kappa_0: ArrayLike) -> FloatArray:
    """Corollary 5.7: the rounds after which Theorem 5.3's transient term is at most its stable.

    ::

        T* = 1 + log(c * kappa_0) / log(1 + sqrt(n c))

    For ``T >= T*``, ``sqrt(kappa_0) / (1 + sqrt(n c))^((T-1)/2) <= 1/sqrt(c)`` exactly (take
    logarithms of both sides), so the bound no longer depends on ``kappa_0``. [P claim; R form]

    Symbols: ``n`` -> ``n``; ``c`` -> ``c``; ``kappa_0`` -> ``kappa_0``.

    Returns:
        ``T*`` as a real number (round up for a count of rounds). It is below 1 when
        ``c kappa_0 < 1``: the transient term is then already the smaller one at ``T = 1``.
    """
    n, c, kappa_0 = _f64(n), _f64(c), _f64(kappa_0)
    return 1.0 + np.log(c * kappa_0) / np.log1p(np.sqrt(n * c))


# --- Lemmas C.3-C.4: the kappa recursion --------------------------------------------------


def kappa_recursion_step(kappa: ArrayLike, A: ArrayLike, B: ArrayLike, C: ArrayLike) -> FloatArray:
    """Lemma C.3's one-round map, ``kappa_t -> A + B sqrt(kappa_t) + C log(kappa_t)``.

    Lemma C.3 bounds ``kappa_{t+1}`` by this map of ``kappa_t``.

    Symbols: ``kappa_t`` -> ``kappa``; ``A, B, C`` -> ``A, B, C`` (the lemma's unrecoverable
    constants, taken ``>= 0``). [P structure]

    Returns:
        ``A + B sqrt(kappa) + C log(kappa)``. Iterates stay ``>= 1`` when ``A >= 1`` and
        ``kappa >= 1`` (a condition number is ``>= 1``).
    """
    kappa = _f64(kappa)
    return _f64(A) + _f64(B) * np.sqrt(kappa) + _f64(C) * np.log(kappa)


def iterate_kappa_recursion(
    kappa_0: ArrayLike, T: int, A: ArrayLike, B: ArrayLike, C: ArrayLike
) -> FloatArray:
    """Iterate :func:`kappa_recursion_step` ``T`` times from ``kappa_0``.

    Symbols: as in :func:`kappa_recursion_step`; ``T`` -> ``T`` (rounds).

    Returns:
        ``kappa_0, ..., kappa_T`` stacked on a new leading axis, shape ``(T + 1, ...)``.
    """
    # Broadcast kappa_0 up front so every entry of the stack has the same shape.
    shape = np.broadcast_shapes(*(np.shape(a) for a in (kappa_0, A, B, C)))
    trajectory = [np.broadcast_to(_f64(kappa_0), shape)]
    for _ in range(T):
        trajectory.append(kappa_recursion_step(trajectory[-1], A, B, C))
    return np.stack(trajectory)


def kappa_fixed_point(A: ArrayLike, B: ArrayLike, C: ArrayLike) -> FloatArray:
    """Lemma C.4's fixed point ``kappa* = ((B' + sqrt(B'^2 + 4A)) / 2)^2`` with ``B' = B + C``.

    ``kappa*`` is the fixed point of ``k -> A + B' sqrt(k)``: ``s = sqrt(kappa*)`` is the
    positive root of ``s^2 = A + B' s``. [R closed form]

    Symbols: ``A, B, C`` -> ``A, B, C`` (Lemma C.3's constants, ``>= 0``).

    Notes:
        The log term is folded into the square root using ``log k <= sqrt(k)`` for all
        ``k > 0`` (the gap ``sqrt(k) - log(k)`` is smallest at ``k = 4``, where it is
        ``2 - log 4 > 0``), so ``A + B sqrt(k) + C log(k) <= A + (B + C) sqrt(k)`` when
        ``C >= 0``. ``kappa*`` therefore bounds the true recursion's limit; it is not its
        fixed point.
    """
    b_prime = _f64(B) + _f64(C)
    return ((b_prime + _root(b_prime, A)) / 2.0) ** 2


def _root(b_prime: FloatArray, A: ArrayLike) -> FloatArray:
    """``sqrt(B'^2 + 4A)`` as ``hypot(B', 2 sqrt(A))``, which cannot underflow for tiny ``B'``."""
    return np.hypot(b_prime, 2.0 * np.sqrt(_f64(A)))


def kappa_contraction(A: ArrayLike, B: ArrayLike, C: ArrayLike) -> FloatArray:
    """Lemma C.4's contraction ``q = B' / (B' + sqrt(B'^2 + 4A))`` with ``B' = B + C``.

    ``q = B' / (2 sqrt(kappa*))`` is the slope of ``k -> A + B' sqrt(k)`` at ``kappa*``; it
    is ``< 1/2`` when ``A > 0`` (and ``< 1`` always, as the paper states). [R closed form]

    Symbols: ``A, B, C`` -> ``A, B, C``.
    """
    b_prime = _f64(B) + _f64(C)
    denominator = b_prime + _root(b_prime, A)
    # A = B' = 0 maps every kappa to 0 in one step: q = 0, the limit of B' -> 0 at any A.
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.where(denominator > 0, b_prime / safe, 0.0)


def kappa_trajectory_bound(
    kappa_0: ArrayLike, T: ArrayLike, A: ArrayLike, B: ArrayLike, C: ArrayLike
) -> FloatArray:
    """Lemma C.4: ``kappa_T <= kappa* + q^T (kappa_0 - kappa*)``.

    Symbols: ``kappa_0`` -> ``kappa_0``; ``T`` -> ``T``; ``A, B, C`` -> ``A, B, C``;
    ``kappa*``, ``q`` from :func:`kappa_fixed_point`, :func:`kappa_contraction`. [R]

    Notes:
        Why it holds, for ``A, B, C >= 0``: with ``f(k) = A + B' sqrt(k)`` and
        ``s* = sqrt(kappa*)``, ``f(k) - kappa* = B' (k - kappa*) / (sqrt(k) + s*)``, which is
        ``<= q (k - kappa*)`` on both sides of ``kappa*``; the true map is ``<= f`` (see
        :func:`kappa_fixed_point`) and increasing, so induction on ``T`` gives the bound.
    """
    kappa_star = kappa_fixed_point(A, B, C)
    q = kappa_contraction(A, B, C)
    return kappa_star + q ** _f64(T) * (_f64(kappa_0) - kappa_star)


# --- Theorem 6.2 and Corollary 6.4: linear softmax ----------------------------------------


def linear_softmax_log_card_pi(
    d: ArrayLike, n: ArrayLike, B: ArrayLike, rho: ArrayLike
) -> FloatArray:
    """Theorem 6.2's complexity term ``d * log(n B / rho)``, which replaces ``log|Pi|``.

    Pass the result as ``log_card_pi`` to :func:`multi_round_upper_bound` (or ``d_eff`` from
    :func:`effective_dimension` as ``d``, Corollary 6.4). [P structure; R exact term]

    Symbols: ``d`` -> ``d`` (feature dimension); ``n`` -> ``n``; ``B`` -> ``B``
    (``||theta||_2 <= B``); ``rho`` -> ``rho``.

    Notes:
        A log-covering number cannot be negative, so the term is floored at 0 where
        ``n B / rho < 1``; the floor is this project's.
    """
    return _f64(d) * np.maximum(0.0, np.log(_f64(n) * _f64(B) / _f64(rho)))


def effective_dimension(eigenvalues: ArrayLike, lam: ArrayLike) -> FloatArray:
    """Corollary 6.4: ``d_eff(lambda) = sum_j lambda_j / (lambda_j + lambda)``. [P]

    Symbols: ``lambda_j`` -> ``eigenvalues`` (last axis, length ``d``, each ``>= 0``);
    ``lambda`` -> ``lam`` (``> 0``).

    Returns:
        ``d_eff``, in ``[0, d]`` and non-increasing in ``lam``; shape is the broadcast of
        ``eigenvalues.shape[:-1]`` and ``lam``.
    """
    eigenvalues = _f64(eigenvalues)
    lam = _f64(lam)[..., None]
    return np.sum(eigenvalues / (eigenvalues + lam), axis=-1)


def exponential_spectrum(d: int, C0: float, alpha: float) -> FloatArray:
    """Eigenvalues ``lambda_j = C0 exp(-alpha j)`` for ``j = 1..d``, shape (d,)."""
    return C0 * np.exp(-alpha * np.arange(1, d + 1))


def polynomial_spectrum(d: int, C0: float, p: float) -> FloatArray:
    """Eigenvalues ``lambda_j = C0 j^(-p)`` for ``j = 1..d``, shape (d,)."""
    return C0 * np.arange(1, d + 1, dtype=np.float64) ** (-p)


def spiked_spectrum(d: int, k: int, spike: float, bulk: float) -> FloatArray:
    """``k`` eigenvalues equal to ``spike`` followed by ``d - k`` equal to ``bulk``, shape (d,)."""
    return np.concatenate([np.full(k, float(spike)), np.full(d - k, float(bulk))])


def effective_dimension_exponential(lam: ArrayLike, C0: ArrayLike, alpha: ArrayLike) -> FloatArray:
    """Closed-form ``d_eff`` of an infinite exponential spectrum ``C0 exp(-alpha j)``.

    ::

        d_eff(lambda) ~= integral_0^inf dj / (1 + (lambda / C0) exp(alpha j))
                       = log(1 + C0 / lambda) / alpha

    logarithmic in ``1/lambda``, as Corollary 6.4 says. Since the summand decreases in ``j``,
    the exact sum over ``j >= 1`` lies in ``[value - 1, value]``. [R form]

    Symbols: ``lambda`` -> ``lam``; ``C0`` -> ``C0``; ``alpha`` -> ``alpha``.
    """
    return np.log1p(_f64(C0) / _f64(lam)) / _f64(alpha)


def effective_dimension_polynomial(lam: ArrayLike, C0: ArrayLike, p: ArrayLike) -> FloatArray:
    """Closed-form ``d_eff`` of an infinite polynomial spectrum ``C0 j^(-p)``, ``p > 1``.

    ::

        d_eff(lambda) ~= integral_0^inf dj / (1 + (lambda / C0) j^p)
                       = (C0 / lambda)^(1/p) * (pi / p) / sin(pi / p)

    a power law in ``1/lambda``; the exact sum over ``j >= 1`` lies in ``[value - 1, value]``.
    [R form]

    Symbols: ``lambda`` -> ``lam``; ``C0`` -> ``C0``; ``p`` -> ``p``.
    """
    p = _f64(p)
    return (_f64(C0) / _f64(lam)) ** (1.0 / p) * (np.pi / p) / np.sin(np.pi / p)


def effective_dimension_spiked(
    lam: ArrayLike, d: int, k: int, spike: ArrayLike, bulk: ArrayLike
) -> FloatArray:
    """Exact ``d_eff`` of :func:`spiked_spectrum`: ``k s/(s + lambda) + (d - k) b/(b + lambda)``.

    It is about ``k`` when ``bulk << lambda << spike``. [R form]

    Symbols: ``lambda`` -> ``lam``; ``s`` -> ``spike``; ``b`` -> ``bulk``; ``d, k`` -> ``d, k``.
    """
    lam, spike, bulk = _f64(lam), _f64(spike), _f64(bulk)
    return k * spike / (spike + lam) + (d - k) * bulk / (bulk + lam)
