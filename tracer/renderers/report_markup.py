"""Write a report `Document` as Markdown or as a self-contained HTML page.

Inline text may hold `code` spans (backticks); Markdown keeps them, HTML turns them into
<code>. Everything else is escaped: file names and parameters come from user data.
"""

from __future__ import annotations

import html
import re
from typing import Any

from tracer.renderers.report import Document

_CODE = re.compile(r"`([^`]*)`")


def to_markdown(doc: Document) -> str:
    out: list[str] = []
    for block in doc.blocks:
        kind = block[0]
        if kind == "h":
            out.append("#" * block[1] + " " + block[2])
        elif kind == "p":
            out.append(block[1])
        elif kind == "ul":
            out.append("\n".join(f"- {item}" for item in block[1]))
        elif kind == "table":
            out.append(_md_table(block[1], block[2]))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(_md_cell(h) for h in headers) + " |",
             "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _inline(text: str) -> str:
    parts = _CODE.split(text)
    return "".join(html.escape(p) if i % 2 == 0 else f"<code>{html.escape(p)}</code>"
                   for i, p in enumerate(parts))


_STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem;
       color: #1f2328; }
table { border-collapse: collapse; margin: 0.5rem 0 1.2rem; }
th, td { border: 1px solid #d0d7de; padding: 0.25rem 0.6rem; text-align: left;
         vertical-align: top; }
th { background: #f6f8fa; }
code { font: 13px ui-monospace, monospace; background: #f6f8fa; padding: 0 0.2rem; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: 0.2rem; margin-top: 2rem; }
"""


def to_html(doc: Document) -> str:
    body: list[str] = []
    for block in doc.blocks:
        kind: Any = block[0]
        if kind == "h":
            body.append(f"<h{block[1]}>{_inline(block[2])}</h{block[1]}>")
        elif kind == "p":
            body.append(f"<p>{_inline(block[1])}</p>")
        elif kind == "ul":
            items = "\n".join(f"<li>{_inline(i)}</li>" for i in block[1])
            body.append(f"<ul>\n{items}\n</ul>")
        elif kind == "table":
            headers, rows = block[1], block[2]
            head = ""
            if any(headers):
                cells = "".join(f"<th>{_inline(h)}</th>" for h in headers)
                head = f"<thead><tr>{cells}</tr></thead>"
            trs = "\n".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>"
                            for row in rows)
            body.append(f"<table>{head}<tbody>\n{trs}\n</tbody></table>")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(doc.title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body) + "\n</body>\n</html>\n"
    )
