"""The picture checker behind the overlap tests: it finds texts on texts and texts across a
box's border, and passes what a reader can read."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from netlab.views.draw import paint


def canvas() -> Figure:
    fig = Figure(figsize=(6, 4), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    ax.axis("off")
    ax.add_patch(FancyBboxPatch((1, 1), 4, 4, boxstyle="round,pad=0", fc="white", ec="black"))
    return fig


def test_readable_texts_pass() -> None:
    fig = canvas()
    ax = fig.axes[0]
    ax.text(3, 3, "inside the box", ha="center")
    ax.text(8, 8, "far away", ha="center")
    assert paint.overlaps(fig) == []


def test_texts_on_texts_and_across_borders_are_found() -> None:
    fig = canvas()
    ax = fig.axes[0]
    ax.text(8, 8, "one label", ha="center")
    ax.text(8.2, 8, "another label", ha="center")
    ax.text(5, 3, "across the border", ha="center")
    found = paint.overlaps(fig)
    assert "text 'one label' overlaps text 'another label'" in found
    assert [f for f in found if f.startswith("text 'across the border' crosses the border")]
    assert len(found) == 2
