"""Amounts of money for after-sales requests: ISO 4217 currency codes, their minor units, exact parsing.

An amount is kept as an integer count of the currency's minor unit (cents for EUR, yen for JPY, fils for KWD), so
nothing is ever rounded by binary floating point: "25.00 EUR" is 2500, "1500 JPY" is 1500, "1.250 KWD" is 1250.
`parse_amount` refuses anything that is not exactly representable ("25.001 EUR", "12.5 JPY") with a message that
says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Final

from bot.wording import WordedError, Wording

# Active ISO 4217 codes with a minor unit other than 2 (list 1, 2024); every other code below has 2.
_MINOR_UNITS_NOT_2: Final[dict[str, int]] = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0, "UGX": 0,
    "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}
_TWO_DECIMALS: Final[str] = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE "
    "CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG "
    "HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK "
    "MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE "
    "SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD YER ZAR ZMW ZWG"
)
MINOR_UNITS: Final[dict[str, int]] = {**{code: 2 for code in _TWO_DECIMALS.split()}, **_MINOR_UNITS_NOT_2}
MAX_MINOR: Final[int] = 10**15  # far above any refund; keeps the integer inside a BIGINT and a float's exact range


class MoneyError(WordedError):
    """An amount or currency that cannot be used; str() says which and why, `wording` the same in words a front
    end writes in the asker's language (catalogue keys "money.…")."""


@dataclass(frozen=True)
class Money:
    """`minor` units of `currency` (an ISO 4217 code)."""

    minor: int
    currency: str

    @property
    def amount(self) -> Decimal:
        return Decimal(self.minor).scaleb(-MINOR_UNITS[self.currency])

    def __str__(self) -> str:
        digits = MINOR_UNITS[self.currency]
        return f"{self.amount:.{digits}f} {self.currency}"


def currency_code(text: str) -> str:
    """The ISO 4217 code `text` names ("eur" → "EUR"); MoneyError for anything else."""
    code = text.strip().upper()
    if code not in MINOR_UNITS:
        raise MoneyError(f"{text!r} is not an ISO 4217 currency code such as EUR, USD, CNY or JPY",
                         Wording("not_a_currency", {"text": text}))
    return code


def parse_amount(amount: str, currency: str) -> Money:
    """"25.00", "EUR" → Money(2500, "EUR"). A comma is accepted as the decimal mark ("25,50"); no thousands
    separators, no sign, no more decimals than the currency has, nothing above MAX_MINOR."""
    code = currency_code(currency)
    text = amount.strip().replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise MoneyError(f"{amount!r} is not an amount such as 25.00",
                         Wording("not_an_amount", {"amount": amount})) from None
    if not value.is_finite() or text.lower().startswith(("+", "-")) or "e" in text.lower():
        raise MoneyError(f"{amount!r} is not an amount such as 25.00", Wording("not_an_amount", {"amount": amount}))
    digits = MINOR_UNITS[code]
    minor = value.scaleb(digits)
    if minor != minor.to_integral_value():
        raise MoneyError(f"{amount} {code} has more decimals than {code} has ({digits})",
                         Wording("too_many_decimals", {"amount": amount, "code": code, "digits": digits}))
    if minor <= 0:
        raise MoneyError(f"the amount must be above zero, got {amount} {code}",
                         Wording("not_positive", {"amount": amount, "code": code}))
    if minor > MAX_MINOR:
        raise MoneyError(f"{amount} {code} is too large", Wording("too_large", {"amount": amount, "code": code}))
    return Money(int(minor), code)


def convert_to_cents(money: Money, rate: Decimal) -> int:
    """`money` times `rate` (units of the reporting currency per unit of money's currency) in hundredths of the
    reporting currency, rounded half to even."""
    cents = (money.amount * rate * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return int(cents)
