"""The paper's two constructions: the hard instance of Theorem 4.1 and the trap of Prop. 4.3.

Both are built as plain arrays so that any policy class can be made from them: the hard
instance as logits of a tabular policy ``pi_0`` over ``(P, A)``, the trap as per-step
conditionals of a token model that ``TokenPolicy.from_conditionals`` accepts. The helpers at
the end enumerate sequences straight from the conditionals, independently of any policy
class, so that tests can check one formulation against the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


# --- Theorem 4.1: the hard instance -------------------------------------------------------


@dataclass(frozen=True)
class HardInstance:
    """Theorem 4.1's hard instance; prompt 0 is uninformative, prompts ``1..d`` informative.

    Attributes:
        prompt_weights: (P,) distribution ``D`` over prompts, ``P = d + 1``.
        logits: (P, A) logits of the initial policy ``pi_0``.
        favoured: (P,) the favoured response of each prompt (prompt 0: its mode).
        log_card_pi: ``log|Pi| = d log A``.
        kappa_0: ``E_{x~D}[1 / pi_0(y_pi0(x)|x)]`` (Eq. 5), computed from ``logits``.
    """

    prompt_weights: FloatArray
    logits: FloatArray
    favoured: IntArray
    log_card_pi: float
    kappa_0: float

    def probs(self) -> FloatArray:
        """``pi_0(y|x)``, shape (P, A)."""
        return _softmax(self.logits)


def _softmax(logits: FloatArray) -> FloatArray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def hard_instance(
    eps: float,
    d: int,
    A: int,
    gamma: float,
    *,
    uninformative_mode_prob: float = 0.99,
    rng: np.random.Generator | int | None = None,
) -> HardInstance:
    """Build Theorem 4.1's hard instance.

    ``D`` puts mass ``1 - eps`` on prompt 0 and ``eps / d`` on each of prompts ``1..d``.
    Informative prompt ``x`` is uniform over ``A`` responses except one favoured response
    ``y*(x)``, drawn uniformly at random, whose probability is ``1 + gamma`` times the others'::

        pi_0(y|x) = (1 + gamma 1[y = y*(x)]) / (A + gamma)

    and ``log|Pi| = d log A`` (one favoured response per informative prompt). [P shape]

    Symbols: ``eps`` -> ``eps``; ``d`` -> ``d``; ``A`` -> ``A``; ``gamma`` -> ``gamma``.

    Args:
        eps: Total mass of the informative prompts, in ``(0, 1]``.
        d: Number of informative prompts, ``>= 1``.
        A: Responses per prompt, ``>= 2``.
        gamma: Relative boost of the favoured response, ``> 0``.
        uninformative_mode_prob: ``pi_0`` of prompt 0's mode (response 0), in ``(1/2, 1)``.
        rng: Generator or seed that draws the favoured responses.

    Returns:
        The instance; ``kappa_0 = (1 - eps) / p + eps (A + gamma) / (1 + gamma)`` with
        ``p = uninformative_mode_prob``.

    Notes:
        The paper does not give prompt 0's policy. Here it is confident but not a point mass
        (a point mass would have ``log pi_0 = -inf``): its mode has probability
        ``p > 1/2 = 1 - delta``, the rest share ``1 - p`` equally, so it never fails at
        ``delta = 1/2`` and sharpening keeps it so; all the difficulty is on the
        informative prompts, as in the construction the paper outlines.
    """
    _check_hard_instance(eps, d, A, gamma, uninformative_mode_prob)
    generator = np.random.default_rng(rng)
    num_prompts = d + 1

    # D: 1 - eps on prompt 0, eps/d on each informative prompt.
    prompt_weights = np.concatenate([[1.0 - eps], np.full(d, eps / d)])  # (P,)

    # Informative rows: log(1 + gamma) on the favoured response, 0 elsewhere.
    favoured = np.concatenate([[0], generator.integers(A, size=d)]).astype(np.int64)  # (P,)
    logits = np.zeros((num_prompts, A))  # (P, A)
    logits[np.arange(1, num_prompts), favoured[1:]] = np.log1p(gamma)

    # Prompt 0: mode 0 with probability p, the others (1 - p)/(A - 1) each.
    p = uninformative_mode_prob
    logits[0] = np.log((1.0 - p) / (A - 1))
    logits[0, 0] = np.log(p)

    kappa_0 = float(prompt_weights @ (1.0 / _softmax(logits).max(axis=1)))
    return HardInstance(prompt_weights, logits, favoured, d * float(np.log(A)), kappa_0)


def _check_hard_instance(eps: float, d: int, A: int, gamma: float, mode_prob: float) -> None:
    if not 0.0 < eps <= 1.0:
        raise ValueError(f"eps={eps}: must lie in (0, 1]")
    if d < 1 or A < 2:
        raise ValueError(f"d={d}, A={A}: need d >= 1 and A >= 2")
    if not gamma > 0.0:
        raise ValueError(f"gamma={gamma}: must be > 0")
    if not 0.5 < mode_prob < 1.0:
        raise ValueError(f"uninformative_mode_prob={mode_prob}: must lie in (1/2, 1)")


# --- Proposition 4.3: the greedy-decoding trap ---------------------------------------------


def greedy_trap_conditionals(
    vocab_size: int = 2,
    seq_len: int = 2,
    *,
    num_prompts: int = 1,
    trap_ratio: ArrayLike = 1.5,
    tail: float = 0.9,
    tilt: float = 0.1,
    rng: np.random.Generator | int | None = None,
) -> list[FloatArray]:
    """Proposition 4.3's trap: a token model whose unique optimal sequence greedy misses.

    Before relabelling, with ``m = (1 + tilt) / (V + tilt)`` and ``b`` fixed by
    normalisation, ``b = 1 / (1 + trap_ratio + (V - 2)/2)``:

    - first token: ``0`` (optimal) has ``b``, ``1`` (the trap) ``a = trap_ratio * b > b``,
      each other token ``b / 2``;
    - after the all-zero prefix: ``0`` has ``tail``, the others ``(1 - tail)/(V - 1)``;
    - after any other prefix: ``0`` has ``m``, the others ``1/(V + tilt)`` (near uniform).

    The optimal sequence is ``0...0`` with probability ``b tail^(L-1) <= 1/2``; greedy takes
    the trap ``1`` first and ends at ``10...0``, probability ``a m^(L-1)``, smaller when
    ``trap_ratio < (tail / m)^(L-1)``. [P claim; R the construction]

    Symbols: ``V`` -> ``vocab_size``; ``L`` -> ``seq_len``; ``P`` -> ``num_prompts``.

    Args:
        vocab_size: ``V >= 2``.
        seq_len: ``L >= 2``.
        num_prompts: ``P``.
        trap_ratio: ``a / b``, how strongly the trap first token beats the optimal one;
            scalar or shape (P,), each in ``(1, (tail / m)^(L-1))``.
        tail: Probability of continuing the optimal sequence, in ``(m, 1)``.
        tilt: Makes the continuations after a wrong prefix break ties (``> 0``).
        rng: If given, each prompt's tokens are relabelled by a random permutation of the
            vocabulary (the same at every step), so prompts differ in which sequence is optimal.

    Returns:
        ``conditionals[l]`` of shape (P, V^l, V) for ``l = 0..L-1``, strictly positive;
        prefixes are indexed lexicographically (``index = sum_i y_i V^(l-1-i)``).
    """
    V, L = vocab_size, seq_len
    m = (1.0 + tilt) / (V + tilt)
    ratio = np.broadcast_to(np.asarray(trap_ratio, dtype=np.float64), (num_prompts,))
    _check_trap(V, L, ratio, tail, tilt, m)

    # Step 0, (P, 1, V): b on the optimal token, trap_ratio * b on the trap, b/2 elsewhere.
    b = 1.0 / (1.0 + ratio + (V - 2) / 2.0)  # (P,)
    first = np.repeat(b[:, None] / 2.0, V, axis=1)  # (P, V)
    first[:, 0], first[:, 1] = b, ratio * b
    conditionals = [first[:, None, :]]

    # Steps l >= 1, (P, V^l, V): near uniform with a mild mode at 0, except the optimal prefix.
    for step in range(1, L):
        cond = np.full((num_prompts, V**step, V), 1.0 / (V + tilt))
        cond[:, :, 0] = m
        cond[:, 0, :] = (1.0 - tail) / (V - 1)
        cond[:, 0, 0] = tail
        conditionals.append(cond)

    if rng is None:
        return conditionals
    generator = np.random.default_rng(rng)
    perms = np.stack([generator.permutation(V) for _ in range(num_prompts)])  # (P, V)
    return [_relabel(cond, perms, step) for step, cond in enumerate(conditionals)]


def _check_trap(V: int, L: int, ratio: FloatArray, tail: float, tilt: float, m: float) -> None:
    if V < 2 or L < 2:
        raise ValueError(f"vocab_size={V}, seq_len={L}: need V >= 2 and L >= 2")
    if not tilt > 0.0:
        raise ValueError(f"tilt={tilt}: must be > 0 so that greedy has no ties")
    if not m < tail < 1.0:
        raise ValueError(f"tail={tail}: must lie in (m, 1) = ({m:.4g}, 1)")
    high = (tail / m) ** (L - 1)
    if not np.all((ratio > 1.0) & (ratio < high)):
        raise ValueError(
            f"trap_ratio={ratio}: each must lie in (1, (tail/m)^(L-1)) = (1, {high:.4g})"
        )


def _relabel(cond: FloatArray, perms: IntArray, step: int) -> FloatArray:
    """Rename token ``v`` as ``perms[p, v]`` in prompt ``p``, in prefixes and next tokens."""
    num_prompts, num_prefixes, V = cond.shape
    prefixes = sequence_tokens(np.arange(num_prefixes), V, step)  # (V^l, l)
    powers = V ** np.arange(step - 1, -1, -1)  # (l,)
    out = np.empty_like(cond)
    for p in range(num_prompts):
        new_prefix = perms[p][prefixes] @ powers  # (V^l,)
        out[p, new_prefix[:, None], perms[p][None, :]] = cond[p]
    return out


# --- Enumeration straight from the conditionals ------------------------------------------


def sequence_tokens(index: ArrayLike, vocab_size: int, seq_len: int) -> IntArray:
    """Lexicographic sequence indices to tokens, shape ``index.shape + (L,)``."""
    powers = vocab_size ** np.arange(seq_len - 1, -1, -1)  # (L,)
    return (np.asarray(index, dtype=np.int64)[..., None] // powers) % vocab_size


def sequence_probs(conditionals: list[FloatArray]) -> FloatArray:
    """``pi(y|x) = prod_l pi(y_l | x, y_<l)`` for every sequence, shape (P, V^L).

    Enumerates each sequence's tokens and looks up its prefix's row at every step.
    """
    num_prompts, _, V = conditionals[0].shape
    L = len(conditionals)
    tokens = sequence_tokens(np.arange(V**L), V, L)  # (V^L, L)
    probs = np.ones((num_prompts, V**L))
    prefix = np.zeros(V**L, dtype=np.int64)  # (V^L,) index of y_<l
    for step, cond in enumerate(conditionals):
        probs *= cond[:, prefix, tokens[:, step]]
        prefix = prefix * V + tokens[:, step]
    return probs


def optimal_sequence(conditionals: list[FloatArray]) -> tuple[IntArray, FloatArray]:
    """The most likely sequence of each prompt and its probability, shapes (P,) and (P,)."""
    probs = sequence_probs(conditionals)  # (P, V^L)
    best = np.argmax(probs, axis=1)
    return best.astype(np.int64), probs[np.arange(probs.shape[0]), best]


def greedy_sequence(conditionals: list[FloatArray]) -> IntArray:
    """Greedy decoding, the argmax next token at each step, as sequence indices, shape (P,)."""
    num_prompts, _, V = conditionals[0].shape
    rows = np.arange(num_prompts)
    prefix = np.zeros(num_prompts, dtype=np.int64)  # (P,)
    for cond in conditionals:
        prefix = prefix * V + np.argmax(cond[rows, prefix], axis=1)
    return prefix
