"""HTML to the text a reader sees, for PHI scanning.

Parsing is selectolax's Lexbor engine, a complete HTML5 parser in C: it handles the broken markup
real mail is full of exactly as browsers do, decodes entities, and turns a 20 KB message into
text in about a millisecond (the standard library's html.parser needs 15-30 ms for the same).

Scripts, styles and templates are dropped (they are code, not text a reader sees) and comments
never reach the text. Block elements become line breaks so that table cells and paragraphs do not
run together into one word; image ``alt`` text is kept because mail clients show it when images
are blocked. Hidden text (``display:none``) is kept on purpose: it still leaves the building.

One guard: HTML5 tree building checks element scopes by walking the stack of open elements, so
its cost grows with tags times nesting depth (100,000 unclosed ``<div>`` take minutes), and even
flat markup costs microseconds a tag. Markup with that many tags, or nested that deeply, is
reduced to text by a linear tag stripper instead: coarser layout, but every word is scanned.
"""

from __future__ import annotations

import html
import re

from selectolax.lexbor import LexborHTMLParser

from relay.message.decode import tidy_lines

MAX_PARSED_TAGS = 50_000
"""Tags (counted as "<") above which markup is stripped instead of parsed. Tree building and the
block layout cost 5-15 us a tag, so this is about half a second; ordinary HTML mail, even a
large newsletter, has a few thousand."""
MAX_NESTING_WORK = 20_000_000
"""Tags times estimated nesting depth above which markup is stripped instead of parsed: about
0.15 s of tree building. A 5 MB newsletter (250,000 tags, depth 50) stays well below it."""

_DROPPED = ["script", "style", "template", "noembed", "noframes"]
_BLOCKS = ",".join(
    (
        "address", "article", "aside", "blockquote", "br", "caption", "dd", "div", "dl", "dt",
        "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "td",
        "tfoot", "th", "thead", "title", "tr", "ul",
    )
)  # fmt: skip
_BREAK = "\n"

# Elements that never stay open (void) or that the parser closes by itself when a sibling starts
# (HTML Standard 13.1.2 and 13.2.6.4.7): they do not add to the depth estimate.
_NOT_NESTING = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr", "p", "li", "dt", "dd", "td", "th", "tr", "option", "optgroup",
        "thead", "tbody", "tfoot", "rb", "rt", "rp",
    }
)  # fmt: skip
_TAG_NAME = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)")
_SKIPPED_START = re.compile(r"<!--|<(script|style|template)\b", re.IGNORECASE)
_SKIPPED_END = {
    "script": re.compile(r"</script\s*>", re.IGNORECASE),
    "style": re.compile(r"</style\s*>", re.IGNORECASE),
    "template": re.compile(r"</template\s*>", re.IGNORECASE),
}
_BLOCK_NAMES = frozenset(_BLOCKS.split(","))
# Stops at the next "<", so a stray "<" costs one scan of the text after it, not many.
_TAG = re.compile(r"<(?:/?([A-Za-z][A-Za-z0-9-]*))?[^<>]*>")


def html_to_text(markup: str) -> str:
    """The visible text of an HTML document or fragment, one block per line."""
    tags = markup.count("<")
    if tags > MAX_PARSED_TAGS or (
        tags * tags > MAX_NESTING_WORK and tags * nesting_depth(markup) > MAX_NESTING_WORK
    ):
        return strip_markup(markup)
    tree = LexborHTMLParser(markup)
    tree.strip_tags(_DROPPED)
    for node in tree.css(_BLOCKS):
        node.insert_before(_BREAK)
        node.insert_after(_BREAK)
    for image in tree.css("img[alt]"):
        alt = image.attributes.get("alt")
        if alt:
            image.insert_after(f" {alt} ")
    root = tree.root
    return tidy_lines(root.text(deep=True) if root is not None else "")


def nesting_depth(markup: str) -> int:
    """An upper estimate of how deep elements nest, in one linear pass over the tags.

    Open elements are counted per name; an end tag closes one of its name if any is open. Tags
    closed implicitly by the parser (``<p>``, ``<li>`` ...) are not counted, so ordinary sloppy
    mail does not look deep; a mismatched end tag (``<i></b>``) closes nothing, as in the parser.
    """
    open_by_name: dict[str, int] = {}
    depth = deepest = 0
    for match in _TAG_NAME.finditer(markup):
        name = match[2].lower()
        if name in _NOT_NESTING:
            continue
        if not match[1]:
            open_by_name[name] = open_by_name.get(name, 0) + 1
            depth += 1
            deepest = max(deepest, depth)
        elif open_by_name.get(name, 0) > 0:
            open_by_name[name] -= 1
            depth -= 1
    return deepest


def strip_markup(markup: str) -> str:
    """Text of markup in linear time: comments, scripts and styles dropped, tags removed,
    entities decoded. Coarser than parsing (no block layout) but it keeps every word."""
    pieces = []
    pos = 0
    while (start := _SKIPPED_START.search(markup, pos)) is not None:
        pieces.append(markup[pos : start.start()])
        if start[1] is None:
            end = markup.find("-->", start.end())
            pos = len(markup) if end == -1 else end + 3
        else:
            closing = _SKIPPED_END[start[1].lower()].search(markup, start.end())
            pos = len(markup) if closing is None else closing.end()
    pieces.append(markup[pos:])
    return tidy_lines(html.unescape(_TAG.sub(_tag_break, "".join(pieces))))


def _tag_break(tag: re.Match[str]) -> str:
    name = tag[1]
    return "\n" if name and name.lower() in _BLOCK_NAMES else " "
