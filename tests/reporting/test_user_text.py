"""User text (channel titles, niche names) is data in every output of the report, never markup.

The family of inputs (issue 27): `$` pairs matplotlib would read as mathtext,
TeX-looking text, emoji (also joined sequences), right-to-left scripts, a
200-character name, HTML, control characters, and a character no installed
font has. Each reaches every chart (titles, tick labels, legends, notes), the
HTML page and the text summary that is also the mail's body. Pure: no service.
"""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from matplotlib.text import Text

from reporting import charts, delivery, render
from reporting.model import (
    Anomaly,
    ChannelGrowth,
    ChannelSeries,
    DailyReport,
    DayPoint,
    NewVideos,
    QualityScore,
)

DAY = date(2025, 1, 30)
LONG = ("Very long channel name " * 9)[:199] + "!"  # 200 characters
NO_GLYPH = "\U000f0041"  # a private-use character: no font draws it
TITLES = {
    "UCmoney": "$$$ MONEY $$$",
    "UCbasin": "Ba$$in",
    "UCtex": r"$x^2$ math \frac{1}{2} 50% {off} _under_",
    "UCemoji": "🎮 Gaming 🔥 👨‍👩‍👧 family",
    "UCarabic": "قناة الطبخ 2024",
    "UChebrew": "ערוץ המוזיקה",
    "UClong": LONG,
    "UChtml": '<script>alert("x")</script> & <b>bold</b>',
    "UCcontrol": "first line\nFAKE LINE\x1b[31m red",
    "UCnoglyph": f"private {NO_GLYPH} use",
}
NICHES = ["$$ finance $$", "🎮 gaming", "طبخ", LONG]


@pytest.fixture(scope="module")
def report() -> DailyReport:
    days = [DAY - timedelta(days=n) for n in range(27, -1, -1)]
    growth = [
        ChannelGrowth(cid, title, 1000 + i, 10 * i, 1.5 * (len(TITLES) - i), 5000)
        for i, (cid, title) in enumerate(TITLES.items())
    ]
    return DailyReport(
        day=DAY,
        window_start=days[0],
        generated_at=datetime(2025, 1, 31, 3, tzinfo=UTC),
        series=[DayPoint(d, 10, 100 + i, 5, 1000, 3.0, 2.0, 0.5, 0.5) for i, d in enumerate(days)],
        revenue_by_niche=[(niche, 10.0 * (i + 1)) for i, niche in enumerate(NICHES)],
        top_growth=growth[:5],
        bottom_growth=growth[5:],
        new_videos=[NewVideos(d, 2, 300) for d in days],
        quality=[QualityScore("completeness", 90.0, datetime(2025, 1, 31, tzinfo=UTC))],
        anomalies=[
            Anomaly("views_daily", cid, cid, DAY, 9e5, 1e3, 2e3, "high", "seasonal_zscore")
            for cid in TITLES
        ],
        channel_series=[
            ChannelSeries(cid, title, [(d, 100, 1.0) for d in days], [DAY])
            for cid, title in TITLES.items()
        ],
    )


class Drawn:
    """What each chart handed to matplotlib: its texts, and the plot area's share of the width."""

    def __init__(self) -> None:
        self.figures: list[tuple[list[Text], float]] = []

    def texts(self) -> list[Text]:
        return [t for texts, _ in self.figures for t in texts]


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> Drawn:
    """Every figure the charts render, seen after layout and drawing (the real PNG is made)."""
    seen = Drawn()
    render_png = charts._data_uri

    def keep(fig: Any) -> str:
        uri = render_png(fig)  # tight layout + draw: raises if a text is bad mathtext
        texts = [t for t in fig.findobj(Text) if t.get_text().strip()]
        seen.figures.append((texts, min(ax.get_position().width for ax in fig.axes)))
        return uri

    monkeypatch.setattr(charts, "_data_uri", keep)
    return seen


def _glyph_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_every_chart_draws_user_text_literally(report: DailyReport, drawn: Drawn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        uris = render.chart_uris(report)
    assert all(uris[name] for name in ("network", "niches", "growth", "quality"))
    assert all(uris["channels"].values())
    texts = drawn.texts()
    assert texts
    # no text is read as mathtext: `$` pairs, `^`, `_` and `\frac` are characters
    assert [t.get_text() for t in texts if t.get_parse_math()] == []
    shown = "\n".join(t.get_text() for t in texts)
    for title in ("$$$ MONEY $$$", "Ba$$in", r"$x^2$ math \frac{1}{2} 50% {off} _under_"):
        assert title in shown
    assert "$$ finance $$" in shown
    # emoji are drawn by a font that has them (Debian's fonts-symbola), not as empty boxes
    assert "🎮 Gaming 🔥" in shown
    # a right-to-left title beside its id is isolated: the id stays on its right
    assert f"{charts.FSI}قناة الطبخ 2024{charts.PDI} (UCarabic…)" in shown
    assert f"{charts.FSI}ערוץ המוזיקה{charts.PDI} (UChebrew)" in shown
    assert [w for w in _glyph_warnings(caught) if "U+F0041" not in w] == []


def test_a_long_name_is_ellipsized_and_keeps_the_plot_wide(report: DailyReport, drawn: Drawn):
    assert len(LONG) == 200  # the module docstring's 200-character name
    render.chart_uris(report)
    texts = [t.get_text() for t in drawn.texts()]
    assert not any(LONG.strip() in t for t in texts)
    long_ones = [t for t in texts if t.startswith("Very long channel name")]
    assert long_ones
    assert all(t.endswith("…") or "…" in t for t in long_ones)
    assert max(len(t) for t in texts) <= charts.MAX_TITLE_CHARS + 20  # + "(UC…)" suffixes
    # each plot keeps most of the figure's width (a 200-character tick label left ~20 %)
    assert min(width for _, width in drawn.figures) >= 0.55


def test_a_character_no_font_has_is_named_on_the_chart(report: DailyReport, drawn: Drawn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render.chart_uris(report)
    texts = [t.get_text() for t in drawn.texts()]
    assert not any(NO_GLYPH in t for t in texts)
    notes = [t for t in texts if "not drawn" in t]
    assert notes
    assert all("U+F0041" in t for t in notes)
    assert _glyph_warnings(caught) == []  # nothing silently became a box
    # emoji and the scripts DejaVu covers are not dropped
    assert not any("U+1F3AE" in t or "U+0642" in t or "U+05E2" in t for t in notes)


def test_label_of_user_text_is_pure_and_reports_drops():
    label = charts.label(f"Ba$$in {NO_GLYPH} 🎮 " + "x" * 300, limit=40)
    assert label.text.startswith("Ba$$in  🎮 ")
    assert label.text.endswith("…")
    assert len(label.text) == 40
    assert label.dropped == (NO_GLYPH,)
    assert charts.label("plain").text == "plain"
    assert charts.label("a\tb\nc").text == "a b c"  # a label is one line


def test_page_escapes_and_direction_isolates_every_title(report: DailyReport):
    page = render.html(report)
    assert "<script>alert" not in page
    assert "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    for cid, title in TITLES.items():
        if cid in ("UChtml", "UCcontrol"):
            continue
        if cid in {g.channel_id for g in [*report.top_growth, *report.bottom_growth]}:
            assert f"<bdi>{title}</bdi>" in page, title
    assert "<bdi>قناة الطبخ 2024</bdi>" in page
    assert "<bdi>ערוץ המוזיקה</bdi>" in page
    assert "\x1b" not in page


def test_text_summary_and_mail_isolate_titles_and_keep_one_line_each(report: DailyReport, tmp_path):
    summary = render.text(report)
    assert "\x1b" not in summary
    assert not any(line.startswith("FAKE LINE") for line in summary.splitlines())
    fsi, pdi = "\u2068", "\u2069"
    assert f"{fsi}قناة الطبخ 2024{pdi}" in summary
    assert f"{fsi}$$$ MONEY $$${pdi}" in summary
    assert f"revenue by niche: {fsi}طبخ{pdi}" in summary
    files = delivery.write_files(tmp_path, DAY, render.html(report), summary)
    mail = delivery.build_message(DAY, render.headline(report), files, "a@b.test", ["c@d.test"])
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    assert f"{fsi}ערוץ המוזיקה{pdi}" in body.get_content()
    assert "\x1b" not in body.get_content()
