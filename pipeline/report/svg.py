"""Matplotlib figures → inline SVG strings, with a font that draws Chinese.

Chinese labels need a CJK font where the report is *made*; the SVG then carries every glyph as a
path (`svg.fonttype: path`), so the page shows Chinese on a machine with no CJK font at all.
Where no CJK font is found here, text is left as SVG text (`svg.fonttype: none`) for the
viewer's browser to draw with its own fonts, and the report says so (`font_note`).
"""

from __future__ import annotations

import glob
import logging
import io
import re
import shutil
import subprocess
import warnings
from collections.abc import Callable
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")  # no display; chosen before pyplot could ever be imported

from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # "findfont: not found"

# Families tried in order (Debian fonts-wqy-microhei first, as `make browser` installs it).
CJK_FAMILIES = ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC",
                "Source Han Sans SC", "Source Han Sans CN", "Droid Sans Fallback",
                "AR PL UMing CN", "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC")
_FONT_GLOBS = ("/usr/share/fonts/**/wqy-*.tt[cf]", "/usr/share/fonts/**/*CJK*.tt[cf]",
               "/usr/share/fonts/**/DroidSansFallback*.ttf", "/usr/share/fonts/**/*SC-*.otf",
               "/usr/share/fonts/**/*CJK*.otf", "/System/Library/Fonts/PingFang.ttc",
               "C:/Windows/Fonts/msyh.tt[cf]", "C:/Windows/Fonts/simhei.ttf")
BROWSER_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC",
                 "Microsoft YaHei", "PingFang SC", "sans-serif")
PALETTE = ("#2f6db5", "#e8833a", "#3a9d5d", "#c44e52", "#8172b2", "#937860", "#da8bc3",
           "#8c8c8c", "#ccb974", "#64b5cd")
GOOD, BAD, GREY = "#3a9d5d", "#e8833a", "#8c8c8c"


def _candidates() -> list[str]:
    files = []
    if shutil.which("fc-list"):  # fontconfig knows which fonts cover Chinese, wherever they are
        try:
            done = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True,
                                  timeout=10)
            files += [ln.split(":")[0].strip() for ln in done.stdout.splitlines() if ln.strip()]
        except (OSError, subprocess.SubprocessError):
            pass
    for pattern in _FONT_GLOBS:
        files += glob.glob(pattern, recursive=True)
    return files


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """A font family that draws Chinese, registered with matplotlib; None when there is none."""
    known = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known:
            return family
    found = {}
    for path in _candidates():
        try:
            font_manager.fontManager.addfont(path)
            found[font_manager.FontProperties(fname=path).get_name()] = path
        except (OSError, RuntimeError, ValueError):
            continue
    for family in CJK_FAMILIES:  # the preferred ones first, else whatever covers Chinese
        if family in found:
            return family
    return next(iter(found), None)


def font_note() -> str:
    """Empty when charts carry their glyphs; else what the reader should know (in Chinese)."""
    return "" if cjk_font() else ("生成报告的机器上没有中文字体（如 fonts-wqy-microhei），"
                                  "图表中的文字由浏览器用本机字体显示。")


_ID = re.compile(r'\bid="([^"]+)"')


def render(name: str, draw: Callable[[Figure], None], width: float = 8.0,
           height: float = 3.2) -> str:
    """Draw a figure with `draw(fig)` and return it as an <svg> element for inlining.

    The font is set before anything is laid out; glyphs become paths when a CJK font was found.
    The prolog is dropped, ids are prefixed by `name` (several SVGs on one page must not share
    clip-path or glyph ids), the hash salt is fixed (same data, same bytes) and the width follows
    the page (CSS) while the viewBox keeps the proportions.
    """
    family = cjk_font()
    rc = {"svg.fonttype": "path" if family else "none", "svg.hashsalt": f"callqa-{name}",
          "font.family": [family, "DejaVu Sans"] if family else ["DejaVu Sans"],
          "font.size": 10, "axes.unicode_minus": False}
    with matplotlib.rc_context(rc), warnings.catch_warnings():
        # Without a CJK font matplotlib warns per missing glyph; the note in the page says it once.
        warnings.simplefilter("ignore", UserWarning)
        fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
        draw(fig)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    if not family:  # plain text: let the browser pick a font that has the Chinese glyphs
        svg = svg.replace("font-family: 'DejaVu Sans'", "font-family: " + ", ".join(
            f"'{f}'" if " " in f else f for f in BROWSER_FONTS))
    for ident in sorted(set(_ID.findall(svg)), key=len, reverse=True):
        new = f"{name}-{ident}"
        svg = svg.replace(f'id="{ident}"', f'id="{new}"').replace(f"#{ident})", f"#{new})")
        svg = svg.replace(f'href="#{ident}"', f'href="#{new}"')
    return re.sub(r'<svg ([^>]*?)width="[^"]+" height="[^"]+"',
                  rf'<svg \1class="chart" data-chart="{name}" role="img"', svg, count=1)


def style(ax) -> None:
    """Light grid, no box: charts read at a glance."""
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="both", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=9, colors="#333")
