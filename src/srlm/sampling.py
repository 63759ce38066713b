"""Data of round t: ``n`` triples ``x ~ D``, ``y, y' ~ pi_t(.|x)`` drawn independently.

Sampling is the largest cost of a tabular round at scale (it must read every logit of every
prompt it draws from), so it is written for speed: prompts come sorted, each row's uniforms
are generated already sorted, one ``searchsorted`` serves a whole block of rows, and blocks
of rows run on all cores (numpy releases the GIL in these loops).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from srlm.parallel import block_bounds, default_workers, run_blocks

if TYPE_CHECKING:
    from srlm.policies.base import FloatArray, IntArray, Policy

# Logits per block of rows. Each block draws from its own random stream, so this number is
# part of what a seed means: changing it changes every sample drawn from a large table.
_BLOCK_LOGITS = 2**18


def sample_prompts(weights: FloatArray, n: int, rng: np.random.Generator) -> IntArray:
    """``n`` prompts ``x ~ D``, returned sorted (counts per prompt, then repeated).

    The order of the triples does not matter to the update, and sorted prompts make the
    response sampling read each prompt's probabilities once, in memory order.
    """
    counts = rng.multinomial(n, weights)
    return np.repeat(np.arange(weights.size, dtype=np.int64), counts)


def sample_pairs(
    pi_t: Policy, weights: FloatArray, n: int, rng: np.random.Generator
) -> tuple[IntArray, IntArray, IntArray]:
    """The prompts and both responses of one round, each of shape (n,).

    Pairs are grouped by prompt and, within a prompt, ordered by ``y`` (see
    :func:`sample_rows`); the update does not depend on their order.
    """
    x = sample_prompts(weights, n, rng)
    y, y_prime = pi_t.sample(x, rng, draws=2)
    return x, y, y_prime


def sorted_uniforms(counts: IntArray, rng: np.random.Generator) -> FloatArray:
    """``counts[g]`` i.i.d. U(0, 1) draws per group, each group's draws in increasing order.

    Uses the order statistics of the uniform: with ``E_1 .. E_{m+1}`` i.i.d. exponential,
    ``(E_1 + .. + E_k) / (E_1 + .. + E_{m+1})``, k = 1..m, are m sorted uniforms.
    """
    gaps = rng.standard_exponential(size=int(counts.sum()) + counts.size)
    total = np.cumsum(gaps)
    ends = np.cumsum(counts + 1) - 1  # index of each group's extra (m+1)-th gap
    start = np.concatenate([[0.0], total[ends[:-1]]])  # cumulative sum before each group
    keep = np.ones(total.size, dtype=np.bool_)
    keep[ends] = False
    return (total[keep] - np.repeat(start, counts)) / np.repeat(total[ends] - start, counts)


def sample_rows(
    scores: FloatArray,
    x: IntArray,
    rng: np.random.Generator,
    draws: int = 1,
    workers: int | None = None,
) -> IntArray:
    """Independent draws from each requested row of a categorical given by unnormalised log-probs.

    Inverse-CDF sampling on concatenated row CDFs: within a block of rows, each row is
    normalised and one running sum covers the block, so row ``r`` occupies its own interval
    of one increasing array and one ``searchsorted`` serves the block. Draws
    come back aligned with ``x``. Within a row, draw 0 is in increasing response order and
    every later draw is shuffled, so each draw is i.i.d. from its row and the draws of one
    entry are independent of each other. Each block has its own random stream, so the
    result does not depend on ``workers``.

    Args:
        scores: (P, Y) unnormalised log-probabilities.
        x: (n,) row indices.
        rng: Source of randomness.
        draws: Independent draws per entry of ``x`` (each row's CDF is built once for all).
        workers: Threads; default every core for large tables, one for small ones.

    Returns:
        (draws, n) column indices.
    """
    is_sorted = bool(np.all(x[1:] >= x[:-1]))
    order = None if is_sorted else np.argsort(x, kind="stable")
    x_sorted = x if order is None else x[order]
    first = np.flatnonzero(np.diff(x_sorted, prepend=-1))  # where each needed row starts
    rows, counts = x_sorted[first], np.diff(first, append=x.size)

    # Contiguous blocks of needed rows, each with its slice of the draws and its own stream.
    if workers is None:
        workers = default_workers(scores.size)
    rows_per_block = max(1, _BLOCK_LOGITS // scores.shape[1])
    bounds = block_bounds(rows.size, rows_per_block)
    starts = np.concatenate([[0], np.cumsum(counts)])
    streams = rng.spawn(bounds.size - 1)
    y_sorted = np.empty((draws, x.size), dtype=np.int64)

    def block(k: int) -> None:
        a, b = bounds[k], bounds[k + 1]
        y_sorted[:, starts[a] : starts[b]] = _sample_block(
            scores, rows[a:b], counts[a:b], draws, streams[k]
        )

    run_blocks(block, bounds.size - 1, workers)
    if order is None:
        return y_sorted
    y = np.empty_like(y_sorted)
    y[:, order] = y_sorted
    return y


def _sample_block(
    scores: FloatArray,
    rows: IntArray,
    counts: IntArray,
    draws: int,
    rng: np.random.Generator,
) -> IntArray:
    """``draws`` draws for each of ``counts[i]`` entries of row ``rows[i]``, shape (draws, m)."""
    num_cols = scores.shape[1]
    contiguous = rows.size > 0 and rows[-1] - rows[0] + 1 == rows.size
    sub = scores[rows[0] : rows[-1] + 1] if contiguous else scores[rows]  # (R, Y), a view if it can

    # Each row normalised, then one running sum over the whole block, so row r spans
    # (ends[r - 1], ends[r]] of one increasing array. (numpy releases the GIL in a 1-D
    # cumsum but not in a row-wise one, and the threads share the process.) Scores are
    # shifted by their row maximum only when exp could overflow or underflow without it.
    row_max = sub.max(axis=1, keepdims=True)
    if np.all(np.abs(row_max) < 600.0):
        cdf = np.exp(sub)
    else:
        cdf = sub - row_max
        np.exp(cdf, out=cdf)
    cdf *= 1.0 / cdf.sum(axis=1, keepdims=True)
    cdf = np.cumsum(cdf.ravel())  # (R * Y,)
    ends = cdf[num_cols - 1 :: num_cols]
    starts = np.concatenate([[0.0], ends[:-1]])

    # Sorted queries, so each search walks the CDF once, in memory order; draws after the
    # first are shuffled within each row (sorting i.i.d. pairs by one coordinate leaves
    # the other i.i.d. beside it, so this pairs the draws independently).
    pos = np.repeat(np.arange(rows.size), counts)  # (m,)
    low, width = starts[pos], (ends - starts)[pos]
    out = np.empty((draws, pos.size), dtype=np.int64)
    for d in range(draws):
        flat = np.searchsorted(cdf, low + width * sorted_uniforms(counts, rng), side="right")
        flat -= pos * num_cols
        np.clip(flat, 0, num_cols - 1, out=flat)
        out[d] = flat if d == 0 else flat[np.argsort(pos + rng.random(pos.size), kind="stable")]
    return out
