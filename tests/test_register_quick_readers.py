"""The registers' quick readers (reconcile.registers) read exactly as `cells.read` does.

Registers hold tens of thousands of henkilötunnus and Y-tunnus values; the
quick readers take the plain ones and hand anything else to the full reader.
python-stdnum judges validity on both paths.
"""

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.read import cells

# Test data: valid codes are built here from their definitions.
CENTURIES = {"+": 1800, **dict.fromkeys("-YXWVU", 1900), **dict.fromkeys("ABCDEF", 2000)}
HETU_CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY"


@st.composite
def valid_hetus(draw) -> str:
    sign = draw(st.sampled_from(sorted(CENTURIES)))
    born = draw(st.dates(dt.date(CENTURIES[sign], 1, 1), dt.date(CENTURIES[sign] + 99, 12, 31)))
    individual = draw(st.integers(2, 999))
    number = f"{born:%d%m%y}{individual:03d}"
    return f"{born:%d%m%y}{sign}{individual:03d}{HETU_CHECK_CHARACTERS[int(number) % 31]}"


@st.composite
def checksummed_hetus(draw) -> str:
    """A right check character on any day 00-39, month 00-19 and individual 000-999: tests dates and ranges."""
    day = draw(st.sampled_from((0, 1, 28, 29, 30, 31, 32)) | st.integers(0, 39))
    month = draw(st.sampled_from((0, 2, 4, 6, 9, 11, 12, 13)) | st.integers(0, 19))
    yy = draw(st.integers(0, 99))
    if draw(st.booleans()):  # often the end of February of a leap year or of a century year
        day, month, yy = draw(st.sampled_from((28, 29, 30))), 2, draw(st.sampled_from((0, 4, 96, 99)))
    individual = draw(st.sampled_from((0, 1, 2, 899, 900, 999)) | st.integers(0, 999))
    number = f"{day:02d}{month:02d}{yy:02d}{individual:03d}"
    sign = draw(st.sampled_from(sorted(CENTURIES)))
    return f"{number[:6]}{sign}{number[6:]}{HETU_CHECK_CHARACTERS[int(number) % 31]}"


@st.composite
def valid_ytunnukset(draw) -> str:
    digits = draw(st.lists(st.integers(0, 9), min_size=7, max_size=7))
    rest = sum(w * d for w, d in zip((7, 9, 10, 5, 8, 4, 2), digits)) % 11
    check = 0 if rest == 0 else 11 - rest
    if check == 10:  # no check digit fits: a number never issued; make it invalid on purpose
        return "".join(map(str, digits)) + "-0"
    return "".join(map(str, digits)) + f"-{check}"


HETU_ALPHABET = "0123456789-+ABCDEFHJKLMNPRSTUVWXYZabcuvy *\u0661\u0663\u2013\u00a0\n"


def mutated(strategy):
    """A value from `strategy`, then one character replaced, inserted or deleted (or none)."""
    @st.composite
    def build(draw) -> str:
        s = draw(strategy)
        at = draw(st.integers(0, len(s)))
        how = draw(st.sampled_from(("keep", "replace", "insert", "delete")))
        c = draw(st.sampled_from(HETU_ALPHABET))
        if how == "replace" and at < len(s):
            return s[:at] + c + s[at + 1:]
        if how == "insert":
            return s[:at] + c + s[at:]
        if how == "delete" and at < len(s):
            return s[:at] + s[at + 1:]
        return s
    return build()


any_text = st.text(alphabet=HETU_ALPHABET, max_size=13)


@settings(max_examples=300, deadline=None)
@given(st.one_of(valid_hetus(), mutated(valid_hetus()), valid_ytunnukset(), mutated(valid_ytunnukset()),
                 any_text, st.floats(allow_nan=False), st.integers(0, 10**9), st.none()))
def test_register_quick_readers_read_as_cells_read(raw):
    from reconcile.read.registers import QUICK_READERS

    for kind in ("hetu", "ytunnus"):
        quick = QUICK_READERS[kind](raw)
        if quick is not cells.SLOW:
            assert quick == cells.read(kind, raw)
