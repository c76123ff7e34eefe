"""Custom Pandera checks, named by the rule code a failure becomes.

`V104` fails a henkilötunnus whose format or check character is wrong
(temporary numbers 900-999 and every century sign of 2023 are valid);
`ytunnus` fails a Y-tunnus that is not `1234567-8` with its check digit.
Empty values pass: whether a value is needed is decided by the reader.
"""

from __future__ import annotations

import functools

import polars as pl
from stdnum.fi import hetu, ytunnus


# Cached: a client's henkilötunnus stands on Asiakkaat, Läsnäolo and Ohjaus alike.
@functools.lru_cache(maxsize=1 << 16)
def valid_hetu(value: str) -> bool:
    return hetu.is_valid(value, allow_temporary=True)


@functools.lru_cache(maxsize=1 << 12)  # a provider's Y-tunnus stands on each of its decisions
def valid_ytunnus(value: str) -> bool:
    return ytunnus.is_valid(value) and ytunnus.format(ytunnus.compact(value)) == value


def element_check(data, predicate) -> pl.LazyFrame:
    """A Pandera polars check result: `predicate` on every non-empty value, empty passes."""
    column = pl.col(data.key)
    return data.lazyframe.select(
        pl.when(column.is_null()).then(True).otherwise(column.map_elements(predicate, return_dtype=pl.Boolean))
    )
