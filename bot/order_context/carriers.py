"""Carriers cross-border sellers ship with: their names as sources spell them, tracking links built from a tracking
number when the source gives none, and a guess of the carrier from the number's format when it names none.

`tracking_link(carrier, number)` returns the carrier's own tracking page where kefu knows it, else a universal
tracker (17TRACK) that recognises most carriers from the number; `carrier_name` gives the carrier's display name
for an alias ("yun express", "YUNEXPRESS" → "YunExpress").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Carrier:
    name: str  # display name, as customers know it
    aliases: tuple[str, ...]  # compared after lower-casing and removing everything but letters and digits
    url: str  # tracking page with {number}


CARRIERS: tuple[Carrier, ...] = (
    Carrier("YunExpress", ("yunexpress", "yun", "yuntrack", "云途"), "https://www.yuntrack.com/parcelTracking?id={number}"),
    Carrier("4PX", ("4px", "4pxexpress", "递四方"), "https://track.4px.com/#/result/0/{number}"),
    Carrier("Cainiao", ("cainiao", "aliexpressstandardshipping", "菜鸟"),
            "https://global.cainiao.com/newDetail.htm?mailNoList={number}"),
    Carrier("China Post", ("chinapost", "chinapostairmail", "chinapostregisteredairmail", "epacket", "中国邮政"),
            "https://t.17track.net/en#nums={number}"),
    Carrier("China EMS", ("ems", "chinaems", "emschina", "中国ems"), "https://www.ems.com.cn/qps/yjcx?mailNum={number}"),
    Carrier("Yanwen", ("yanwen", "燕文"), "https://track.yw56.com.cn/en/querydel?nums={number}"),
    Carrier("SF Express", ("sfexpress", "sf", "顺丰"), "https://www.sf-express.com/chn/en/waybill/waybill-detail/{number}"),
    Carrier("DHL Express", ("dhl", "dhlexpress"),
            "https://www.dhl.com/global-en/home/tracking/tracking-express.html?submit=1&tracking-id={number}"),
    Carrier("DHL Paket", ("dhlpaket", "deutschepost", "dhlde", "dhlecommerce"),
            "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode={number}"),
    Carrier("UPS", ("ups", "unitedparcelservice"), "https://www.ups.com/track?tracknum={number}"),
    Carrier("FedEx", ("fedex", "federalexpress"), "https://www.fedex.com/fedextrack/?trknbr={number}"),
    Carrier("USPS", ("usps", "unitedstatespostalservice"),
            "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}"),
    Carrier("Royal Mail", ("royalmail",), "https://www.royalmail.com/track-your-item#/tracking-results/{number}"),
    Carrier("DPD", ("dpd",), "https://tracking.dpd.de/status/en_US/parcel/{number}"),
    Carrier("GLS", ("gls",), "https://gls-group.com/EU/en/parcel-tracking?match={number}"),
    Carrier("Hermes", ("hermes", "evri"), "https://www.myhermes.de/empfangen/sendungsverfolgung/sendungsinformation#{number}"),
    Carrier("Colissimo", ("colissimo", "laposte"), "https://www.laposte.fr/outils/suivre-vos-envois?code={number}"),
    Carrier("Correos", ("correos",), "https://www.correos.es/es/en/tools/tracker/items/details?tracking-number={number}"),
    Carrier("PostNL", ("postnl",), "https://jouw.postnl.nl/track-and-trace/{number}"),
    Carrier("Poste Italiane", ("posteitaliane",), "https://www.poste.it/cerca/index.html#/risultati-spedizioni/{number}"),
    Carrier("Canada Post", ("canadapost",), "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={number}"),
    Carrier("Australia Post", ("australiapost", "auspost"), "https://auspost.com.au/mypost/track/details/{number}"),
    Carrier("Japan Post", ("japanpost",),
            "https://trackings.post.japanpost.jp/services/srv/search/?requestNo1={number}&locale=en"),
)
UNIVERSAL_TRACKER = "https://t.17track.net/en#nums={number}"

# Number formats that name their carrier. UPU S10 numbers (two letters, nine digits, the country's code) name the
# postal operator of the country that took the parcel in.
_FORMATS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"YT\d{16}"), "YunExpress"),
    (re.compile(r"4PX\w{8,}|P\d{13}4PX"), "4PX"),
    (re.compile(r"(?:LP|CNG|CNF)\w{10,}"), "Cainiao"),
    (re.compile(r"1Z[0-9A-Z]{16}"), "UPS"),
    (re.compile(r"(?:94|93|92|95)\d{20}"), "USPS"),
    (re.compile(r"E[A-Z]\d{9}CN"), "China EMS"),
    (re.compile(r"[A-Z]{2}\d{9}CN"), "China Post"),
    (re.compile(r"[A-Z]{2}\d{9}GB"), "Royal Mail"),
    (re.compile(r"[A-Z]{2}\d{9}US"), "USPS"),
    (re.compile(r"[A-Z]{2}\d{9}DE"), "DHL Paket"),
    (re.compile(r"[A-Z]{2}\d{9}FR"), "Colissimo"),
    (re.compile(r"SF\d{12,13}"), "SF Express"),
)

_BY_ALIAS: dict[str, Carrier] = {}
for _carrier in CARRIERS:
    for _alias in (_carrier.name, *_carrier.aliases):
        _BY_ALIAS[re.sub(r"[\W_]+", "", _alias.lower())] = _carrier
_BY_NAME = {carrier.name: carrier for carrier in CARRIERS}


def _key(name: str) -> str:
    return re.sub(r"[\W_]+", "", name.lower())


def find_carrier(name: str | None) -> Carrier | None:
    """The carrier a source's company name denotes ("DHL Express", "yun-express"), or None when unknown."""
    if not name or not name.strip():
        return None
    return _BY_ALIAS.get(_key(name))


def carrier_name(name: str | None) -> str | None:
    """The display name of a carrier as sources spell it; an unknown carrier keeps the source's spelling."""
    known = find_carrier(name)
    if known is not None:
        return known.name
    return name.strip() if name and name.strip() else None


def guess_carrier(tracking_number: str) -> str | None:
    """The carrier a tracking number's format names, or None."""
    number = tracking_number.strip().upper()
    for pattern, name in _FORMATS:
        if pattern.fullmatch(number):
            return name
    return None


def tracking_link(carrier: str | None, tracking_number: str) -> str:
    """A tracking page for the number: the carrier's own (named, or guessed from the number), else 17TRACK."""
    known = find_carrier(carrier)
    if known is None:
        guessed = guess_carrier(tracking_number)
        known = _BY_NAME.get(guessed) if guessed else None
    template = known.url if known is not None else UNIVERSAL_TRACKER
    return template.format(number=quote(tracking_number.strip(), safe=""))
