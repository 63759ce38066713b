"""Settings for the whole test session: nothing may reach a network, nothing phones home.

Every model and dataset the tests use is built by the tests or shipped in an installed package,
so hub lookups are switched off; on a machine whose firewall drops packets instead of refusing
them, a single lookup would otherwise wait for its timeout.
"""

from __future__ import annotations

import os

for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "RAY_USAGE_STATS_ENABLED": "0",
    "WANDB_MODE": "offline",
    "WANDB_SILENT": "true",
    "DO_NOT_TRACK": "1",
}.items():
    os.environ.setdefault(_name, _value)
