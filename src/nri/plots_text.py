"""Text in figures that a person can read: fonts that have the glyphs, labels that fit.

Object and feature names come from the user's data and can be in any script.
matplotlib draws with DejaVu Sans, which has Latin, Greek, Cyrillic and Arabic but no
Chinese, Japanese or Korean. :func:`text_style` looks for installed fonts that cover
the missing characters (matplotlib falls back glyph by glyph along a family list);
:func:`drawable` says whether a text can be drawn at all. A figure whose names cannot
be drawn labels objects by their index instead (the HTML report lists the key).

Right-to-left scripts need text shaping, which matplotlib's Agg backend has from 3.11
on (libraqm); before that they count as not drawable.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence

import matplotlib
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text
from matplotlib.transforms import Bbox

__all__ = [
    "agg_figure",
    "drawable",
    "text_style",
    "legend_font",
    "shorten",
    "overlaps",
    "each_drawable",
    "numbered",
]

_SKIP_FAMILIES = ("Last Resort",)  # placeholder boxes for every code point: no glyphs
_SHAPING = tuple(int(v) for v in matplotlib.__version__.split(".")[:2]) >= (3, 11)


def agg_figure(width: float, height: float) -> Figure:
    """A figure on the Agg canvas (no pyplot state, works without a display)."""
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


@functools.cache
def _charmap(path: str) -> frozenset[int]:
    try:
        return frozenset(FT2Font(path).get_charmap())
    except (OSError, RuntimeError, ValueError):  # a font FreeType cannot open
        return frozenset()


@functools.lru_cache(maxsize=1)
def _fonts() -> tuple[tuple[str, str], ...]:
    """(family, path) of every font matplotlib knows, the default family first."""
    default = font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]))
    fonts = [(font_manager.FontProperties(fname=default).get_name(), default)]
    seen = {default}
    for entry in sorted(font_manager.fontManager.ttflist, key=lambda e: e.fname):
        if entry.fname in seen or entry.name.startswith(_SKIP_FAMILIES):
            continue
        seen.add(entry.fname)
        fonts.append((entry.name, entry.fname))
    return tuple(fonts)


def _needs_glyph(c: str) -> bool:
    return not (c.isspace() or unicodedata.category(c) in ("Cc", "Cf"))


def _rtl(c: str) -> bool:
    return unicodedata.bidirectional(c) in ("R", "AL")


@functools.lru_cache(maxsize=4096)
def _family_of(c: str) -> str | None:
    """The first font family (default first) with a glyph for ``c``."""
    for family, path in _fonts():
        if ord(c) in _charmap(path):
            return family
    return None


def drawable(texts: Iterable[str]) -> bool:
    """True when every character of ``texts`` has a glyph in an installed font (and
    right-to-left text can be shaped by this matplotlib)."""
    for text in texts:
        for c in text:
            if not _needs_glyph(c):
                continue
            if _family_of(c) is None or (_rtl(c) and not _SHAPING):
                return False
    return True


def text_style(texts: Iterable[str]) -> dict[str, list[str]]:
    """Keyword arguments for ``ax.text`` / ``set_xlabel`` / ``legend(prop=...)``: a
    ``fontfamily`` list with the default font first and fonts that cover the other
    characters of ``texts`` after it (empty when the default covers everything)."""
    families = [_fonts()[0][0]]
    for text in texts:
        for c in text:
            if _needs_glyph(c):
                family = _family_of(c)
                if family is not None and family not in families:
                    families.append(family)
    return {"fontfamily": families} if len(families) > 1 else {}


def legend_font(texts: Iterable[str], size: float = 8) -> dict[str, object]:
    """``legend(prop=...)`` for entries ``texts``: ``size`` and the
    :func:`text_style` family list where the default font lacks glyphs."""
    style = text_style(texts)
    return {"size": size} | ({"family": style["fontfamily"]} if style else {})


def each_drawable(names: Sequence[str], prefix: str = "") -> list[str]:
    """Every name that can be drawn as it is, the others as ``prefix + index``."""
    return [n if drawable([n]) else f"{prefix}{i}" for i, n in enumerate(names)]


def numbered(names: Sequence[str], width: int = 22) -> list[str]:
    """Legend entries ``"i name"`` (the number is the object's node in the graph and
    its row in the report's key), ``"i"`` alone where the name cannot be drawn, and
    the name cut to ``width`` characters."""
    out = []
    for i, name in enumerate(names):
        if name == str(i):
            out.append(name)
        elif drawable([name]):  # LRM: the number stays in front of RTL names
            out.append(f"\u200e{i} {shorten(name, width, 1)}")
        else:
            out.append(str(i))
    return out


def shorten(name: str, width: int, max_lines: int = 2) -> str:
    """``name`` wrapped after spaces, ``_``, ``-`` and ``.`` into lines of at most
    ``width`` characters, at most ``max_lines`` of them (the rest cut with an
    ellipsis)."""
    if len(name) <= width:
        return name
    lines = [""]
    for token in re.findall(r"[^_\-. ]+[_\-. ]*|[_\-. ]+", name):
        while token:
            room = width - len(lines[-1])
            if len(token) <= room:
                lines[-1] += token
                token = ""
            elif lines[-1] and len(token) <= width:
                lines.append("")
            else:  # longer than a line: cut it
                lines[-1] += token[:room]
                token = token[room:]
                lines.append("")
    lines = [ln.strip() for ln in lines if ln.strip()]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1] + "\u2026"
    return "\n".join(lines)


def overlaps(
    texts: Sequence[Text], others: Sequence[Bbox] = (), pad: float = 1.0
) -> bool:
    """True when two of the drawn ``texts`` overlap (boxes grown by ``pad`` pixels),
    or a text overlaps one of ``others``. The figure must have been drawn."""
    renderer = texts[0].figure.canvas.get_renderer() if texts else None
    boxes = [t.get_window_extent(renderer).padded(pad) for t in texts]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if a.overlaps(b):
                return True
        if any(a.overlaps(o) for o in others):
            return True
    return False
