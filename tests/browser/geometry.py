"""Geometry checks for room rehearsals: is everything on screen, uncut, readable and apart?

Every DOM read happens in one page.evaluate call of INSPECT_JS; Python only words the results.
Rectangles are getBoundingClientRect values, so they are relative to the viewport as it is now.
"""

from __future__ import annotations

from itertools import combinations

TOLERANCE_PX = 1

# Takes {selectors: [css, ...], minFont: number | null}. Returns the rendered elements matching
# any selector, in document order, each once: where it is, a short name, its problems (outside the
# viewport, clipped by an ancestor, content cut off, text too small) and which of the other
# returned elements contain it. Content spilling out of an element (overflow visible, e.g. a long
# word in a narrow title) counts as part of it for the viewport and ancestor checks. html and
# body are not counted as clipping ancestors: their overflow belongs to the viewport, checked on
# its own.
INSPECT_JS = """
({selectors, minFont}) => {
  const tol = 1;
  const px = (n) => Math.round(n);
  const rendered = (el) => {
    const style = getComputedStyle(el), rect = el.getBoundingClientRect();
    return style.display !== "none" && style.visibility === "visible" && !el.closest("[hidden]")
      && rect.width > 0 && rect.height > 0;
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + [...el.classList].map((c) => "." + c).join("");
  const where = (r) => `${px(r.width)}x${px(r.height)} at (${px(r.left)}, ${px(r.top)})`;
  const clipped = (r, a, s) =>
    (s.overflowX !== "visible" && (r.left < a.left - tol || r.right > a.right + tol))
    || (s.overflowY !== "visible" && (r.top < a.top - tol || r.bottom > a.bottom + tol));
  const cuts = (overflow) => overflow === "hidden" || overflow === "clip";
  const hasText = (node) =>
    [...node.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());

  function problems(el, box) {
    const found = [], style = getComputedStyle(el);
    // What shows: the box, grown by content spilling out of it where its overflow is visible.
    const right = box.left + Math.max(box.width, style.overflowX === "visible" ? el.scrollWidth : 0);
    const bottom = box.top + Math.max(box.height, style.overflowY === "visible" ? el.scrollHeight : 0);
    const rect = {left: box.left, top: box.top, right, bottom,
                  width: right - box.left, height: bottom - box.top};
    const [width, height] = [window.innerWidth, window.innerHeight];
    if (rect.left < -tol || rect.top < -tol || rect.right > width + tol || rect.bottom > height + tol) {
      found.push(`not inside the ${width}x${height} viewport: ${where(rect)}`);
    }
    // Ancestors clip only what they contain as a containing block: an absolute element escapes
    // static ancestors, a fixed one escapes all but transformed ones.
    let position = style.position;
    for (let a = el.parentElement; a && a !== document.body && a !== document.documentElement;
         a = a.parentElement) {
      const s = getComputedStyle(a);
      const escapes = (position === "absolute" && s.position === "static" && s.transform === "none")
        || (position === "fixed" && s.transform === "none");
      if (escapes) continue;
      position = s.position;
      const ancestor = a.getBoundingClientRect();
      if (clipped(rect, ancestor, s)) {
        found.push(`clipped by ${name(a)} (overflow ${s.overflowX} ${s.overflowY}, ${where(ancestor)}): `
          + `element is ${where(rect)}`);
      }
    }
    const clamp = style.webkitLineClamp || style.getPropertyValue("-webkit-line-clamp");
    const [scrollH, clientH] = [el.scrollHeight, el.clientHeight];
    if (clamp && clamp !== "none" && scrollH > clientH + tol) {
      found.push(`text cut by -webkit-line-clamp ${clamp}: ${scrollH}px of content in ${clientH}px`);
    } else if (cuts(style.overflowY) && scrollH > clientH + tol) {
      found.push(`content cut off (overflow-y ${style.overflowY}): ${scrollH}px in ${clientH}px`);
    }
    const [scrollW, clientW] = [el.scrollWidth, el.clientWidth];
    if (cuts(style.overflowX) && scrollW > clientW + tol) {
      found.push(`content cut off (overflow-x ${style.overflowX}): ${scrollW}px in ${clientW}px`);
    }
    if (minFont != null) {
      // The element and its rendered descendants that hold text of their own: the smallest wins.
      let smallest = null;
      for (const node of [el, ...el.querySelectorAll("*")]) {
        if (!hasText(node) || (node !== el && !rendered(node))) continue;
        const size = parseFloat(getComputedStyle(node).fontSize);
        if (smallest === null || size < smallest.size) smallest = {size, node};
      }
      if (smallest && smallest.size < minFont) {
        const holder = smallest.node === el ? "" : ` in ${name(smallest.node)}`;
        found.push(`text ${smallest.size}px${holder}, below ${minFont}px`);
      }
    }
    return found;
  }

  const seen = new Set(), elements = [];
  for (const selector of selectors) {
    document.querySelectorAll(selector).forEach((el, index) => {
      if (!seen.has(el) && rendered(el)) { seen.add(el); elements.push({el, selector, index}); }
    });
  }
  elements.sort((a, b) => a.el.compareDocumentPosition(b.el) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1);
  return elements.map(({el, selector, index}) => {
    const rect = el.getBoundingClientRect();
    return {
      selector, index, text: (el.innerText || el.textContent || "").trim().slice(0, 60),
      x: rect.x, y: rect.y, width: rect.width, height: rect.height, name: name(el),
      problems: problems(el, rect),
      ancestors: elements.flatMap((other, k) => other.el !== el && other.el.contains(el) ? [k] : []),
    };
  });
}
"""

BOX_KEYS = ("selector", "index", "text", "x", "y", "width", "height")


def _inspect(page, selectors: list[str], min_font_px: float | None = None) -> list[dict]:
    """Run INSPECT_JS: the rendered elements matching any of the selectors, with their problems."""
    return page.evaluate(INSPECT_JS, {"selectors": selectors, "minFont": min_font_px})


def _label(item: dict) -> str:
    """How a problem names an element: selector, index among its matches, tag and text."""
    return f"{item['selector']} #{item['index']} ({item['name']} {item['text']!r})"


def visible_boxes(page, selector: str) -> list[dict]:
    """The rendered elements matching selector: selector, index, text and bounding box."""
    return [{key: item[key] for key in BOX_KEYS} for item in _inspect(page, [selector])]


def problems_in_view(
    page, selector: str, *, allow_empty: bool = False, min_font_px: float | None = None
) -> list[str]:
    """Problems of each rendered match: off screen, clipped, content cut, text below min_font_px."""
    items = _inspect(page, [selector], min_font_px)
    if not items and not allow_empty:
        return [f"no visible element for {selector}"]
    return [f"{_label(item)}: {problem}" for item in items for problem in item["problems"]]


def overlaps(page, selector: str | list[str]) -> list[str]:
    """Pairs of rendered matches (of one selector or several) whose boxes overlap by more than 1 px."""
    items = _inspect(page, [selector] if isinstance(selector, str) else list(selector))
    found = []
    for (i, a), (j, b) in combinations(enumerate(items), 2):
        if i in b["ancestors"] or j in a["ancestors"]:
            continue
        across = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
        down = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
        if across > TOLERANCE_PX and down > TOLERANCE_PX:
            found.append(f"{_label(a)} overlaps {_label(b)} by {across:.0f}x{down:.0f} px")
    return found


def assert_room_ok(page, selectors: dict[str, float | None], label: str) -> None:
    """Fail with every problem of every selector (value: minimum font px) and every overlap between them."""
    found = [
        problem
        for selector, min_font_px in selectors.items()
        for problem in problems_in_view(page, selector, min_font_px=min_font_px)
    ]
    found += overlaps(page, list(selectors))
    if found:
        raise AssertionError(f"{label}: {len(found)} problem(s)\n" + "\n".join(f"  - {p}" for p in found))
