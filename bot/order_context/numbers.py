"""Finding an order number in a customer's message.

Built-in formats, tried in this order: Amazon (`123-1234567-1234567`), eBay (`12-12345-12345`), a number after
`#` (Shopify order names, `#1042`), and a number after the word for "order" in the main languages ("order 1042",
"Bestellung Nr. 1042", "pedido 1042", "commande n° 1042", "订单号 1042"). A team adds its own formats with
`order_lookup.order_number_patterns` (regular expressions, tried first; the first group, or the whole match, is
the number).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

AMAZON = re.compile(r"(?<![\d-])(\d{3}-\d{7}-\d{7})(?![\d-])")
EBAY = re.compile(r"(?<![\d-])(\d{2}-\d{5}-\d{5})(?![\d-])")
HASH_NUMBER = re.compile(r"#\s?([A-Za-z]{0,4}-?\d{3,12})\b")
ORDER_WORD = re.compile(
    r"(?:\border|\bbestellung|\bbestellnummer|\bauftrag|\bpedido|\bcommande|\bordine|\bencomenda|注文番号|注文|订单号|"
    r"订单|訂單)\s*(?:no\.?|nr\.?|number|nummer|n[º°o]\.?|num\.?|numéro|número|numero|号码?|番号)?\s*[:#：]?\s*"
    r"(\d{3,20})\b",
    re.IGNORECASE,
)
BUILT_IN: tuple[re.Pattern[str], ...] = (AMAZON, EBAY, HASH_NUMBER, ORDER_WORD)


def compile_patterns(patterns: Sequence[str]) -> tuple[re.Pattern[str], ...]:
    """The team's patterns compiled (settings validate them first, so an error here names no key)."""
    return tuple(re.compile(pattern, re.IGNORECASE) for pattern in patterns)


def find_order_number(text: str, extra: Sequence[re.Pattern[str]] = ()) -> str | None:
    """The first order number in `text`, as written ("#1042" keeps its "#": Shopify's order name has it)."""
    for pattern in (*extra, *BUILT_IN):
        match = pattern.search(text)
        if match is None:
            continue
        number = (match.group(1) if match.groups() else match.group(0)).strip()
        if pattern is HASH_NUMBER:
            return "#" + number
        return number
    return None
