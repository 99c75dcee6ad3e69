"""The commune crosswalk read from the published merger text (etl/contract/crosswalk.py):
its traps, its coverage, and its two tables in a built warehouse."""

from __future__ import annotations

import unicodedata

import pytest
from conftest import HTX_HEADER, htx_row, info_rows, query, run_steps, write_xlsx

from etl.contract.crosswalk import (
    PARTIAL,
    WHOLE,
    Crosswalk,
    build_crosswalk,
    load_crosswalk,
    main,
    parse_before_merger,
    read_merger,
    values_of,
)
from etl.contract.reference import load_reference


@pytest.fixture(scope="module")
def cw() -> Crosswalk:
    return load_crosswalk()


def test_a_row_s_values_are_its_fields_in_order_as_astuple_gives_them(cw):
    """The reference tables and the crosswalk's cache file take each row's values without
    `dataclasses.astuple`'s deep copies: the same values, in the same order."""
    import dataclasses

    rows = [*cw.links, *cw.unmatched, *cw.unresolved]
    assert cw.links
    assert cw.unmatched
    assert cw.unresolved
    assert [values_of(row) for row in rows] == [dataclasses.astuple(row) for row in rows]


def links_of(cw: Crosswalk, new_code: str) -> dict[str, str]:
    """Former commune code -> match, of one new commune."""
    return {x.old_commune_code: x.match for x in cw.links if x.new_commune_code == new_code}


def names(codes) -> set[str]:
    ref = load_reference()
    return {ref.units[code].full_name for code in codes}


def test_bac_gia_nghia_is_its_four_former_communes_whole(cw):
    got = links_of(cw, "24611")
    assert names(got) == {
        "Phường Quảng Thành",
        "Phường Nghĩa Thành",
        "Phường Nghĩa Đức",
        "Xã Đắk Ha",
    }
    assert set(got.values()) == {WHOLE}
    link = next(x for x in cw.links if x.old_commune_code == "24622")  # Xã Đắk Ha
    assert (link.old_district_code, link.old_province_code) == ("661", "67")
    assert (link.new_province_code, link.source_text) == ("68", "Xã Đắk Ha")
    # 24611 was Phường Nghĩa Đức until 30/06/2025: the code itself is one of the four.
    assert cw.whole_destination("24611") == "24611"


def test_a_commune_named_under_two_new_communes_is_partial_for_both(cw):
    # 22978 Xã Tuy Phong = Xã Phan Dũng + Xã Phong Phú; Phong Phú is also in 22972.
    assert links_of(cw, "22978") == {"22975": WHOLE, "22978": PARTIAL}
    phong_phu = cw.destinations("22978")
    assert [(x.new_commune_code, x.match) for x in phong_phu] == [
        ("22972", PARTIAL),
        ("22978", PARTIAL),
    ]
    assert cw.whole_destination("22978") is None
    assert cw.whole_destination("22975") == "22978"


def test_a_qualifier_in_parentheses_decides_between_same_named_communes(cw):
    ref = load_reference()
    binh_thanh = [u for u in ref.former_communes("68") + ref.former_communes("60")]
    binh_thanh = [u.code for u in binh_thanh if u.name == "Bình Thạnh"]
    assert len(binh_thanh) == 2  # one in Tuy Phong (60), one in Đức Trọng (68)
    tuy_phong = cw.destinations("22999")
    assert [(x.old_district_code, x.new_commune_code) for x in tuy_phong] == [("595", "22969")]
    assert tuy_phong[0].source_text == "Xã Bình Thạnh (huyện Tuy Phong)"
    (duc_trong,) = [c for c in binh_thanh if c != "22999"]
    assert [x.new_commune_code for x in cw.destinations(duc_trong)] == ["24871"]
    # Phường 1 of Bảo Lộc and of Đà Lạt
    assert links_of(cw, "24823")["24823"] == WHOLE  # Phường 1 (thành phố Bảo Lộc)
    assert "24784" in links_of(cw, "24781")  # Phường 1 (thành phố Đà Lạt)


def test_unchanged_is_the_former_commune_of_the_same_name(cw):
    link = cw.destinations("24616")
    assert [(x.new_commune_code, x.match, x.source_text) for x in link] == [
        ("24616", WHOLE, "giữ nguyên")
    ]
    assert names(links_of(cw, "24620")) == {"Xã Quảng Hoà"}


def test_apostrophes_spacing_and_tone_placement_do_not_count(cw):
    assert names(links_of(cw, "24820")) >= {"Xã Đạm Bri"}  # text: Xã ĐamBri
    assert names(links_of(cw, "24829")) >= {"Phường B'lao"}  # text: Phường B’Lao
    assert names(links_of(cw, "24615")) >= {"Xã Đăk R'Moan"}  # text: Xã Đắk R’Moan
    assert "23218" in links_of(cw, "23191")  # text `Xã Vũ Hòa`, reference `Xã Vũ Hoà`
    assert names(links_of(cw, "25099")) == {  # text: `Thị trấn Mađaguôi, Xã Mađaguôi`
        "Thị trấn Ma Đa Guôi",
        "Xã Ma Đa Guôi",
        "Xã Đạ Oai",
    }


def test_dak_nang_and_da_knang_are_two_communes(cw):
    dak_nang = next(x for x in cw.links if x.source_text == "Xã Đắk Nang")
    da_knang = next(x for x in cw.links if x.source_text == "Xã Đạ K’Nàng")
    assert (dak_nang.old_commune_code, dak_nang.new_commune_code) == ("24709", "24712")
    assert (da_knang.old_commune_code, da_knang.new_commune_code) == ("24889", "24886")
    # The letters count: `Đắk N’Drung` in the text is not the former `Đắk N'Dung`.
    row = cw.unmatched_row("24727")
    assert row is not None
    assert row.old_province_code == "67"
    assert "not named" in row.why
    assert "Xã Đắk N’Drung" in row.candidates


def test_mot_phan_and_phan_con_lai_fragments_are_partial(cw):
    ba_dinh = {x.source_text: x for x in cw.links if x.new_commune_code == "00004"}
    thuy_khue = ba_dinh["một phần diện tích TN của phường Thụy Khuê"]
    assert thuy_khue.match == PARTIAL
    assert names([thuy_khue.old_commune_code]) == {"Phường Thụy Khuê"}
    cua_dong = ba_dinh["phần còn lại của phường Cửa Đông"]
    assert cua_dong.match == PARTIAL
    # a list after `một phần ... của các phường` carries the partial to its bare names
    assert ba_dinh["Kim Mã"].match == PARTIAL
    assert ba_dinh["Phường Quán Thánh"].match == WHOLE
    # `(phần còn lại sau khi sáp nhập vào phường Ba Đình)` with a comma inside
    ngoc_ha = {x.source_text: x.match for x in cw.links if x.new_commune_code == "00008"}
    assert ngoc_ha["Phường Ngọc Hà (phần còn lại sau khi sáp nhập vào phường Ba Đình)"] == PARTIAL


def test_parser_reads_the_forms_of_the_text():
    fragments = parse_before_merger(
        "Xã Tiền Phong và một phần diện tích tự nhiên, quy mô dân số của xã  Xã Vầy Nưa"
    )
    assert [(f.names[:1], f.partial) for f in fragments] == [
        (("Tiền Phong",), False),
        (("Vầy Nưa",), True),
    ]
    (lao_chai,) = parse_before_merger("Xã Lao Và Chải")  # ` và ` joins, `Và` is a name
    assert lao_chai.names[0] == "Lao Và Chải"
    (qualified,) = parse_before_merger(
        "Phường Quang Trung (quận Đống Đa) (phần còn lại sau khi sáp nhập vào phường Đống Đa)"
    )
    assert qualified.qualifiers == ("Đống Đa",)
    assert qualified.partial
    assert parse_before_merger("Xóm Tổng Dùn, Xã Quảng Lâm")[0].names == ()


def test_a_fragment_keeps_the_text_as_written_and_is_matched_cleaned():
    """The published text doubles spaces and mixes decomposed letters: a fragment is
    matched as `clean` gives it, and kept as the file writes it, to be found in it."""
    decomposed = unicodedata.normalize("NFD", "Xã Đắk Ha")
    text = f"các phường  Phường Giáp Bát,  {decomposed} và  Xã Lao Và Chải (huyện X, tỉnh Y)"
    fragments = parse_before_merger(text)
    assert [f.text for f in fragments] == [
        "các phường Phường Giáp Bát",
        "Xã Đắk Ha",
        "Xã Lao Và Chải (huyện X, tỉnh Y)",
    ]
    assert [f.source for f in fragments] == [
        "các phường  Phường Giáp Bát",
        decomposed,
        "Xã Lao Và Chải (huyện X, tỉnh Y)",
    ]
    assert all(f.source in text for f in fragments)


def test_every_link_s_source_text_is_found_in_the_merger_text_as_written(cw):
    """`source_text` is the fragment(s) of `before_merger` each link was read from, joined
    by `; `, each as the file writes it: an analyst finds it with `strpos`."""
    written = {row["new_code"].strip(): row["before_merger"] for row in read_merger()}
    assert len(cw.links) > 10_000
    missing = [
        link
        for link in cw.links
        if not all(part in written[link.new_commune_code] for part in link.source_text.split("; "))
    ]
    assert missing == []
    # 00325 -> 00331: `các phường  Phường Giáp Bát`, its two spaces as the text has them
    (link,) = [
        x for x in cw.links if (x.old_commune_code, x.new_commune_code) == ("00325", "00331")
    ]
    assert "  " in link.source_text


def test_the_texts_own_spelling_settles_units_of_one_district_differing_by_prefix(cw):
    # 03433 Xã Bum Tở names `Thị trấn Mường Tè`, 03445 names `Xã Mường Tè`: two former units
    # of one district whose names differ only by the prefix. Both fit either name; exactly
    # one candidate is written as the text writes it, so that one is meant.
    assert [x.new_commune_code for x in cw.destinations("03433")] == ["03433"]
    assert [x.new_commune_code for x in cw.destinations("03445")] == ["03445"]
    assert cw.unmatched_row("03433") is None


def test_an_ambiguous_name_is_unmatched_with_its_candidates(cw):
    # Two `Xã Long Bình` of the former Hậu Giang (93) and Sóc Trăng (94), merged into Cần Thơ:
    # neither a qualifier, the other names of the text nor the spelling tells them apart.
    for code in ("31474", "31744"):
        row = cw.unmatched_row(code)
        assert row is not None
        assert cw.destinations(code) == []
        assert "fits 2 former communes" in row.why
        assert row.candidates == "31474 Xã Long Bình; 31744 Xã Long Bình"


def test_a_small_world_ambiguity_and_its_qualifier():
    ref = load_reference()
    rows = [
        {
            "new_code": "24871",
            "new_name": "X",
            "province_code": "68",
            "before_merger": "Xã Bình Thạnh",
        },
    ]
    cw = build_crosswalk(ref, rows)
    assert cw.destinations("22999") == []
    assert cw.destinations("24970") == []
    row = cw.unmatched_row("22999")
    assert row is not None
    assert row.candidates == "22999 Xã Bình Thạnh; 24970 Xã Bình Thạnh"
    rows[0]["before_merger"] = "Xã Bình Thạnh (huyện Đức Trọng)"
    cw = build_crosswalk(ref, rows)
    assert [x.new_commune_code for x in cw.destinations("24970")] == ["24871"]
    assert "not named" in cw.unmatched_row("22999").why


def test_every_former_commune_of_60_67_68_is_matched_or_unmatched_with_a_reason(cw):
    ref = load_reference()
    for province in ("60", "67", "68"):
        for unit in ref.former_communes(province):
            linked = cw.destinations(unit.code)
            row = cw.unmatched_row(unit.code)
            assert bool(linked) != (row is not None), unit
            if row is not None:
                assert row.why
                assert row.old_province_code == province
    assert cw.rates()["67"] == (70, 71)
    unmatched = sorted(
        u.old_commune_code for u in cw.unmatched if u.old_province_code in {"60", "67", "68"}
    )
    assert unmatched == ["23140", "24727", "24859", "24973"]


def test_every_former_commune_nationally_has_a_link_or_one_unmatched_row(cw):
    ref = load_reference()
    communes = [u.code for u in ref.units.values() if u.level == "commune"]
    unmatched = [u.old_commune_code for u in cw.unmatched]
    assert len(unmatched) == len(set(unmatched))
    linked = {x.old_commune_code for x in cw.links}
    assert linked.isdisjoint(unmatched)
    assert linked | set(unmatched) == set(communes)
    current = ref.current_units or {}
    assert all(x.new_commune_code in current for x in cw.links)
    assert all(current[x.new_commune_code].parent_code == x.new_province_code for x in cw.links)


def test_national_match_rate(cw):
    matched, total = cw.national_rate()
    assert total == 10035
    # 99.1%. What stays unmatched is named with other letters than the reference's
    # (Quý/Quí, Đak/Đăk, Hua Bum/Hua Bun), not named at all, or a name several former
    # communes share that nothing in the text settles (Long Bình of 93 and 94).
    assert matched / total >= 0.99
    # The qualifiers alone, without the district context of the other names of a text:
    strict = build_crosswalk(load_reference(), _rows(), context=False)
    assert strict.national_rate()[0] < matched


def test_near_spellings_are_paired_only_when_asked():
    ref = load_reference()
    loose = build_crosswalk(ref, _rows(), spelling=True)
    # one fragment, one former commune, same former district: Đắk N’Drung -> Đắk N'Dung
    assert [(x.new_commune_code, x.match) for x in loose.destinations("24727")] == [
        ("24717", WHOLE)
    ]
    assert loose.unmatched_row("24727") is None
    assert all(loose.rates()[p][0] == loose.rates()[p][1] for p in ("60", "67", "68"))
    matched, total = loose.national_rate()
    assert matched / total >= 0.99
    # what stays unmatched is what was ambiguous or had no near spelling
    assert {u.old_commune_code for u in loose.unmatched} < {
        u.old_commune_code for u in load_crosswalk().unmatched
    }


def _rows():
    from etl.contract.crosswalk import read_merger

    return read_merger()


def test_command_line_prints_rates_and_unmatched_rows(capsys):
    assert main(["--province", "67", "60", "68"]) == 0
    out = capsys.readouterr().out
    assert "67 Đắk Nông: 70/71" in out
    assert "Toàn quốc / national: " in out
    assert "24727 Xã Đắk N'Dung" in out


def test_built_warehouse_has_the_crosswalk_and_its_unmatched_rows(settings, monkeypatch):
    import etl.quality.validate

    # The checks across files and years are other tests' business (and under change).
    monkeypatch.setattr(etl.quality.validate, "check_warehouse", lambda con, run=None: {})
    rows = [HTX_HEADER, htx_row(1, "6400000001")]
    write_xlsx(
        settings.landing_dir / "663_2023.xlsx", {"ThongTin": info_rows("663", 2023), "HTX": rows}
    )
    run_steps(settings)
    cw = load_crosswalk()
    assert query(settings, "select count(*) from core.bridge_commune_crosswalk") == [
        (len(cw.links),)
    ]
    assert query(
        settings,
        "select old_district_code, old_province_code, new_province_code, match, source_text "
        "from core.bridge_commune_crosswalk where old_commune_code = '24622'",
    ) == [("661", "67", "68", "whole", "Xã Đắk Ha")]
    got = query(
        settings,
        "select old_commune_code, old_commune_name, old_district_code, why like '%not named%', "
        "possible_new_codes from audit.crosswalk_unmatched "
        "where old_province_code in ('60', '67', '68') order by 1",
    )
    assert got == [  # with the new commune whose text spells it nearly
        ("23140", "Xã Thuận Quí", "598", True, "23143"),
        ("24727", "Xã Đắk N'Dung", "665", True, "24717"),
        ("24859", "Xã Đạ M' Rong", "674", True, "24875"),
        ("24973", "Xã N'Thol Hạ", "678", True, "24976"),
    ]
    assert query(settings, "select count(*) from audit.crosswalk_unmatched") == [
        (len(cw.unmatched),)
    ]
    comments = query(
        settings,
        "select table_name, comment from duckdb_tables() "
        "where table_name in ('bridge_commune_crosswalk', 'crosswalk_unmatched') order by 1",
    )
    assert [name for name, comment in comments if comment] == [
        "bridge_commune_crosswalk",
        "crosswalk_unmatched",
    ]
