"""Run every benchmark (``make bench``); each prints its own table of side-by-side ratios."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_lab


def main() -> None:
    """Theory-lab round at scale, then the language-model training round."""
    bench_lab.main([])
    try:
        import bench_lm
    except ImportError as err:  # the LM benchmark needs the LM extras
        print(f"skipping the LM benchmark: {err}")
        return
    bench_lm.main()


if __name__ == "__main__":
    main()
