"""A CSV's fast path: parsed and typed in C by pyarrow's threaded ``read_csv``, then stacked into the
one float64 array the splits are cut from.

The whole table is parsed at once, on every core: pyarrow's streaming reader (a block at a time)
parses on one core, which made the read 2-3x pandas' on two cores. The cost is memory: the parsed
table is whole beside the array it is stacked into, a peak of about 4.4x the float32 array at 10^6
rows x 30 columns (the streaming reader's was 3.1x; pandas' own read peaks at 6.5x). pyarrow finds where rows end in
one of two ways: quote-aware, serially (``newlines_in_values=True``, as the csv module reads a
quoted cell spanning lines), or at every line break, in parallel. The second is exact only when no
cell holds a line break, so it is taken only for a file whose data rows hold no quote character at
all (the header may be quoted, on its own first line), which a scan of the bytes decides.

Anything this path cannot vouch for (a parse error, an empty or non-finite cell, a form such as
``1_000`` that Python reads and pyarrow does not) raises ``Unclean``, and ``user_csv`` hands the file
to the checked reader, which names the line, column and cell."""

from __future__ import annotations

import csv
import io

import numpy as np

from mlrun.data import copies
from mlrun.data.tables import Opener, Unclean, stack_into, text_column

BLOCK_BYTES = 1 << 20  # of CSV text per chunk pyarrow parses (its default): a chunk's rows stay in cache
SCAN_BYTES = 1 << 20  # read at a time when looking for a quote character (read(n) allocates n)


def csv_header(open_table: Opener) -> list[str]:
    """The first non-blank row's cells as written (unstripped), read with the csv module as the checked
    reader does; Unclean if there is none or it cannot be read."""
    with open_table() as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
        try:
            for row in csv.reader(text):
                if row and any(cell.strip() for cell in row):
                    return row
        except (csv.Error, UnicodeDecodeError):
            pass
    raise Unclean


def csv_columns(open_table: Opener, header: list[str], numeric: list[str], labels: list[str]):
    """(X float64 (n, len(numeric)), {label: stripped str array}) for the named columns (``header``
    holds the raw names, ``numeric`` and ``labels`` stripped ones); Unclean for anything unusual."""
    import pyarrow as pa

    raw = {name.strip(): name for name in header}
    types = {raw[n]: pa.float64() for n in numeric} | {raw[n]: pa.string() for n in labels}
    with open_table() as fh:
        unquoted = _unquoted_rows(fh, header)
        fh.seek(0)
        table = _parsed(fh, types, newlines_in_values=not unquoted)
    texts = table.select([raw[n] for n in labels])
    X = _stacked_chunks(table.select([raw[n] for n in numeric]).to_batches(), len(numeric), table.num_rows)
    del table  # its numeric columns, now in X, are freed here
    _hand_back_freed_pages()
    return X, {name: text_column(texts.column(raw[name])) for name in labels}


def _hand_back_freed_pages() -> None:
    """The freed table's pages returned to the system (glibc's ``malloc_trim``). Its chunks are small
    allocations, from the C heap, which keeps them once freed; numpy's large arrays are fresh mappings
    that cannot reuse them, so without this the split's copies sit on top of the table: at 10^6 rows,
    load_dataset peaked at 7.8x the float32 array, and 5.1x with it. Nothing to do off glibc."""
    import ctypes

    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):  # no C library by that name, or not glibc
        return
    trim(0)


def _unquoted_rows(fh, header: list[str]) -> bool:
    """Whether no quote character follows the first line, and that line is the whole header row (so
    every later line break ends a row). A lone CR in the first line (old Mac line ends) says no."""
    first = fh.readline()
    line = first.rstrip(b"\n").removesuffix(b"\r")
    if b"\r" in line or not line.strip():
        return False
    try:
        rows = list(csv.reader([line.decode("utf-8-sig")]))
    except (csv.Error, UnicodeDecodeError):
        return False
    if rows != [header]:
        return False
    while chunk := fh.read(SCAN_BYTES):
        if b'"' in chunk:
            return False
    return True


def _parsed(fh, types: dict, newlines_in_values: bool):
    """The named columns as an arrow table, parsed straight to ``types`` (no inference pass); Unclean
    when a cell does not parse, a column is missing or there are no rows."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    convert = pacsv.ConvertOptions(column_types=types, include_columns=list(types), null_values=[""],
                                   strings_can_be_null=True, quoted_strings_can_be_null=True)
    parse = pacsv.ParseOptions(newlines_in_values=newlines_in_values)
    try:
        # the system allocator: a chunk's memory, freed once stacked, goes back at once
        table = pacsv.read_csv(fh, read_options=pacsv.ReadOptions(block_size=BLOCK_BYTES), parse_options=parse,
                               convert_options=convert, memory_pool=pa.system_memory_pool())
    except (pa.ArrowInvalid, UnicodeDecodeError):
        raise Unclean from None
    if [table.schema.field(name).type for name in types] != list(types.values()) or not table.num_rows:
        raise Unclean
    if any(column.null_count for column in table.columns):
        raise Unclean  # an empty cell, or a blank row the checked reader would skip
    return table


def _stacked_chunks(chunks: list, width: int, rows: int) -> np.ndarray:
    """The numeric chunks (record batches) written side by side into one (rows, width) float64 array,
    runs of chunks on several threads when it is large (``copies``); Unclean on a NaN or infinite cell."""
    X = np.empty((rows, width))
    starts = np.concatenate([[0], np.cumsum([chunk.num_rows for chunk in chunks])])
    groups = 1 if X.nbytes < copies.PARALLEL_BYTES else copies.threads()
    cuts = np.searchsorted(starts, [part.start for part in copies.ranges(rows, groups)] + [rows])

    def stack(first: int, last: int) -> bool:
        return all([stack_into(X[starts[i]: starts[i + 1]], chunks[i].columns) for i in range(first, last)])

    if not all(copies.run_all([lambda a=a, b=b: stack(a, b) for a, b in zip(cuts[:-1], cuts[1:])])):
        raise Unclean
    return X


def csv_line_of_row(open_table: Opener, index: int) -> int:
    """The line data row ``index`` (0-based, blank rows skipped, after the header) starts on."""
    with open_table() as fh:
        reader = csv.reader(io.TextIOWrapper(fh, encoding="utf-8-sig", newline=""))
        start, seen = 1, -1  # -1: the header row comes first
        for row in reader:
            if row and any(cell.strip() for cell in row):
                if seen == index:
                    return start
                seen += 1
            start = reader.line_num + 1
    return start
