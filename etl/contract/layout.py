"""The district workbook's layout: sheets, columns, aliases and value kinds, as the spec states.

This is the single description of the template's shape: the reader, the validator, the
sample generator and the official template take their headers from here. The lists a
column may hold (sectors, ratings, funding sources, OCOP groups, programme codes) are the
suites' rules: they are read from `etl.contract.rules`, never typed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from etl.contract.rules import current as _current_rules


@dataclass(frozen=True)
class Column:
    key: str  # the column's name in staging and the warehouse
    header: str  # the template's header text
    kind: str  # text | code | int | money | number | date | yesno | category | program
    required: bool = False  # the sheet is rejected when the column is missing
    aliases: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()  # for kind == "category"
    units: tuple[str, ...] = ()  # a count's units a cell may carry (`25 người`, rule 14)
    per_year: bool = False  # money a year: a header's `/tháng` (a month) is scaled by 12
    says_loss: bool = False  # money that may be negative, its sign in words (`Lỗ 50`)
    # A cell rule of the column's own beside its kind's, as clerks write the value: `stars`
    # (`★★★★`, `Bốn sao`), `year` (`Năm 2023`, a date), `funding_source` (`NS tỉnh`),
    # `rating` (`Loại Khá`), `sector` (`NN`, `Quỹ TDND`), `score` (`85/100`).
    reads: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.header, *self.aliases)


@dataclass(frozen=True)
class Sheet:
    key: str  # staging name: htx, hotro, ocop, lienket
    name: str  # the template's sheet name
    aliases: tuple[str, ...]
    columns: tuple[Column, ...]
    required: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


_RULES = _current_rules()
SECTORS: tuple[str, ...] = _RULES.value_set("htx", "sector")
RATINGS: tuple[str, ...] = _RULES.value_set("htx", "rating")
# Every source of any report year (the reader's labels); which are in force in a year is
# config/funding_sources.csv's, judged by the suite's `funding_source_known` lookup.
FUNDING_SOURCES: tuple[str, ...] = _RULES.listed("hotro", "funding_source")
OCOP_GROUPS: tuple[str, ...] = _RULES.value_set("ocop", "product_group")

# The marts' rating mix (marts.district_year, marts.commune_year), its columns named by the
# warehouse contract: one column per rating with a score band, best first; a rating without
# one (`Chưa xếp loại`) counts as `unrated`, as a cooperative with no rating does.
RATED_COLUMNS = ("rated_tot", "rated_kha", "rated_trung_binh", "rated_yeu")


def _rating_mix() -> tuple[tuple[str, str], ...]:
    banded = tuple(band.rating for band in _RULES.rating_bands())
    if len(banded) != len(RATED_COLUMNS):
        raise ValueError(
            f"expectations/htx.json bands {len(banded)} ratings {list(banded)}, the marts have "
            f"a column for {len(RATED_COLUMNS)} {list(RATED_COLUMNS)}: give each rating one"
        )
    unbanded = tuple(rating for rating in RATINGS if rating not in banded)
    return (*zip(RATED_COLUMNS, banded, strict=True), *(("unrated", r) for r in unbanded))


# (mart column, rating) for every rating of the suite, in the suite's order of rank.
RATING_MIX = _rating_mix()

# The programme codes are the suite's; here only their names, Vietnamese and English.
_PROGRAM_NAMES = {
    "DA167": (
        "Đề án lựa chọn, hoàn thiện, nhân rộng mô hình HTX kiểu mới hiệu quả "
        "(Quyết định 167/QĐ-TTg, 03/02/2021)",
        "Scheme to select, perfect and replicate effective new-model cooperatives "
        "(Decision 167/QD-TTg, 03/02/2021)",
    ),
    "NTM": (
        "Chương trình mục tiêu quốc gia xây dựng nông thôn mới",
        "National target programme for New Rural Development",
    ),
    "OCOP": ("Chương trình mỗi xã một sản phẩm", "One Commune One Product programme"),
    "CNNT": (
        "Chương trình sản phẩm công nghiệp nông thôn tiêu biểu",
        "Programme for outstanding rural industrial products",
    ),
    "KHAC": ("Hỗ trợ khác", "Other support"),
}
# The names as a chart's axis says them to officials: short, and never a code alone (`KHAC`).
_PROGRAM_SHORT_NAMES = {
    "DA167": "Đề án 167",
    "NTM": "Nông thôn mới",
    "OCOP": "OCOP",
    "CNNT": "CNNT tiêu biểu",
    "KHAC": "Hỗ trợ khác",
}


def _programs() -> tuple[tuple[str, str, str], ...]:
    codes = _RULES.value_set("hotro", "program")
    for names in (_PROGRAM_NAMES, _PROGRAM_SHORT_NAMES):
        if set(codes) != set(names):
            raise ValueError(
                f"programme codes of expectations/hotro.json {sorted(codes)} and the names in "
                f"etl/contract/layout.py {sorted(names)} differ: name every code once"
            )
    return tuple((code, *_PROGRAM_NAMES[code]) for code in codes)


# Programme code, Vietnamese name, English name, in the suite's order.
PROGRAMS = _programs()
# Programme code -> its short name (`KHAC` -> `Hỗ trợ khác`), for a chart's axis.
PROGRAM_SHORT_NAMES = {code: _PROGRAM_SHORT_NAMES[code] for code, _, _ in PROGRAMS}

COOP_CODE_ALIASES = ("Mã số thuế", "MST", "Mã HTX", "Mã số doanh nghiệp")

HTX = Sheet(
    key="htx",
    name="HTX",
    aliases=("Hợp tác xã", "Danh sach HTX"),
    required=True,
    columns=(
        Column("stt", "STT", "text", aliases=("TT", "Số TT", "Số thứ tự")),
        Column("coop_code", "Mã số HTX", "code", required=True, aliases=COOP_CODE_ALIASES),
        Column("name", "Tên HTX", "text", required=True, aliases=("Tên hợp tác xã",)),
        Column(
            "commune_name", "Xã/Phường", "text", aliases=("Xã", "Địa chỉ xã", "Xã/Phường/Thị trấn")
        ),
        Column(
            "founded_on",
            "Ngày thành lập",
            "date",
            # Report forms' wordings; a year alone (`Năm thành lập`: 2015) reads as that year.
            aliases=(
                "Ngày tháng năm thành lập",
                "Ngày, tháng, năm thành lập",
                "Ngày thành lập HTX",
                "Thời gian thành lập",
                "Năm thành lập",
            ),
        ),
        Column("sector", "Lĩnh vực", "category", allowed=SECTORS, reads="sector"),
        Column(
            "in_da167",
            "Tham gia Đề án 167",
            "yesno",
            # `ĐA`: the usual short form of `Đề án`; the scheme is named by its number alone.
            aliases=("Tham gia ĐA 167", "Đề án 167", "ĐA 167", "Thuộc Đề án 167"),
        ),
        Column(
            "members",
            "Số thành viên",
            "int",
            units=("người", "thành viên", "xã viên", "hộ"),
            # `TV`: the usual short form of `thành viên`.
            aliases=("Số TV", "Số thành viên HTX"),
        ),
        Column(
            "workers",
            "Số lao động",
            "int",
            units=("người", "lao động"),
            # `LĐ`: the usual short form of `lao động`.
            aliases=("Số lao động thường xuyên", "Số LĐ", "Số LĐ thường xuyên"),
        ),
        Column("charter_capital_mvnd", "Vốn điều lệ", "money"),
        Column("total_assets_mvnd", "Tổng tài sản", "money"),
        Column("revenue_mvnd", "Doanh thu", "money"),
        Column(
            "profit_before_tax_mvnd",
            "Lợi nhuận trước thuế",
            "money",
            says_loss=True,
            # `Lãi`: profit; `LN`: the usual short form of `lợi nhuận`. `Lợi nhuận` alone may
            # be after tax: a warning names the column it lacks (`missing_column_like`).
            aliases=("Lãi trước thuế", "LN trước thuế"),
        ),
        Column(
            "avg_income_mvnd",
            "Thu nhập bình quân",
            "money",
            per_year=True,
            # `BQ`, `TNBQ`: the usual short forms of `bình quân`, `thu nhập bình quân`.
            aliases=("Thu nhập BQ", "TNBQ", "Thu nhập bình quân/người", "Thu nhập BQ/người"),
        ),
        Column("rating", "Xếp loại", "category", allowed=RATINGS, reads="rating"),
        Column("score", "Điểm", "number", units=("điểm",), reads="score"),
        Column("has_offtake_contract", "Liên kết tiêu thụ", "yesno"),
        Column("note", "Ghi chú", "text"),
    ),
)

HOTRO = Sheet(
    key="hotro",
    name="HoTro",
    aliases=("Hỗ trợ",),
    columns=(
        Column("coop_code", "Mã số HTX", "code", required=True, aliases=COOP_CODE_ALIASES),
        # `… hỗ trợ`: the table's headers as forms often write them (helper BU: a support
        # table headed so was rejected, or read without its content and year).
        Column(
            "program",
            "Chương trình",
            "program",
            required=True,
            aliases=("Tên chương trình", "Chương trình hỗ trợ", "Tên chương trình hỗ trợ"),
        ),
        Column("content", "Nội dung", "text", aliases=("Nội dung hỗ trợ",)),
        Column(
            "funding_source",
            "Nguồn vốn",
            "category",
            allowed=FUNDING_SOURCES,
            reads="funding_source",
            aliases=("Nguồn kinh phí", "Nguồn vốn hỗ trợ"),
        ),
        Column("amount_mvnd", "Kinh phí", "money", required=True, aliases=("Kinh phí hỗ trợ",)),
        Column("year", "Năm", "int", reads="year", aliases=("Năm hỗ trợ",)),
    ),
)

OCOP = Sheet(
    key="ocop",
    name="OCOP",
    aliases=(),
    columns=(
        Column("coop_code", "Mã số HTX", "code", required=True, aliases=COOP_CODE_ALIASES),
        Column(
            "product_name", "Tên sản phẩm", "text", required=True, aliases=("Tên sản phẩm OCOP",)
        ),
        Column("product_group", "Nhóm sản phẩm", "category", allowed=OCOP_GROUPS),
        Column(
            "stars",
            "Số sao",
            "int",
            required=True,
            units=("sao",),
            reads="stars",
            aliases=("Hạng sao", "Xếp hạng sao", "Số sao OCOP"),
        ),
        # `QĐ`: the usual short form of `quyết định`; a certificate is the decision's
        # (helper BU: `Ngày QĐ` was read as no column, and no certificate was valid).
        Column(
            "decision_no", "Số quyết định", "text", aliases=("Số QĐ", "Số quyết định công nhận")
        ),
        Column(
            "decision_date",
            "Ngày quyết định",
            "date",
            aliases=("Ngày QĐ", "Ngày quyết định công nhận", "Ngày công nhận", "Ngày cấp"),
        ),
    ),
)

LIENKET = Sheet(
    key="lienket",
    name="LienKet",
    aliases=("Liên kết",),
    columns=(
        Column("coop_code", "Mã số HTX", "code", required=True, aliases=COOP_CODE_ALIASES),
        Column(
            "partner",
            "Doanh nghiệp liên kết",
            "text",
            required=True,
            aliases=("Tên doanh nghiệp liên kết", "Doanh nghiệp", "Tên doanh nghiệp"),
        ),
        Column("product", "Sản phẩm", "text"),
        Column("volume_tonnes", "Sản lượng (tấn)", "number", units=("tấn",)),
        Column(
            "contract_value_mvnd", "Giá trị hợp đồng", "money", aliases=("Giá trị", "Giá trị HĐ")
        ),
    ),
)

DATA_SHEETS = (HTX, HOTRO, OCOP, LIENKET)

# The metadata sheet: key/value rows in columns A and B.
THONGTIN_NAMES = ("ThongTin", "Thông tin")
THONGTIN_KEYS = {
    "unit_code": "Mã đơn vị",
    "unit_name": "Tên đơn vị",
    "report_year": "Năm báo cáo",
    "prepared_on": "Ngày lập",
    "prepared_by": "Người lập",
    "money_unit": "Đơn vị tính",
}
# Other labels of the same keys: `ĐVT`, the usual short form of Đơn vị tính.
THONGTIN_ALIASES = {"ĐVT": "money_unit"}
# Labels report forms use for the same keys (`Mã đơn vị báo cáo`, `Kỳ báo cáo: Năm 2023`):
# a value under one counts only where it reads as one of its key and the sheet has no row
# of the key's own label (`etl.read.reader._read_info`). `Đơn vị báo cáo` is none: it often
# names an office (`Sở Kế hoạch và Đầu tư tỉnh …`), which would name another unit.
THONGTIN_FORM_LABELS = {
    "Mã đơn vị báo cáo": "unit_code",
    "Năm": "report_year",
    "Kỳ báo cáo": "report_year",
    "Ngày lập báo cáo": "prepared_on",
}

FIRST_YEAR, LAST_YEAR = 2021, 2030
