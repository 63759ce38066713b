"""The paper's bounds as pure functions, its hard instances, and fits of measured rates.

``bounds`` evaluates Theorems 4.1, 5.3 and 6.2, Corollaries 5.7 and 6.4 and the ``kappa``
recursion of Lemmas C.3-C.4; ``fits`` fits measured ``kappa_t`` trajectories and log-log
slopes so that experiments can compare them with those formulas; ``constructions`` builds
the hard instance of Theorem 4.1 and the greedy-decoding trap of Proposition 4.3.
"""
