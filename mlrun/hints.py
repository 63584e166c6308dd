""""Did you mean": the near matches of a misspelt name, and the words the error messages put them in.

The lowest layer: it imports nothing from mlrun, so the registry, the spec, the data loaders and
compare can all word their hints the same way.

    did_you_mean("rleu", ["relu", "elu"])        -> ["relu"]
    hint(did_you_mean("rleu", ["relu", "elu"]))  -> " (did you mean 'relu'?)"
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence


def did_you_mean(given: object, valid: Iterable[str], n: int = 1, cutoff: float = 0.6) -> list[str]:
    """The up to ``n`` names of ``valid`` closest to ``given`` (best first), as difflib scores them."""
    return difflib.get_close_matches(str(given), [str(v) for v in valid], n=n, cutoff=cutoff)


def hint(matches: Sequence[str]) -> str:
    """The message suffix for the best match: ``" (did you mean 'relu'?)"``, or ``""`` without one."""
    return f" (did you mean {matches[0]!r}?)" if matches else ""


def hint_list(matches: Sequence[str]) -> str:
    """The suffix naming every match: ``"; did you mean test.accuracy, val.accuracy?"``, or ``""``."""
    return f"; did you mean {', '.join(matches)}?" if matches else ""
