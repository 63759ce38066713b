"""Pair losses: Eq. (3) by hand, and sigmoid DPO / IPO against TRL's DPOTrainer on one batch."""

from __future__ import annotations

import pytest
import torch

from srlm.lm.losses import pair_loss, square_loss
from srlm.lm.pairs import Pair
from srlm.lm.policy import sequence_logps
from srlm.lm.train import batch_loss, collate

from .conftest import make_tiny


def test_square_loss_is_eq3() -> None:
    chosen, rejected = torch.tensor([0.2, -1.0]), torch.tensor([0.0, 0.5])
    target, beta = torch.tensor([1.0, 0.3]), 0.5
    expected = torch.tensor([(0.5 * 0.2 - 1.0) ** 2, (0.5 * (-1.5) - 0.3) ** 2])
    torch.testing.assert_close(square_loss(chosen, rejected, target, beta), expected)
    # The loss vanishes exactly when beta * (difference of log-ratios) equals the target.
    zero = square_loss(torch.tensor([2.0]), torch.tensor([0.0]), torch.tensor([1.0]), 0.5)
    assert float(zero) == 0.0


def test_unknown_loss_is_rejected() -> None:
    one = torch.zeros(1)
    with pytest.raises(ValueError, match="unknown loss"):
        pair_loss("hinge", (one, one), (one, one), (one, one), one, 0.1)


def _trl_batch(loss_type: str, beta: float):
    pytest.importorskip("trl")
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    model, tokenizer = make_tiny(0)
    ref, _ = make_tiny(1)
    rows = [
        {"prompt": "12+34=", "chosen": "46", "rejected": "47"},
        {"prompt": "01+02=", "chosen": "3", "rejected": "12"},
        {"prompt": "55+55=", "chosen": "110", "rejected": "1"},
        {"prompt": "90+09=", "chosen": "99", "rejected": "9"},
    ]
    args = DPOConfig(
        output_dir="/tmp/srlm_trl_test",
        beta=beta,
        loss_type=[loss_type],
        bf16=False,
        per_device_train_batch_size=4,
        report_to=[],
        use_cpu=True,
        max_length=None,
    )
    trainer = DPOTrainer(
        model=model,
        ref_model=ref,
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
    )
    batch = next(iter(trainer.get_train_dataloader()))
    trl_loss = float(trainer.compute_loss(trainer.model, batch).detach())
    return model, ref, batch, trl_loss


def _pairs_from_trl_batch(ref, batch) -> list[Pair]:
    """srlm pairs holding the same tokens, with reference log-probs from the collection pass."""
    ids, mask, attention = batch["input_ids"], batch["completion_mask"], batch["attention_mask"]
    with torch.no_grad():
        ref_logps = sequence_logps(ref, ids, attention, mask)
    half = ids.size(0) // 2
    pairs = []
    for i in range(half):
        prompt = ids[i][(mask[i] == 0) & (attention[i] == 1)].tolist()
        assert prompt == ids[half + i][(mask[half + i] == 0) & (attention[half + i] == 1)].tolist()
        pairs.append(
            Pair(
                prompt_index=i,
                chosen_index=0,
                rejected_index=1,
                prompt_ids=prompt,
                chosen_ids=ids[i][mask[i] == 1].tolist(),
                rejected_ids=ids[half + i][mask[half + i] == 1].tolist(),
                target=0.0,
                ref_chosen_logps=float(ref_logps[i]),
                ref_rejected_logps=float(ref_logps[half + i]),
            )
        )
    return pairs


@pytest.mark.parametrize("loss_type", ["sigmoid", "ipo"])
def test_matches_trl_dpo_trainer(loss_type: str) -> None:
    beta = 0.3
    model, ref, batch, trl_loss = _trl_batch(loss_type, beta)
    pairs = _pairs_from_trl_batch(ref, batch)
    model.train()
    losses, _ = batch_loss(model, collate(pairs, pad_id=0), loss_type, beta)
    assert abs(float(losses.mean().detach()) - trl_loss) < 1e-5
    assert trl_loss > 1e-3  # a non-trivial batch (different policy and reference)
