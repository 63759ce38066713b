"""Pair losses of one round: the paper's square loss (Eq. 3), sigmoid DPO and IPO.

Naming follows TRL: ``*_logps`` are sequence log-probabilities under the model being trained
``pi``, ``ref_*_logps`` under the reference ``pi_ref`` (the current model ``pi_t`` by default),
and ``*_logratios = logps - ref_logps``. ``chosen`` is the response with the higher reward.
"""

from __future__ import annotations

from typing import Any

LOSSES = ("square", "sigmoid", "ipo")


def square_loss(chosen_logratios: Any, rejected_logratios: Any, target: Any, beta: float) -> Any:
    """Eq. (3), per pair: ``(beta log(pi(y|x)/pi_t(y|x)) - beta log(pi(y'|x)/pi_t(y'|x))
    - (r_t(x,y) - r_t(x,y')))^2``.

    Args:
        chosen_logratios: ``log pi(y|x) - log pi_t(y|x)``, shape (batch,).
        rejected_logratios: ``log pi(y'|x) - log pi_t(y'|x)``, shape (batch,).
        target: ``r_t(x,y) - r_t(x,y')``, the continuous reward difference, shape (batch,).
        beta: ``beta``, the KL weight of Eq. (2).

    Returns:
        The per-pair loss, shape (batch,).
    """
    return (beta * (chosen_logratios - rejected_logratios) - target) ** 2


def sigmoid_loss(chosen_logratios: Any, rejected_logratios: Any, beta: float) -> Any:
    """Logistic DPO (Rafailov et al. 2023, Eq. 7), per pair:
    ``-log sigma(beta (log(pi(y_w)/pi_ref(y_w)) - log(pi(y_l)/pi_ref(y_l))))``.

    Args:
        chosen_logratios: Log-ratio of the preferred response ``y_w``, shape (batch,).
        rejected_logratios: Log-ratio of the other response ``y_l``, shape (batch,).
        beta: ``beta``.
    """
    import torch.nn.functional as F

    return -F.logsigmoid(beta * (chosen_logratios - rejected_logratios))


def ipo_loss(chosen_logratios: Any, rejected_logratios: Any, beta: float) -> Any:
    """IPO (Azar et al. 2024, Eq. 17), per pair: ``(h - 1/(2 beta))^2`` with
    ``h = log(pi(y_w)/pi_ref(y_w)) - log(pi(y_l)/pi_ref(y_l))``.

    Notes:
        The caller passes *per-token averaged* log-ratios, as TRL does (and as the IPO authors
        confirmed to TRL); with summed log-ratios the loss would scale with response length.
    """
    return (chosen_logratios - rejected_logratios - 1.0 / (2.0 * beta)) ** 2


def pair_loss(
    loss_type: str,
    logps: tuple[Any, Any],
    ref_logps: tuple[Any, Any],
    lengths: tuple[Any, Any],
    target: Any,
    beta: float,
) -> Any:
    """The per-pair loss named by ``loss_type`` from summed sequence log-probabilities.

    Args:
        loss_type: ``square`` (Eq. 3), ``sigmoid`` (DPO) or ``ipo``.
        logps: (chosen, rejected) ``log pi(.|x)`` under the trained model, each (batch,).
        ref_logps: (chosen, rejected) under the reference model, each (batch,).
        lengths: (chosen, rejected) response lengths in tokens (IPO averages by them),
            each (batch,).
        target: Reward difference ``r(x, y_w) - r(x, y_l)`` (used by ``square`` only), (batch,).
        beta: ``beta``.
    """
    chosen_logratios = logps[0] - ref_logps[0]
    rejected_logratios = logps[1] - ref_logps[1]
    if loss_type == "square":
        return square_loss(chosen_logratios, rejected_logratios, target, beta)
    if loss_type == "sigmoid":
        return sigmoid_loss(chosen_logratios, rejected_logratios, beta)
    if loss_type == "ipo":
        chosen_avg = chosen_logratios / lengths[0].clamp(min=1)
        rejected_avg = rejected_logratios / lengths[1].clamp(min=1)
        return ipo_loss(chosen_avg, rejected_avg, beta)
    raise ValueError(f"unknown loss {loss_type!r}; expected one of {LOSSES}")
