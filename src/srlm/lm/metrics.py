"""Per-round measurements of an LM policy, with the lab's names where they mean the same.

Row ``t`` describes ``pi_t`` on a fixed set of evaluation prompts; columns about the update
(``kl_step``, ``loss``, margins, lengths of chosen minus rejected) describe the step that
produced ``pi_t`` and are NaN at ``t = 0``, as in the lab.

A language model cannot enumerate ``Y = V^L``, so the mode ``y_pi(x)`` is *estimated by the
greedy response* ``g(x)`` (Proposition 4.3: greedy can miss the mode), and expectations over
responses are Monte Carlo averages over samples.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Verifier = Callable[[str, str], float | None]


def mode_metrics(greedy_logps: np.ndarray, delta: float) -> dict[str, float]:
    """``kappa`` (Eq. 5), ``failure_rate`` and ``mode_prob_mean`` from the greedy responses.

    Eq. (5): ``kappa(pi) = E_x[1 / pi(y_pi(x)|x)]`` with ``y_pi(x)`` replaced by ``g(x)``;
    failure is ``pi(g(x)|x) <= 1 - delta`` (section 2, ``delta = failure_threshold``).

    Args:
        greedy_logps: ``log pi(g(x)|x)`` per evaluation prompt, shape (P,).
        delta: ``delta``.

    Notes:
        Since ``pi(g(x)|x) <= pi(y_pi(x)|x)``, this ``kappa`` is an upper estimate of Eq. (5).
    """
    mode_prob = np.exp(greedy_logps)
    return {
        "kappa": float(np.mean(np.exp(-greedy_logps))),
        "failure_rate": float(np.mean(mode_prob <= 1.0 - delta)),
        "mode_prob_mean": float(np.mean(mode_prob)),
    }


def sample_metrics(sample_logps: np.ndarray, sample_lengths: np.ndarray) -> dict[str, float]:
    """``entropy`` (``-E[log pi(y|x)]`` over samples, nats per sequence) and mean length.

    Args:
        sample_logps: ``log pi(y|x)`` of samples ``y ~ pi(.|x)``, shape (P, N).
        sample_lengths: Their lengths in tokens, shape (P, N).
    """
    return {
        "entropy": float(-np.mean(sample_logps)),
        "response_length_mean": float(np.mean(sample_lengths)),
    }


def verifier_accuracy(
    prompts: list[str], texts: list[list[str]], verifier: Verifier | None
) -> float:
    """Mean verifier score of ``texts[i][j]`` for ``prompts[i]``; NaN when it does not apply."""
    if verifier is None:
        return float("nan")
    scores = [verifier(p, y) for p, row in zip(prompts, texts, strict=True) for y in row]
    valid = [s for s in scores if s is not None]
    return float(np.mean(valid)) if valid else float("nan")


def kl_estimates(logps_old: np.ndarray, logps_new: np.ndarray) -> dict[str, float]:
    """KL between ``pi_{t+1}`` and ``pi_t`` estimated on samples ``y ~ pi_t`` (the round's).

    - ``kl_step = KL(pi_{t+1} || pi_t) = E_{pi_t}[rho log rho]``, ``rho = pi_{t+1}/pi_t``
      (importance-weighted, the lab's direction);
    - ``kl_step_reverse = KL(pi_t || pi_{t+1}) = E_{pi_t}[-log rho]`` (no weights, lower variance).

    Args:
        logps_old: ``log pi_t(y|x)`` of the round's samples, any shape.
        logps_new: ``log pi_{t+1}(y|x)`` of the same samples.

    Notes:
        The importance weights make ``kl_step`` high-variance when ``pi_{t+1}`` concentrates
        on responses that ``pi_t`` rarely samples.
    """
    log_rho = logps_new - logps_old
    return {
        "kl_step": float(np.mean(np.exp(log_rho) * log_rho)),
        "kl_step_reverse": float(np.mean(-log_rho)),
    }
