"""Figure helpers: measured points with error bands, theory curves over them, and saving.

Every figure is drawn on the Agg backend and saved as PNG and SVG with no timestamp and a
fixed SVG id salt, so rebuilding a report from the same data gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter, NullFormatter
from numpy.typing import ArrayLike

from srlm.io import atomic_write_bytes

matplotlib.rcParams.update(
    {
        "svg.hashsalt": "srlm",
        "svg.fonttype": "none",
        "font.size": 9,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "legend.fontsize": 7,
        "legend.frameon": False,
    }
)
MEASURED = "measured (mean, 95% CI over seeds)"
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def new_figure(ncols: int = 1) -> tuple[Figure, list[Axes]]:
    """A figure with ``ncols`` side-by-side axes."""
    fig, axes = plt.subplots(1, ncols, figsize=(4.2 * ncols, 3.2), squeeze=False)
    return fig, list(axes[0])


def band(
    ax: Axes,
    x: ArrayLike,
    mean: ArrayLike,
    low: ArrayLike,
    high: ArrayLike,
    label: str,
    color: str,
    marker: str = "o",
) -> None:
    """Measured means as points joined by a thin line, with a shaded interval band."""
    ax.fill_between(x, low, high, color=color, alpha=0.2, linewidth=0)
    ax.plot(x, mean, marker=marker, color=color, label=label, linewidth=1, markersize=4)


def theory(ax: Axes, x: ArrayLike, y: ArrayLike, label: str, color: str = "black") -> None:
    """A theory curve: dashed, drawn over the measured points."""
    ax.plot(x, y, linestyle="--", color=color, label=label, linewidth=1.2, zorder=5)


def finish(fig: Figure, axes: Sequence[Axes], title: str) -> Figure:
    """Legends on every axis that has labels, a title, a tight layout."""
    for ax in axes:
        # Log axes over a decade or more: label the decades only (minor labels overlap).
        for axis, (low, high) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            if axis.get_scale() != "log" or low <= 0:
                continue
            if high / low >= 10:
                axis.set_minor_formatter(NullFormatter())
            else:  # under a decade: plain numbers, not 3 x 10^0
                axis.set_major_formatter(FormatStrFormatter("%g"))
                axis.set_minor_formatter(FormatStrFormatter("%g"))
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="best")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def to_svg(fig: Figure) -> str:
    """The figure as SVG text, without a date."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def to_png(fig: Figure, dpi: int = 120) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def save_figure(fig: Figure, directory: Path, name: str) -> tuple[str, bytes]:
    """Write ``name.svg`` and ``name.png`` to ``directory``; return the SVG text and PNG bytes."""
    svg, png = to_svg(fig), to_png(fig)
    atomic_write_bytes(directory / f"{name}.svg", svg.encode("utf-8"))
    atomic_write_bytes(directory / f"{name}.png", png)
    plt.close(fig)
    return svg, png


def anchored_power(x: ArrayLike, exponent: float, x0: float, y0: float) -> np.ndarray:
    """``y0 (x / x0)^exponent``: a rate of known exponent and unknown constant, through a point."""
    return y0 * (np.asarray(x, dtype=np.float64) / x0) ** exponent
