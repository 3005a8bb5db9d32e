"""The geometry helpers catch real layout faults on small static pages, and pass a clean one."""

from __future__ import annotations

import pytest

from .geometry import assert_room_ok, overlaps, problems_in_view, visible_boxes

pytestmark = pytest.mark.browser

BASE_STYLE = "<style>* { box-sizing: border-box; } body, p { margin: 0; font: 32px/1.25 sans-serif; }</style>"


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 800, "height": 600})
    page = context.new_page()
    yield page
    context.close()


def show(page, body: str) -> None:
    page.set_content(f"<!doctype html><html><head>{BASE_STYLE}</head><body>{body}</body></html>")


def test_visible_boxes_skip_what_is_not_rendered(page):
    show(page, """
        <p class="item" style="position:absolute; left:10px; top:20px; width:300px; height:50px">Eerste</p>
        <p class="item" style="display:none">Verborgen</p>
        <div hidden><p class="item">In een hidden-ouder</p></div>
        <p class="item" style="visibility:hidden">Onzichtbaar</p>
        <p class="item" style="height:0; overflow:hidden; margin:0"></p>
        <p class="item" style="position:absolute; left:10px; top:100px; width:200px">Tweede</p>
    """)  # fmt: skip
    boxes = visible_boxes(page, ".item")
    assert [(box["index"], box["text"]) for box in boxes] == [(0, "Eerste"), (5, "Tweede")]
    assert boxes[0] | {"x": 10, "y": 20, "width": 300, "height": 50} == boxes[0]
    assert set(boxes[0]) == {"selector", "index", "text", "x", "y", "width", "height"}


def test_an_element_outside_the_viewport_is_reported(page):
    show(page, '<div class="title" style="position:absolute; left:700px; top:10px; width:200px">Titel</div>')
    found = problems_in_view(page, ".title")
    assert len(found) == 1
    assert "not inside the 800x600 viewport" in found[0] and "200x40 at (700, 10)" in found[0]


def test_an_element_below_the_fold_is_reported(page):
    show(page, '<div style="height:580px"></div><p class="meta">Stap 3 / 10</p>')
    assert "viewport" in problems_in_view(page, ".meta")[0]


def test_an_element_clipped_by_an_overflow_hidden_parent_is_reported(page):
    show(page, """
        <div class="card" style="width:200px; height:60px; overflow:hidden">
          <div class="qr" style="width:300px; height:40px; background:#000"></div>
        </div>
    """)  # fmt: skip
    found = problems_in_view(page, ".qr")
    assert len(found) == 1
    assert "clipped by div.card (overflow hidden hidden" in found[0]


def test_text_spilling_out_of_its_box_into_a_clipping_parent_is_reported(page):
    show(page, """
        <section class="card" style="width:150px; overflow:hidden">
          <h1 class="stage-title" style="font-size:48px">Onafhankelijkheid</h1>
        </section>
    """)  # fmt: skip
    found = problems_in_view(page, ".stage-title")
    assert len(found) == 1 and "clipped by section.card" in found[0]


def test_an_absolute_element_escapes_a_static_overflow_parent(page):
    # Overflow clips only what the ancestor contains as a containing block: no false alarm here.
    show(page, """
        <div style="position:relative; width:600px; height:300px">
          <div style="width:100px; height:50px; overflow:hidden">
            <div class="badge" style="position:absolute; left:0; top:0; width:400px; height:40px"></div>
          </div>
        </div>
    """)  # fmt: skip
    assert problems_in_view(page, ".badge") == []


def test_cut_text_is_reported(page):
    long_text = "Mag je een rapport afzwakken omdat de minister dat graag wil? " * 4
    show(page, f"""
        <p class="clamped" style="width:400px; display:-webkit-box; -webkit-box-orient:vertical;
           -webkit-line-clamp:2; overflow:hidden">{long_text}</p>
        <p class="ellipsis" style="width:300px; white-space:nowrap; overflow:hidden;
           text-overflow:ellipsis">{long_text}</p>
        <p class="fits" style="width:400px; display:-webkit-box; -webkit-box-orient:vertical;
           -webkit-line-clamp:2; overflow:hidden">Kort.</p>
    """)  # fmt: skip
    clamped = problems_in_view(page, ".clamped")
    assert len(clamped) == 1 and "-webkit-line-clamp 2" in clamped[0]
    ellipsis = problems_in_view(page, ".ellipsis")
    assert len(ellipsis) == 1 and "content cut off (overflow-x hidden)" in ellipsis[0]
    assert problems_in_view(page, ".fits") == []


def test_overlapping_boxes_are_reported_but_nesting_is_not(page):
    show(page, """
        <div class="box" style="position:absolute; left:10px; top:10px; width:200px; height:100px">
          <span class="box">Binnenin</span>
        </div>
        <div class="box" style="position:absolute; left:150px; top:60px; width:200px; height:100px"></div>
        <div class="box" style="position:absolute; left:210px; top:300px; width:100px; height:100px"></div>
    """)  # fmt: skip
    found = overlaps(page, ".box")
    assert len(found) == 1, found
    assert found[0].startswith(".box #0 (div.box 'Binnenin') overlaps .box #2 (div.box '')")
    assert found[0].endswith("by 60x50 px")


def test_small_text_is_reported(page):
    show(page, """
        <div class="stage-meta" style="font-size:28px">Stap 3 / 10 <span class="hint" style="font-size:12px">
          nog 4 min</span></div>
        <div class="stage-title" style="font-size:12px">Titel</div>
    """)  # fmt: skip
    assert problems_in_view(page, ".stage-title") == []  # no minimum asked
    title = problems_in_view(page, ".stage-title", min_font_px=28)
    assert len(title) == 1 and title[0].endswith("text 12px, below 28px")
    meta = problems_in_view(page, ".stage-meta", min_font_px=28)
    assert len(meta) == 1 and meta[0].endswith("text 12px in span.hint, below 28px")


def test_no_visible_match_is_a_problem_unless_allowed(page):
    show(page, '<p class="poll-open" hidden>Stem nu</p>')
    assert problems_in_view(page, ".poll-open") == ["no visible element for .poll-open"]
    assert problems_in_view(page, ".poll-open", allow_empty=True) == []


CLEAN_LAYOUT = """
    <main style="display:grid; grid-template-columns:1fr 260px; gap:40px; padding:40px; height:100vh">
      <section style="overflow:hidden">
        <h1 class="stage-title" style="margin:0 0 20px; font-size:48px">Het rapport</h1>
        <p class="stage-meta" style="margin:0">Stap 3 / 10</p>
      </section>
      <aside><div class="qr" style="width:220px; height:220px; background:#000"></div>
        <p class="join-code" style="font-size:36px; margin:10px 0 0">K7QM3XPA</p></aside>
    </main>
"""


def test_a_clean_layout_has_no_problems(page):
    show(page, CLEAN_LAYOUT)
    selectors = {".stage-title": 40, ".stage-meta": 28, ".qr": None, ".join-code": 28}
    for selector, min_font_px in selectors.items():
        assert problems_in_view(page, selector, min_font_px=min_font_px) == []
    assert overlaps(page, list(selectors)) == []
    assert_room_ok(page, selectors, "projector 800x600, clean")


def test_assert_room_ok_lists_every_problem_with_the_label(page):
    show(page, CLEAN_LAYOUT)
    page.set_viewport_size({"width": 500, "height": 300})
    with pytest.raises(AssertionError) as failure:
        selectors = {".stage-title": 40, ".join-code": 28, ".missing": None}
        assert_room_ok(page, selectors, "projector 500x300, step 3")
    message = str(failure.value)
    assert message.startswith("projector 500x300, step 3: ")
    assert ".join-code #0" in message and "viewport" in message
    assert "no visible element for .missing" in message
