"""Layout the terminal views share: lines that end where their text ends, and text that wraps
without cutting a path.

`Trimmed(renderable)` draws `renderable` with no line ending in spaces. rich pads every cell of
a table to its column's width and keeps the space it wrapped a line at; in a terminal that is
invisible, but a user who copies a path gets the padding too, and so does whatever reads the
output (a diff, a test). Every view wraps what it returns in it (the views colour no
background, so no trimmed space was visible).

`wrap(text, width)` (and `Wrapped(text)`, the renderable that wraps to the width it is given)
breaks lines at spaces like rich, but a word longer than a line (a path, mostly) breaks after
one of its slashes, and only a piece with no slash left to break at is folded: a path is never
cut short or ellipsised, and a reader sees where it was broken.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.text import Text


class Trimmed:
    """`renderable` with every line's trailing whitespace taken off (see the module
    docstring). Measures as `renderable` does."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in console.render_lines(self.renderable, options, pad=False):
            yield from rstrip(line)
            yield Segment.line()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.renderable)


def rstrip(line: list[Segment]) -> list[Segment]:
    """A rendered line without its trailing whitespace (control segments are kept)."""
    out = list(line)
    while out:
        last = out[-1]
        if last.control:
            break
        text = last.text.rstrip()
        if text:
            out[-1] = Segment(text, last.style)
            break
        out.pop()
    return out


class Wrapped:
    """`text` wrapped to the width it is given by `wrap` (see the module docstring)."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from wrap(self.text, options.max_width)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        pieces = [p for w in _words(self.text) for p in _pieces(w, options.max_width)]
        widest = max((_cells(p) for p in pieces), default=0)
        return Measurement(widest, min(self.text.cell_len, options.max_width))


def wrap(text: Text, width: int, then: int | None = None) -> list[Text]:
    """`text`, one paragraph, in lines of `width` cells (the lines after the first: `then`),
    broken at spaces; a word longer than a whole line is broken after its slashes, filling the
    line it starts on, and folded only where it has none. No line ends with a space."""
    first, rest = max(1, width), max(1, then if then is not None else width)
    lines: list[Text] = []
    line = Text(end="\n")

    def room() -> int:
        return rest if lines else first

    def end_line() -> None:
        nonlocal line
        line.rstrip()
        lines.append(line)
        line = Text(end="\n")

    for word in _words(text):
        size = _cells(word)
        if line.plain.strip() and line.cell_len + size > room() and size <= rest:
            end_line()  # it fits on a line of its own: not broken
        if line.cell_len + size <= room():
            line.append_text(word)
            continue
        for piece in _pieces(word, min(first, rest)):
            if line.plain.strip() and line.cell_len + _cells(piece) > room():
                end_line()
            line.append_text(piece)
    line.rstrip()
    if line.plain or not lines:
        lines.append(line)
    return lines


def _cells(text: Text) -> int:
    """The cells `text` takes, not counting the spaces it ends with."""
    return cell_len(text.plain.rstrip())


def _words(text: Text) -> Iterable[Text]:
    """The words of `text`, each with the spaces after it."""
    plain = text.plain
    start = 0
    while start < len(plain):
        end = start
        while end < len(plain) and not plain[end].isspace():
            end += 1
        while end < len(plain) and plain[end].isspace():
            end += 1
        yield text[start:end]
        start = end


def _pieces(word: Text, width: int) -> Iterable[Text]:
    """`word` in pieces that each end with a slash, or, longer than `width`, folded."""
    plain = word.plain
    start = 0
    while start < len(plain):
        cut = plain.find("/", start) + 1 or len(plain)
        piece = word[start:cut]
        while _cells(piece) > width:
            yield piece[:width]
            piece = piece[width:]
        if piece.plain:
            yield piece
        start = cut
