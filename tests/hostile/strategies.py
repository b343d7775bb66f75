"""Hypothesis strategies for hostile input: arbitrary JSON, strings that break naive code (NUL, lone surrogates,
right-to-left marks, format strings, template syntax, huge numbers), and near-valid documents of each format kefu
parses, where any field may be replaced by garbage.

`EXAMPLES` is the number of examples each hostile test runs; `make fuzz` (tests/hostile/fuzz_run.py) raises it
through the KEFU_FUZZ_EXAMPLES environment variable.
"""

from __future__ import annotations

import os
import string
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("KEFU_FUZZ_EXAMPLES", "50"))

# One kefu (or fake) serves all the examples of a test: function-scoped fixtures are intended.
hostile_settings = settings(max_examples=EXAMPLES, deadline=None,
                            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                   HealthCheck.data_too_large])

NASTY_STRINGS = (
    "", " ", "\x00", "a\x00b", "\ud800", "x\udfffy", "\u202eevil", "\ufeff", "\u200b", "%s%s%n", "{0}", "{{7*7}}",
    "{% for x in range(9999999) %}", "${jndi:ldap://x}", "' OR 1=1 --", "\"; DROP TABLE ticket; --",
    "<script>alert(1)</script>", "../../etc/passwd", "\r\nSet-Cookie: x=1", "NaN", "-1", "1e309",
    "9" * 40, "😀" * 50, "ｆｕｌｌ／ｗｉｄｔｈ", "x" * 70_000, "\\", "\"", "<![CDATA[", "]]>",
)
HUGE_INTEGERS = (2**63, -(2**63) - 1, 2**64, 10**30, -1, 0)


def nasty_text(max_size: int = 200) -> st.SearchStrategy[str]:
    """Any text, including control and unassigned characters and the classics above."""
    return st.one_of(
        st.text(max_size=max_size),
        st.text(st.characters(codec="utf-8"), max_size=max_size),
        st.text(st.characters(categories=["Cs", "Cc", "Cf", "Lo", "Zs"]), max_size=max_size),  # lone surrogates
        st.sampled_from(NASTY_STRINGS),
    )


json_scalars: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), st.integers(), st.sampled_from(HUGE_INTEGERS),
    st.floats(allow_nan=False, allow_infinity=False), nasty_text(60),
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(nasty_text(12), inner, max_size=4),
    max_leaves=12,
)


def maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A plausible value most of the time, otherwise any JSON value."""
    return st.one_of(value, value, json_values)


def near_valid(fields: dict[str, st.SearchStrategy[Any]], extra_keys: bool = True) -> st.SearchStrategy[Any]:
    """A JSON object with some of `fields` (each plausible or garbage), sometimes an unknown key, sometimes not an
    object at all."""
    base = st.fixed_dictionaries({}, optional={key: maybe(value) for key, value in fields.items()})
    if extra_keys:
        base = st.builds(lambda d, e: {**d, **e}, base, st.dictionaries(nasty_text(10), json_values, max_size=1))
    return st.one_of(base, base, base, json_values)


IDS = st.text(string.ascii_letters + string.digits + "-_:", min_size=1, max_size=40)
LANGUAGES = st.sampled_from(["es", "zh-CN", "pt_BR", "en", "EN", "xx-yy-zz", "e", "deu"])
COUNTRIES = st.sampled_from(["ES", "mx", "DEU", "U", "CN"])
TIMES = st.sampled_from(["2026-03-01T10:00:00+01:00", "2026-03-01T10:00:00Z", "2026-03-01T10:00:00",
                         "2026-02-30T10:00:00Z", "yesterday", "9999-12-31T23:59:59+14:00",
                         "0001-01-01T00:00:00-12:00"])
