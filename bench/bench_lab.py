"""Benchmark: one tabular self-rewarding round at scale, against scipy and a numpy softmax.

Instance: ``P * Y = 10^7`` logits, ``n = 10^6`` pairs, noiseless self-reward (Eq. 1).
Measured side by side in one process:

- ``srlm update``: sampling the pairs, labelling them, and the exact ERM (closed form);
- ``scipy lsqr``: the same least-squares problem (Eq. 3) on the same pairs, solved by
  ``scipy.sparse.linalg.lsqr`` from zero (which converges to the minimum-norm change);
- ``numpy softmax``: one softmax over all logits, the floor any round must pay.

Targets: srlm at least 100x faster than lsqr with the same answer, and within 5x of the
softmax. Peak memory is measured with tracemalloc (numpy reports its allocations to it).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.linalg import lsqr

from srlm.policies.tabular import TabularPolicy
from srlm.rewards import LogLikelihood
from srlm.sampling import sample_pairs
from srlm.update.erm import Pairs, exact_update


def best_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Fastest of ``repeats`` runs (seconds) and the last result."""
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def peak_mib(fn: Callable[[], Any]) -> float:
    """Peak traced allocation while ``fn`` runs, in MiB."""
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def softmax(logits: np.ndarray) -> np.ndarray:
    """Plain numpy softmax over the last axis (the baseline)."""
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def srlm_round(logits: np.ndarray, weights: np.ndarray, n: int, beta: float, seed: int) -> Any:
    """Sample n pairs from the current policy, label them, and solve Eq. (4) exactly."""
    rng = np.random.default_rng(seed)
    pi_t = TabularPolicy(logits)
    reward = LogLikelihood()
    x, y, y_prime = sample_pairs(pi_t, weights, n, rng)
    pairs = Pairs(x, y, y_prime, reward.pair_target(pi_t, x, y, y_prime, rng))
    return pairs, exact_update(pi_t, pi_t, pairs, beta, reward.potential(pi_t))


def stage_times(
    logits: np.ndarray, weights: np.ndarray, n: int, beta: float, repeats: int
) -> dict[str, float]:
    """Best time of each step of :func:`srlm_round` over ``repeats`` rounds, in seconds."""
    best = {"sample": float("inf"), "label": float("inf"), "exact ERM": float("inf")}
    for _ in range(repeats):
        rng = np.random.default_rng(1)
        pi_t, reward = TabularPolicy(logits), LogLikelihood()
        start = time.perf_counter()
        x, y, y_prime = sample_pairs(pi_t, weights, n, rng)
        sampled = time.perf_counter()
        pairs = Pairs(x, y, y_prime, reward.pair_target(pi_t, x, y, y_prime, rng))
        labelled = time.perf_counter()
        exact_update(pi_t, pi_t, pairs, beta, reward.potential(pi_t))
        done = time.perf_counter()
        for name, seconds in (
            ("sample", sampled - start),
            ("label", labelled - sampled),
            ("exact ERM", done - labelled),
        ):
            best[name] = min(best[name], seconds)
    return best


def lsqr_round(logits: np.ndarray, pairs: Pairs, beta: float) -> np.ndarray:
    """Eq. (3) as a sparse least-squares problem in the logit change, solved by lsqr."""
    n, (num_prompts, num_responses) = pairs.x.size, logits.shape
    cols = np.concatenate(
        [pairs.x * num_responses + pairs.y, pairs.x * num_responses + pairs.y_prime]
    )
    vals = np.concatenate([np.full(n, beta), np.full(n, -beta)])
    rows = np.concatenate([np.arange(n), np.arange(n)])
    design = coo_matrix((vals, (rows, cols)), shape=(n, logits.size)).tocsr()
    delta = lsqr(design, pairs.reward_diff, atol=1e-12, btol=1e-12, iter_lim=20_000)[0]
    return logits + delta.reshape(num_prompts, num_responses)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Run the benchmark and print a table of times and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=10_000)
    parser.add_argument("--responses", type=int, default=1_000)
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--beta", type=float, default=0.5)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(args.prompts, args.responses))  # (P, Y)
    weights = np.full(args.prompts, 1.0 / args.prompts)

    t_softmax, _ = best_time(lambda: softmax(logits), args.repeats)
    t_srlm, (pairs, result) = best_time(
        lambda: srlm_round(logits, weights, args.pairs, args.beta, seed=1), args.repeats
    )
    stages = stage_times(logits, weights, args.pairs, args.beta, args.repeats)
    t_lsqr, lsqr_logits = best_time(lambda: lsqr_round(logits, pairs, args.beta), 1)
    gap = float(np.abs(result.policy.params["logits"] - lsqr_logits).max())
    mem_srlm = peak_mib(lambda: srlm_round(logits, weights, args.pairs, args.beta, seed=1))
    mem_softmax = peak_mib(lambda: softmax(logits))

    rows = [
        {"what": "numpy softmax (baseline)", "seconds": t_softmax, "peak_mib": mem_softmax},
        {
            "what": "srlm round (sample + label + exact ERM)",
            "seconds": t_srlm,
            "peak_mib": mem_srlm,
        },
        {"what": "scipy lsqr (solve only)", "seconds": t_lsqr, "peak_mib": float("nan")},
    ]
    print(f"tabular round: P*Y = {logits.size:,} logits, n = {args.pairs:,} pairs")
    for row in rows:
        print(f"  {row['what']:<42} {row['seconds']:8.3f} s   peak {row['peak_mib']:8.1f} MiB")
    steps = ", ".join(f"{name} {seconds:.3f} s" for name, seconds in stages.items())
    print(f"  srlm round, best time of each step: {steps}")
    print(f"  srlm / softmax time:  {t_srlm / t_softmax:6.2f}x   (target <= 5)")
    print(f"  lsqr / srlm time:     {t_lsqr / t_srlm:6.1f}x   (target >= 100)")
    print(f"  max |srlm - lsqr| logit: {gap:.2e}   ERM residual {result.erm_residual:.2e}")
    print(f"  logits array: {logits.nbytes / 2**20:.0f} MiB")
    return rows


if __name__ == "__main__":
    main()
