"""docs/studies.md's sections: each study owns the text between ``<!-- study:NAME -->`` and
``<!-- /study:NAME -->`` and rewrites only that; everything outside its markers is left as it is."""

from __future__ import annotations

import re


def _pattern(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- study:{re.escape(name)} -->\n)(.*?)(<!-- /study:{re.escape(name)} -->)", re.S)


def sections(text: str) -> list[str]:
    """The study names with a section in ``text``, in order."""
    return re.findall(r"<!-- study:([A-Za-z0-9_-]+) -->", text)


def replace_section(text: str, name: str, body: str) -> str:
    """``text`` with study ``name``'s section body replaced by ``body`` (appended at the end if new)."""
    body = body.rstrip("\n") + "\n"
    found = _pattern(name).search(text)
    if found is None:
        return text.rstrip("\n") + f"\n\n<!-- study:{name} -->\n{body}<!-- /study:{name} -->\n"
    if len(_pattern(name).findall(text)) > 1:
        raise ValueError(f"docs/studies.md has more than one section marked study:{name}")
    return text[:found.start(2)] + body + text[found.end(2):]
