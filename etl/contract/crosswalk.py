"""The commune crosswalk: which commune(s) in force since 01/07/2025 each former commune
went to, read from the published merger text (`reference/commune_merger_2025.csv`).

The `before_merger` text is written for people: names only, no codes and no district
(`Phường Quảng Thành, Phường Nghĩa Thành, Phường Nghĩa Đức, Xã Đắk Ha`), lists (`các xã
A, B`), partial transfers (`một phần diện tích TN của xã X`, `phần còn lại của xã Y`,
`Xã Y (phần còn lại sau khi sáp nhập vào phường Z)`), a former district or town in
parentheses to tell same-named communes apart (`Phường 1 (thành phố Bảo Lộc)`), and
`giữ nguyên` (the former commune of the same name, unchanged). The file is never edited:
this module reads it as it is.

Matching follows the workbook contract ("Crosswalk"):
- a name is looked up only among the former communes of the former provinces merged into
  the new commune's province, by `etl.text.name_key` (case, tone marks, the unit prefix,
  apostrophes, hyphens and spaces do not count; `ă â ê ô ơ ư đ` do). The unit type word
  of the text (`Xã`/`Phường`/`Thị trấn`) is part of the prefix, so it never picks;
- a qualifier in parentheses decides between same-named communes (the former district's
  name, with or without `thành phố`/`thị xã`/`huyện`/`quận`);
- a name that still fits several former communes matches none of them: a former commune
  no other fragment names is then `unmatched`, with the candidates;
- a former commune named under two new communes, or described as partly transferred
  (`một phần`, `phần còn lại`), is `partial` for each of its links, otherwise `whole`.

`python -m etl.contract.crosswalk [--province 67 60 68]` prints the match rates per former
province and nationally, and the unmatched former communes of the provinces given.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import re
import sys
import unicodedata
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

from etl.config import REFERENCE_DIR
from etl.contract.reference import Reference, Unit, load_reference
from etl.text import clean, name_key, strip_unit_prefix, unaccent

MERGER_FILE = "commune_merger_2025.csv"

WHOLE = "whole"
PARTIAL = "partial"


@dataclass(frozen=True)
class Link:
    """One former commune -> one new commune."""

    old_commune_code: str
    old_district_code: str
    old_province_code: str
    new_commune_code: str
    new_province_code: str
    match: str  # "whole" | "partial"
    # The fragment(s) of before_merger it came from, each as the file writes it (its own
    # spaces and letters, composed or not), joined by "; ": each is found in the text as is.
    source_text: str


@dataclass(frozen=True)
class Unmatched:
    """A former commune the text links to no new commune, and why."""

    old_commune_code: str
    old_commune_name: str
    old_district_code: str
    old_province_code: str
    why: str
    candidates: str  # "24611 Phường Nghĩa Đức; ..." (former communes the name fitted)
    # The new communes whose text may mean it ("24717; 24721"): those that named it by a
    # name several former communes share, or by a spelling nearly like its own.
    possible_new_codes: str = ""


@dataclass(frozen=True)
class Unresolved:
    """A fragment of a new commune's text that named no former commune (for the record:
    a spelling the reference does not know, a village, an ambiguous name)."""

    new_commune_code: str
    fragment: str
    why: str


def values_of(row: Link | Unmatched | Unresolved) -> tuple[str, ...]:
    """A row's fields in order: `dataclasses.astuple` without its deep copy of every field
    (the fields are strings; astuple took 0.18 s for the national crosswalk, this 0.025 s)."""
    return tuple(getattr(row, name) for name in row.__dataclass_fields__)


@dataclass(frozen=True, eq=False)  # hashed by identity, so the indexes below can be cached
class Crosswalk:
    links: tuple[Link, ...]
    unmatched: tuple[Unmatched, ...]
    unresolved: tuple[Unresolved, ...] = ()
    # former province code -> its former commune codes (the denominators of `rates`)
    former: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def destinations(self, old_commune_code: str) -> list[Link]:
        """The links of a former commune, by new commune code (empty when unmatched)."""
        return list(_by_old(self).get(old_commune_code, ()))

    def whole_destination(self, old_commune_code: str) -> str | None:
        """The one new commune a former commune went to whole, else None (split, partly
        transferred or unmatched)."""
        links = _by_old(self).get(old_commune_code, ())
        if len(links) == 1 and links[0].match == WHOLE:
            return links[0].new_commune_code
        return None

    def unmatched_row(self, old_commune_code: str) -> Unmatched | None:
        return _unmatched_by_old(self).get(old_commune_code)

    def rates(self) -> dict[str, tuple[int, int]]:
        """Former province code -> (former communes with at least one link, former communes)."""
        linked = _by_old(self)
        return {
            province: (sum(1 for code in codes if code in linked), len(codes))
            for province, codes in sorted(self.former.items())
        }

    def national_rate(self) -> tuple[int, int]:
        rates = self.rates().values()
        return sum(m for m, _ in rates), sum(t for _, t in rates)


@cache
def _by_old(crosswalk: Crosswalk) -> dict[str, tuple[Link, ...]]:
    index: dict[str, list[Link]] = {}
    for link in crosswalk.links:
        index.setdefault(link.old_commune_code, []).append(link)
    return {
        code: tuple(sorted(found, key=lambda x: x.new_commune_code))
        for code, found in index.items()
    }


@cache
def _unmatched_by_old(crosswalk: Crosswalk) -> dict[str, Unmatched]:
    return {row.old_commune_code: row for row in crosswalk.unmatched}


# -- reading the text ----------------------------------------------------------------------

# A commune-level unit word, as the text writes it before a name (any case).
_UNIT_WORD = r"(?:xã|phường|thị trấn|đặc khu)"
_LEADING_UNITS = re.compile(rf"^(?:(?:các|cac)\s+)?(?:{_UNIT_WORD}\s+)+", re.I)
_INNER_UNIT = re.compile(rf"(?:^|\s){_UNIT_WORD}\s+", re.I)
# A fragment that starts by naming a unit starts a new item (it ends a list opened by
# `một phần ... của các xã A, B`).
_STARTS_WITH_UNIT = re.compile(rf"^{_UNIT_WORD}\s", re.I)
# Words that describe how much of a commune went (`một phần diện tích TN, quy mô dân số
# của các phường ...`), ahead of the name.
_DESCRIPTORS = re.compile(
    r"một phần|toàn bộ|toàn bố|phần còn l[ạa]i|diện tích|quy mô dân số|sắp xếp", re.I
)
_PARTIAL_WORDS = re.compile(r"một phần|phần còn l[ạa]i", re.I)
_WHOLE_WORDS = re.compile(r"toàn b[ộố]", re.I)
# Where the descriptor ends and the name begins: after the last `của`, else after the
# descriptor's own last word (`một phần diện tích TN Phường Minh Khai`).
_OF = re.compile(r"(?:^|\s)của\s+", re.I)
_DESCRIPTOR_END = re.compile(
    r"(?:diện tích (?:TN|tự nhiên)|quy mô dân số|phần còn l[ạa]i|một phần|toàn b[ộố])\s*", re.I
)
# Trailing noise: `sau khi sắp Xếp`, `sau khi sắp xếp theo quy định tại khoản 99 Điều này`.
_TRAILING = re.compile(r"\s+sau khi s[ắa]p x[ếe]p\b.*$", re.I)
# Parts of a commune that are not communes (a hamlet, a village, a firing range). Not `Bản`
# or `Buôn`: a bare name in a list may start with them (`các xã Bản Phiệt, Bản Qua`).
_NOT_A_COMMUNE = re.compile(r"^(?:xóm|thôn|tổ dân phố|khu phố|khu vực|trường bắn)\s", re.I)
# A qualifier naming a former district, town or province.
_QUALIFIER = re.compile(r"^(?:thành phố|thị xã|huyện|quận|tp\.?|tx\.?|tỉnh)\s+(.+)$", re.I)
_UNCHANGED = re.compile(r"^giữ nguyên\.?$", re.I)


@dataclass(frozen=True)
class Fragment:
    text: str  # the fragment, cleaned (`etl.text.clean`): what is matched
    names: tuple[str, ...]  # readings of the name, most literal first (may be empty)
    qualifiers: tuple[str, ...]  # former district (or province) names in parentheses
    partial: bool
    written: str = ""  # the fragment as the file writes it, trimmed ("": as `text`)

    @property
    def source(self) -> str:
        """What a link keeps of it: the text as written."""
        return self.written or self.text


def split_top_level(text: str) -> list[str]:
    """Split on `,`, `;` and ` và ` outside parentheses (a remark in parentheses may hold
    commas: `(phần còn lại sau khi sáp nhập vào phường Ba Đình, phường Ngọc Hà)`)."""
    return [part for part, _ in split_written(text)]


def split_written(text: str) -> list[tuple[str, str]]:
    """`split_top_level`'s parts, each with the stretch of `text` it was read from, as
    written: the published text mixes composed and decomposed letters and doubles some
    spaces, which the parts (NFC, spaces collapsed) do not keep and an analyst searching
    the text for a link's fragment needs."""
    cleaned, spans = _cleaned_spans(text)
    parts: list[tuple[str, str]] = []

    def cut(start: int, end: int) -> None:
        while start < end and cleaned[start] == " ":
            start += 1
        while end > start and cleaned[end - 1] == " ":
            end -= 1
        if start < end:
            written = text[spans[start][0] : spans[end - 1][1]] if spans else ""
            parts.append((cleaned[start:end], written))

    depth = 0
    start = 0
    i = 0
    while i < len(cleaned):
        ch = cleaned[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0 and ch in ",;":
            cut(start, i)
            start = i + 1
        elif depth == 0 and cleaned[i : i + 4] == " và ":  # `Xã Lao Và Chải` is one name
            cut(start, i)
            start = i + 4
            i += 4
            continue
        i += 1
    cut(start, len(cleaned))
    return parts


def _cleaned_spans(text: str) -> tuple[str, list[tuple[int, int]]]:
    """`clean(text)` and, for each of its characters, the span of `text` it comes from: a
    letter with its combining marks composes into one (NFC), a run of spaces becomes one.
    No spans (an empty list) where cleaning letter by letter would not give `clean(text)`:
    the parts are then kept as cleaned."""
    whole = clean(text)
    chars: list[str] = []
    spans: list[tuple[int, int]] = []
    start = 0
    for end in range(1, len(text) + 1):
        if end < len(text) and unicodedata.combining(text[end]):
            continue  # a mark goes with the letter before it
        piece = text[start:end]
        for ch in " " if piece.isspace() else clean(piece):
            if ch == " " and chars and chars[-1] == " ":
                spans[-1] = (spans[-1][0], end)  # one space for the run
            else:
                chars.append(ch)
                spans.append((start, end))
        start = end
    first, last = 0, len(chars)
    while first < last and chars[first] == " ":
        first += 1
    while last > first and chars[last - 1] == " ":
        last -= 1
    if "".join(chars[first:last]) != whole:
        return whole, []
    return whole, spans[first:last]


def _groups(text: str) -> tuple[str, list[str]]:
    """The text outside parentheses, and each top-level parenthesised group's content."""
    outside: list[str] = []
    groups: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in text:
        if ch == "(":
            if depth > 0:
                current.append(ch)
            depth += 1
        elif ch == ")" and depth > 0:
            depth -= 1
            if depth == 0:
                groups.append(clean("".join(current)))
                current = []
            else:
                current.append(ch)
        elif depth > 0:
            current.append(ch)
        else:
            outside.append(ch)
    if current:  # an unclosed parenthesis: its content is a group all the same
        groups.append(clean("".join(current)))
    return clean("".join(outside)), groups


def _name_readings(body: str) -> tuple[str, ...]:
    """The name in a fragment's text outside parentheses, as readings to try in order."""
    body = _TRAILING.sub("", body).strip()
    if _DESCRIPTORS.search(body):
        of = list(_OF.finditer(body))
        if of:
            body = body[of[-1].end() :]
        else:
            ends = list(_DESCRIPTOR_END.finditer(body))
            body = body[ends[-1].end() :] if ends else body
        body = re.sub(r"^(?:TN|tự nhiên)\b\s*", "", body.strip(), flags=re.I)
    body = _LEADING_UNITS.sub("", body.strip()).strip()
    if not body:
        return ()
    readings = [body]
    # `xã Yên Định  Xã Yên Định`: a unit word inside the name starts the name again.
    inner = list(_INNER_UNIT.finditer(body))
    if inner:
        rest = body[inner[-1].end() :].strip()
        if rest:
            readings.append(rest)
    return tuple(readings)


def parse_fragment(text: str) -> Fragment:
    body, groups = _groups(text)
    qualifiers: list[str] = []
    partial = bool(_PARTIAL_WORDS.search(body))
    for group in groups:
        if _PARTIAL_WORDS.search(group):
            partial = True
        elif found := _QUALIFIER.match(group):
            qualifiers.append(found.group(1).strip())
        elif group:
            qualifiers.append(group)  # `(Quận 8)` is caught above; a bare name all the same
    names = () if _NOT_A_COMMUNE.match(body) else _name_readings(body)
    return Fragment(text=text, names=names, qualifiers=tuple(qualifiers), partial=partial)


def parse_before_merger(text: str) -> list[Fragment]:
    """The fragments of one `before_merger` text, each with its partial flag. A descriptor
    with no name (`một phần diện tích TN`, before `quy mô dân số của các phường A`) and a
    list (`của các phường A, B, C`) carry their partial flag to the bare names after them,
    until a fragment starts with a unit word of its own or says `toàn bộ`."""
    fragments: list[Fragment] = []
    carried = False
    for part, written in split_written(text):
        fragment = replace(parse_fragment(part), written=written)
        starts_new = bool(_STARTS_WITH_UNIT.match(part))
        body = _groups(part)[0]
        if _WHOLE_WORDS.search(body):
            carried = False
        elif _PARTIAL_WORDS.search(body):
            carried = True
        elif starts_new:
            carried = False
        if carried and not fragment.partial:
            fragment = replace(fragment, partial=True)
        if fragment.names or _UNCHANGED.match(part):
            fragments.append(fragment)
        elif not _DESCRIPTORS.search(part):
            fragments.append(fragment)  # kept to be reported as unresolved
    return fragments


# -- matching --------------------------------------------------------------------------------

_PLACE_TYPE = re.compile(r"^(?:thành phố|thị xã|huyện|quận|tỉnh|tp\.?|tx\.?)\s+", re.I)
# A fragment naming a whole former district (`Huyện Kiên Hải` -> Đặc khu Kiên Hải).
_DISTRICT_NAMED = re.compile(r"^(?:huyện|quận|thị xã|thành phố)\s+\S", re.I)
_STATE_FARM = re.compile(r"\bnông trường\b", re.I)
_ROMAN = {"I": "1", "II": "2", "III": "3", "IV": "4", "V": "5", "VI": "6", "VII": "7"}
_ARABIC = {arabic: roman for roman, arabic in _ROMAN.items()}


def _place_key(text: str) -> str:
    return name_key(_PLACE_TYPE.sub("", clean(text)))


def _label(unit: Unit) -> str:
    return f"{unit.code} {unit.full_name}"


def _spellings(reading: str) -> list[str]:
    """A name as written, then the writings of the reference for the same name: `Nông
    trường X` is `NT X` there, and a trailing number may be Roman in one and Arabic in the
    other (`Phường IV` / `Phường 4`, `Hòa Tú 2` / `Hòa Tú II`)."""
    found = [reading]
    if _STATE_FARM.search(reading):
        found.append(_STATE_FARM.sub("NT", reading))
    words = reading.split()
    if words and words[-1].upper() in _ROMAN and words[-1].isupper():
        found.append(" ".join([*words[:-1], _ROMAN[words[-1].upper()]]))
    elif words and words[-1] in _ARABIC:
        found.append(" ".join([*words[:-1], _ARABIC[words[-1]]]))
    return found


@dataclass
class _Province:
    """The former units a new province's texts are matched against."""

    communes: list[Unit]
    by_key: dict[str, list[Unit]]
    districts: dict[str, list[Unit]]  # place key -> former districts
    by_district: dict[str, list[Unit]]  # district code -> its former communes


def _province_index(ref: Reference, new_province: str) -> _Province:
    communes: list[Unit] = []
    for old in ref.former_provinces(new_province):
        communes += ref.former_communes(old)
    olds = set(ref.former_provinces(new_province))
    by_key: dict[str, list[Unit]] = {}
    by_district: dict[str, list[Unit]] = {}
    for unit in communes:
        by_key.setdefault(name_key(unit.name), []).append(unit)
        by_district.setdefault(_district_code(ref, unit), []).append(unit)
    districts: dict[str, list[Unit]] = {}
    for unit in ref.units.values():
        if unit.level == "district" and unit.parent_code in olds:
            districts.setdefault(_place_key(unit.name), []).append(unit)
    return _Province(communes, by_key, districts, by_district)


def _district_keys(ref: Reference, unit: Unit) -> set[str]:
    keys = set()
    district = ref.district_of(unit)
    if district is not None:
        keys |= {_place_key(district.name), _place_key(district.full_name)}
    province = ref.province_of(unit)
    keys |= {_place_key(province.name), _place_key(province.full_name)}
    return keys


def _candidates(ref: Reference, index: _Province, fragment: Fragment) -> list[Unit]:
    """The former communes a fragment's name fits, narrowed by its qualifiers."""
    found: list[Unit] = []
    for reading in fragment.names:
        for spelling in _spellings(reading):
            found = index.by_key.get(name_key(spelling), [])
            if found:
                break
        if found:
            break
    if len(found) > 1 and fragment.qualifiers:
        wanted = {_place_key(q) for q in fragment.qualifiers}
        narrowed = [u for u in found if _district_keys(ref, u) & wanted]
        if narrowed:
            found = narrowed
    return found


def _district_code(ref: Reference, unit: Unit) -> str:
    district = ref.district_of(unit)
    return district.code if district is not None and district.level == "district" else ""


def read_merger(path: Path | None = None) -> list[dict[str, str]]:
    with (path or REFERENCE_DIR / MERGER_FILE).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass
class _Named:
    """A fragment of one new commune's text with the former communes it may name."""

    fragment: Fragment
    candidates: list[Unit]


def _resolve(ref: Reference, named: list[_Named], context: bool) -> tuple[list, list]:
    """The (unit, fragment) pairs a new commune's text names, and its fragments that stay
    ambiguous. A name fitting several former communes is settled by
    - its qualifier (already applied to its candidates);
    - the text itself: when k fragments of one text fit the same k former communes
      (`Thị trấn Mađaguôi, Xã Mađaguôi`), each of them is named;
    - with `context`, the former districts of the communes the same text names without
      doubt: a new commune is formed from neighbours, so when exactly one candidate lies in
      one of those districts, it is the one meant (`Xã Lộc Thanh` beside `Phường Lộc Phát`
      of Bảo Lộc is Lộc Thanh of Bảo Lộc, not Lộc Thành of Bảo Lâm)."""
    linked = [(n.candidates[0], n.fragment) for n in named if len(n.candidates) == 1]
    open_ = [n for n in named if len(n.candidates) > 1]
    changed = context
    while changed and open_:
        changed = False
        districts = {_district_code(ref, unit) for unit, _ in linked}
        for item in list(open_):
            near = [u for u in item.candidates if _district_code(ref, u) in districts]
            if len(near) == 1:
                linked.append((near[0], item.fragment))
                open_.remove(item)
                changed = True
    # The text's own spelling, prefix and tone marks included, settles a tie the comparison
    # leaves between units of one district that differ only there (`Thị trấn Mường Tè` and
    # `Xã Mường Tè`; `Hoằng Quỳ` and `Hoằng Quý`): exactly one candidate written so.
    for item in list(open_):
        exact = [u for u in item.candidates if _exact(u.full_name) in _exact_readings(item)]
        if len(exact) == 1:
            linked.append((exact[0], item.fragment))
            open_.remove(item)
    groups: dict[frozenset[str], list[_Named]] = {}
    for item in open_:
        groups.setdefault(frozenset(u.code for u in item.candidates), []).append(item)
    ambiguous = []
    for codes, items in groups.items():
        # Only when the text names each of them once, in so many words: not `một phần của
        # xã X` beside `Xã X (phần còn lại ...)`, which may be one commune twice.
        distinct = {i.fragment.text for i in items}
        whole = not any(i.fragment.partial for i in items)
        if whole and len(distinct) == len(items) >= len(codes):
            text = ", ".join(i.fragment.text for i in items)
            written = "; ".join(i.fragment.source for i in items)
            for unit in items[0].candidates:
                linked.append((unit, Fragment(text, (), (), False, written)))
        else:
            ambiguous += items
    return linked, ambiguous


def _exact(text: str) -> str:
    """A name as spelled, only case, apostrophe forms and spacing aside."""
    return re.sub(r"\s+", "", clean(text).lower().replace("\u2019", "'").replace("\u2018", "'"))


def _exact_readings(item: _Named) -> set[str]:
    """The fragment's name as written, with its unit word: `Thị trấn Mường Tè`."""
    body = _TRAILING.sub("", _groups(item.fragment.text)[0]).strip()
    found = _OF.split(body)[-1] if _DESCRIPTORS.search(body) else body
    return {_exact(found)}


def build_crosswalk(
    ref: Reference, rows: list[dict[str, str]], context: bool = True, spelling: bool = False
) -> Crosswalk:
    """The crosswalk of the merger rows `rows` (`new_code,new_name,province_code,
    before_merger`) against the reference units. `context=False` settles same-named
    communes by their qualifier only (to measure what the district context adds).

    `spelling=True` (off: the contract says the letters count) also links a former commune
    no text names to the one fragment of its new province that named nothing and is
    spelled nearly like it (`Xã Thuận Quý` for Xã Thuận Quí), when neither has another such
    partner and the fragment's text names other communes of the same former district."""
    indexes: dict[str, _Province] = {}
    # (old code, new code) -> (partial?, source fragments)
    found: dict[tuple[str, str], tuple[bool, list[str]]] = {}
    ambiguous: dict[str, list[tuple[str, str, list[Unit]]]] = {}
    unresolved: list[Unresolved] = []
    missed: dict[str, list[tuple[str, str]]] = {}  # new province -> (new code, fragment)
    written: dict[tuple[str, str], str] = {}  # (new code, fragment) -> as the file writes it
    for row in rows:
        new_code, province = row["new_code"].strip(), row["province_code"].strip()
        index = indexes.get(province) or indexes.setdefault(
            province, _province_index(ref, province)
        )
        named: list[_Named] = []
        for fragment in parse_before_merger(row["before_merger"]):
            if _UNCHANGED.match(fragment.text):
                # The former commune of the same name; if the name fits none or several,
                # the one that kept its code (an unchanged commune keeps it).
                matches = index.by_key.get(name_key(row["new_name"]), [])
                if len(matches) != 1:
                    matches = [u for u in index.communes if u.code == new_code] or matches
            elif _DISTRICT_NAMED.match(fragment.text):  # a whole former district
                districts = index.districts.get(_place_key(fragment.text), [])
                if len(districts) == 1:
                    for unit in index.by_district.get(districts[0].code, []):
                        named.append(_Named(fragment, [unit]))
                    continue
                matches = []
            elif not fragment.names:
                unresolved.append(Unresolved(new_code, fragment.text, "không phải tên xã"))
                continue
            else:
                matches = _candidates(ref, index, fragment)
            if not matches:
                unresolved.append(Unresolved(new_code, fragment.text, "không khớp xã cũ nào"))
                missed.setdefault(province, []).append((new_code, fragment.text))
                written[(new_code, fragment.text)] = fragment.source
                continue
            named.append(_Named(fragment, matches))
        linked, still = _resolve(ref, named, context)
        for unit, fragment in linked:
            key = (unit.code, new_code)
            partial, sources = found.get(key, (False, []))
            found[key] = (partial or fragment.partial, [*sources, fragment.source])
        for item in still:
            unresolved.append(Unresolved(new_code, item.fragment.text, "khớp nhiều xã cũ"))
            for unit in item.candidates:
                ambiguous.setdefault(unit.code, []).append(
                    (new_code, item.fragment.text, item.candidates)
                )

    if spelling:
        _pair_spellings(ref, found, ambiguous, missed, written)
    destinations: dict[str, set[str]] = {}
    for old, new in found:
        destinations.setdefault(old, set()).add(new)
    current = ref.current_units or {}
    links = []
    for (old, new), (partial, sources) in sorted(found.items()):
        unit = ref.units[old]
        new_unit = current.get(new)
        links.append(
            Link(
                old_commune_code=old,
                old_district_code=_district_code(ref, unit),
                old_province_code=ref.province_of(unit).code,
                new_commune_code=new,
                new_province_code=(
                    new_unit.parent_code if new_unit and new_unit.parent_code else ""
                )
                or ref.merged_into(ref.province_of(unit).code),
                match=PARTIAL if partial or len(destinations[old]) > 1 else WHOLE,
                source_text="; ".join(dict.fromkeys(sources)),
            )
        )

    former: dict[str, tuple[str, ...]] = {}
    for unit in ref.units.values():
        if unit.level == "province":
            codes = tuple(u.code for u in ref.former_communes(unit.code))
            if codes:
                former[unit.code] = codes

    unmatched = []
    new_names = {row["new_code"]: row["new_name"] for row in rows}
    for province, codes in sorted(former.items()):
        for code in codes:
            if code in destinations:
                continue
            unit = ref.units[code]
            if code in ambiguous:
                seen = ambiguous[code]
                why = "; ".join(
                    f"tên '{text}' trong phương án của {new} {new_names.get(new, '')} khớp "
                    f"{len(cands)} xã cũ / the name fits {len(cands)} former communes, "
                    "no qualifier decides"
                    for new, text, cands in seen
                )
                candidates = "; ".join(
                    dict.fromkeys(_label(u) for _, _, cands in seen for u in cands)
                )
                possible = [new for new, _, _ in seen]
            else:
                new_province = ref.merged_into(province)
                near = _near_misses(unit, missed.get(new_province, []))
                why = (
                    f"không được nêu tên trong phương án sắp xếp xã của tỉnh {new_province} / "
                    f"not named in the merger text of any commune of province {new_province}"
                )
                if near:
                    why = (
                        f"không được nêu đúng tên trong phương án sắp xếp xã của tỉnh "
                        f"{new_province}: tên gần giống nhưng khác chữ cái ở cột candidates / "
                        f"not named as the reference spells it in the merger text of province "
                        f"{new_province}: names with other letters are in candidates"
                    )
                candidates = "; ".join(
                    f"{new} {new_names.get(new, '')}: '{text}'" for new, text in near
                )
                possible = [new for new, _ in near]
            unmatched.append(
                Unmatched(
                    old_commune_code=code,
                    old_commune_name=unit.full_name,
                    old_district_code=_district_code(ref, unit),
                    old_province_code=province,
                    why=why,
                    candidates=candidates,
                    possible_new_codes="; ".join(sorted(set(possible))),
                )
            )
    return Crosswalk(tuple(links), tuple(unmatched), tuple(unresolved), former)


def _plain(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", unaccent(strip_unit_prefix(text)).lower()).replace("y", "i")


def _near_misses(unit: Unit, missed: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Fragments of the province's texts that named no former commune and are spelled
    nearly like this one (`Xã Thuận Quý` for Xã Thuận Quí): shown to people as
    candidates, never linked (the letters count)."""
    key = _plain(unit.name)
    found = []
    for new_code, text in missed:
        for reading in parse_fragment(text).names or (text,):
            if difflib.SequenceMatcher(None, key, _plain(reading)).ratio() >= 0.8:
                found.append((new_code, text))
                break
    return found


def _pair_spellings(
    ref: Reference,
    found: dict[tuple[str, str], tuple[bool, list[str]]],
    ambiguous: dict[str, list[tuple[str, str, list[Unit]]]],
    missed: dict[str, list[tuple[str, str]]],
    written: dict[tuple[str, str], str],
) -> None:
    """Add to `found` the one-to-one near spellings (see `build_crosswalk`)."""
    linked = {old for old, _ in found}
    districts: dict[str, set[str]] = {}
    for old, new in found:
        districts.setdefault(new, set()).add(_district_code(ref, ref.units[old]))
    pairs: list[tuple[Unit, str, str]] = []
    for unit in ref.units.values():
        if unit.level != "commune" or unit.code in linked or unit.code in ambiguous:
            continue
        province = ref.merged_into(ref.province_of(unit).code)
        near = _near_misses(unit, missed.get(province, []))
        if len(near) == 1 and _district_code(ref, unit) in districts.get(near[0][0], set()):
            pairs.append((unit, *near[0]))
    taken: dict[tuple[str, str], int] = {}
    for _, new, text in pairs:
        taken[(new, text)] = taken.get((new, text), 0) + 1
    for unit, new, text in pairs:
        if taken[(new, text)] == 1:
            found[(unit.code, new)] = (parse_fragment(text).partial, [written[(new, text)]])
            missed[ref.merged_into(ref.province_of(unit).code)].remove((new, text))


@cache
def _load(ref: Reference, path: Path) -> Crosswalk:
    return build_crosswalk(ref, read_merger(path))


def load_crosswalk(ref: Reference | None = None, cache_dir: Path | None = None) -> Crosswalk:
    """The crosswalk from the reference folder's merger text (cached per reference).

    With `cache_dir` (the build passes `HTX_STATE_DIR/cache`), the crosswalk of the reference
    folder's own units is also kept on disk, keyed by the reference files and this code
    (`cache_key`): a build reads it back instead of matching the text again. Later calls
    for the same reference, with or without `cache_dir`, get that crosswalk from memory.
    """
    ref = ref or load_reference()
    path = REFERENCE_DIR / MERGER_FILE
    seeded = _seeded.get(id(ref))
    if seeded is not None and seeded[0] is ref:
        return seeded[1]
    if cache_dir is not None and ref is load_reference():
        crosswalk = _from_disk(ref, path, cache_dir)
        _seeded[id(ref)] = (ref, crosswalk)
        return crosswalk
    return _load(ref, path)


# -- the cache on disk -----------------------------------------------------------------------

# Bump when the stored form changes; the code's own text is part of the key anyway.
CACHE_FORMAT = 1
# id(reference) -> (that reference, its crosswalk read from or written to the disk cache)
_seeded: dict[int, tuple[Reference, Crosswalk]] = {}


def cache_key() -> str:
    """What the crosswalk is computed from: every reference CSV and the code that reads and
    matches them (this module, `etl.contract.reference`, `etl.text`)."""
    import hashlib

    import etl.contract.reference
    import etl.text

    digest = hashlib.sha256(f"crosswalk format {CACHE_FORMAT}\n".encode())
    code = [Path(__file__), Path(etl.contract.reference.__file__), Path(etl.text.__file__)]
    for item in [*sorted(REFERENCE_DIR.glob("*.csv")), *code]:
        digest.update(item.name.encode() + b"\0")
        digest.update(item.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def cache_file(cache_dir: Path) -> Path:
    return cache_dir / f"crosswalk-{cache_key()[:32]}.json"


def _from_disk(ref: Reference, path: Path, cache_dir: Path) -> Crosswalk:
    """The crosswalk stored under `cache_dir` for the current key, else computed (and
    stored, replacing the crosswalks of other keys). An unreadable file is computed again."""
    import json

    target = cache_file(cache_dir)
    try:
        stored = json.loads(target.read_text(encoding="utf-8"))
        return Crosswalk(
            links=tuple(Link(*row) for row in stored["links"]),
            unmatched=tuple(Unmatched(*row) for row in stored["unmatched"]),
            unresolved=tuple(Unresolved(*row) for row in stored["unresolved"]),
            former={province: tuple(codes) for province, codes in stored["former"].items()},
        )
    except (OSError, ValueError, KeyError, TypeError):
        pass
    crosswalk = _load(ref, path)
    stored = {
        "links": [list(values_of(row)) for row in crosswalk.links],
        "unmatched": [list(values_of(row)) for row in crosswalk.unmatched],
        "unresolved": [list(values_of(row)) for row in crosswalk.unresolved],
        "former": {province: list(codes) for province, codes in crosswalk.former.items()},
    }
    store_json(target, stored, "crosswalk-*.json")
    return crosswalk


def store_json(target: Path, data: object, family: str) -> None:
    """Write a cache file whole (a reader sees the old file or the new one, never half of
    one), then remove the files of its `family` (a glob beside it) made for other keys."""
    import json
    import os

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(partial, target)
    for stale in target.parent.glob(family):
        if stale != target:
            stale.unlink(missing_ok=True)


# -- the command line ------------------------------------------------------------------------


def _percent(matched: int, total: int) -> str:
    return f"{100 * matched / total:.2f}%" if total else "-"


def report(crosswalk: Crosswalk, ref: Reference, provinces: list[str]) -> str:
    lines = ["Tỷ lệ xã cũ đã khớp / former communes matched, by former province:"]
    for province, (matched, total) in crosswalk.rates().items():
        unit = ref.unit(province)
        name = unit.name if unit is not None else ""
        lines.append(f"  {province} {name}: {matched}/{total} ({_percent(matched, total)})")
    matched, total = crosswalk.national_rate()
    lines.append(f"Toàn quốc / national: {matched}/{total} ({_percent(matched, total)})")
    partial = sum(1 for link in crosswalk.links if link.match == PARTIAL)
    lines.append(f"Links: {len(crosswalk.links)} ({partial} partial)")
    for province in provinces:
        rows = [u for u in crosswalk.unmatched if u.old_province_code == province]
        lines.append(f"Unmatched in {province}: {len(rows)}")
        for row in rows:
            lines.append(
                f"  {row.old_commune_code} {row.old_commune_name} (district "
                f"{row.old_district_code}): {row.why}"
                + (f" | candidates: {row.candidates}" if row.candidates else "")
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m etl.contract.crosswalk",
        description="Match rates of the commune crosswalk, and unmatched former communes.",
    )
    parser.add_argument("--province", nargs="*", default=[], help="former province codes")
    parser.add_argument(
        "--unresolved", action="store_true", help="also list fragments that named no commune"
    )
    parser.add_argument(
        "--spelling",
        action="store_true",
        help="also pair one-to-one near spellings (not the contract's rule: for comparison)",
    )
    args = parser.parse_args(argv)
    ref = load_reference()
    if args.spelling:
        crosswalk = build_crosswalk(ref, read_merger(), spelling=True)
    else:
        crosswalk = load_crosswalk(ref)
    print(report(crosswalk, ref, args.province))
    if args.unresolved:
        for item in crosswalk.unresolved:
            print(f"  {item.new_commune_code} [{item.why}] {item.fragment}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = [
    "PARTIAL",
    "WHOLE",
    "Crosswalk",
    "Link",
    "Unmatched",
    "Unresolved",
    "build_crosswalk",
    "load_crosswalk",
    "parse_before_merger",
]
