"""srlm: self-rewarding language models, from the exact theory lab to Hugging Face models.

The package follows the paper's algorithm (see ``docs/notation.md``): a policy ``pi_t``
samples pairs, rewards them with its own log-likelihood ``r_t = log pi_t`` (Eq. 1), and is
updated by a KL-regularised, DPO-style least-squares step against itself (Eqs. 3-4).
"""

__version__ = "0.1.0"
