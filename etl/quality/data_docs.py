"""GX Data Docs of the published warehouse: one stored validation result per suite, built
once per publish by GX's own site builder into `HTX_EXPORT_DIR/data_docs/`.

Validating every batch through `ValidationDefinition.run` would store every result (see
`etl.quality.validate._run`), so the batches keep `batch.validate`. At export time, for a
newly published warehouse only, each suite gets a compact summary instead: a one-row frame
with a column per rule of the suite holding the number of cells that break it over the
warehouse's files (`audit.rejected_row`). A summary suite named like the suite expects each
count to be 0 (its meta keeps the rule's severity and bilingual message); its
`ValidationDefinition.run` stores the result in an ephemeral GX context, and
`context.build_data_docs()` writes the site. The site is built in a folder beside the
target and swapped in whole, so a reader never sees half a site and pages of earlier runs
do not linger. A site keeps the key of what it shows (`CONTENT_KEY`: the suites, the
counts, GX's version): when the site to replace, or the published one, shows the same, it
is copied instead of rendered again (GX's validations and site builder cost seconds). Under
`htx run`, the site of a new build is rendered by the warm validator
(`etl.quality.validator`) while the publish DAG runs: the load hands it over and ends, and
the export waits for it before moving it in place (`prepare_data_docs`,
`publish_prepared`). Nothing is downloaded: the pages reference GX's CDN styles and scripts
as GX writes them (GX's wheel ships none of them), and GX's analytics are off. GX's logo,
which its pages fetch from GX's bucket on every view, is pointed at the copy the site holds
(`_local_logo`). GX's index draws its tables with scripts from those CDNs, so the index also
gets a plain list of the suites, their results and pages (`_plain_index`), which opens from
disk without a network.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from etl.config import Settings

log = logging.getLogger(__name__)

SITE_NAME = "htx_data_docs"
DOCS_DIR = "data_docs"
FINGERPRINT = "htx_build_fingerprint.txt"  # in the site: the build it describes
CONTENT_KEY = "htx_content_key.txt"  # in the site: what its pages show (`content_key`)
RESULTS = "htx_results"  # in the site: each suite's stored result and its key (`_build`)


def data_docs_dir(settings: Settings) -> Path:
    return settings.export_dir / DOCS_DIR


def data_docs_index(settings: Settings) -> Path:
    """The site's entry page (what the quality report links to)."""
    return data_docs_dir(settings) / "index.html"


# Per suite (its key in `load_suite_documents`), per rule: the cells that break it and the
# files they sit on.
Counts = dict[str, dict[str, tuple[int, int]]]


def rule_counts(con, documents: dict[str, dict]) -> Counts:
    """Per suite and rule: cells that break it and files they sit on, over the warehouse's
    audit. A rule of one suite counts every failure of its name; a rule several sheets'
    suites share (`coop_in_htx_sheet`: HoTro, OCOP, LienKet) counts, in each, the failures
    on that suite's sheet (`meta.sheet`, by the names the reader knows it by); one without
    a sheet counts in HTX's."""
    from etl.contract.layout import DATA_SHEETS, HTX
    from etl.read.reader import _sheet_key

    owners: dict[str, list[str]] = {}
    for key, document in documents.items():
        for rule in _rules({"expectations": document.get("expectations", ())}):
            owners.setdefault(rule, []).append(key)  # a suite GX cannot render fails there
    sheet_of = {  # a sheet's name as written -> the layout sheet it is, by its match key
        _sheet_key(name): sheet.name for sheet in DATA_SHEETS for name in sheet.names
    }
    suite_sheet = {key: (d.get("meta") or {}).get("sheet") for key, d in documents.items()}
    cells: dict[tuple[str, str], int] = {}
    files: dict[tuple[str, str], set[int]] = {}
    rows = con.execute(
        "select rule, sheet, file_id, count(*) from audit.rejected_row group by all"
    ).fetchall()
    for rule, sheet, file_id, n in rows:
        suites = owners.get(rule, ())
        if len(suites) > 1:
            # A finding without a sheet is the file's: the required HTX sheet's suite.
            layout = sheet_of.get(_sheet_key(sheet)) if sheet else HTX.name
            suites = [k for k in suites if suite_sheet[k] == layout]
        for suite in suites:
            cells[suite, rule] = cells.get((suite, rule), 0) + int(n)
            files.setdefault((suite, rule), set()).add(int(file_id))
    counts: Counts = {}
    for (suite, rule), n in cells.items():
        counts.setdefault(suite, {})[rule] = (n, len(files[suite, rule]))
    return counts


def _rules(document: dict) -> dict[str, dict]:
    """A suite's rules (`meta.rule`, else the expectation type), each with its first meta."""
    rules: dict[str, dict] = {}
    for item in document["expectations"]:
        meta = item.get("meta") or {}
        rules.setdefault(meta.get("rule", item["type"]), meta)
    return rules


def build_data_docs(settings: Settings) -> Path:
    """Store one summary result per suite and build the Data Docs site; its index.html."""
    return build_site(settings.warehouse, data_docs_dir(settings))


def content_key(documents: dict[str, dict], counts: Counts) -> str:
    """What a site's pages show: the suites, each rule's cells and files, GX's version."""
    shown = {
        "gx": _gx_version(),
        "documents": documents,
        "counts": sorted(
            [suite, rule, *n] for suite, of in counts.items() for rule, n in of.items()
        ),
    }
    return _digest(shown)


def build_site(
    warehouse: Path, target: Path, reuse: Path | None = None, *, submit: bool = False
) -> Path:
    """`build_data_docs` from the warehouse's path and the site's folder. The site keeps the
    fingerprint of the build it describes (`FINGERPRINT`) and the key of what it shows
    (`CONTENT_KEY`). A site of the same key at `target` or `reuse` is copied, not rendered.

    A site to render is rendered by htx run's warm validator when there is one (GX is
    imported there already). With `submit`, this returns as soon as the validator has the
    work (`validator.submit`), before the site is in place: `validator.settle` waits for it.
    Either way the validator reads no warehouse: what the site shows is read here."""
    from etl.quality import validator
    from etl.quality.validate import load_suite_documents

    # A render handed to the validator earlier in this run (a load retried) ends first: it
    # must not write the folders this build is about to use.
    earlier = validator.settle()
    if earlier is not None:
        log.warning("an earlier GX Data Docs render failed:\n%s", earlier)
    documents = load_suite_documents()
    counts, fingerprint = _read(warehouse, documents)
    key = content_key(documents, counts)
    building = target.with_name(f".{target.name}.building")
    shutil.rmtree(building, ignore_errors=True)  # left by a run killed mid-build, if any
    same = next((site for site in (target, reuse) if site and _shows(site, key)), None)
    if same is not None:
        try:
            shutil.copytree(same, building)
            log.info("GX Data Docs unchanged: copied from %s", same)
            _finish(building, target, key, fingerprint)
        finally:
            shutil.rmtree(building, ignore_errors=True)
    else:
        previous = next((site for site in (reuse, target) if site and site.is_dir()), None)
        work = (building, target, documents, counts, previous, key, fingerprint)
        if submit and validator.submit(_render, *work):
            log.info("GX Data Docs: %s, being rendered by the warm validator", target)
            return target / "index.html"
        validator.call(_render, *work)
    log.info("GX Data Docs: %s", target / "index.html")
    return target / "index.html"


def _read(warehouse: Path, documents: dict[str, dict]) -> tuple[Counts, str | None]:
    """What a site of the warehouse shows and names: its rule counts, its fingerprint."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return rule_counts(con, documents), _fingerprint(con)
    finally:
        con.close()


def _render(
    building: Path,
    target: Path,
    documents: dict[str, dict],
    counts: Counts,
    previous: Path | None,
    key: str,
    fingerprint: str | None,
) -> None:
    """Render the site in the folder `building` (`_build`), then put it in place of `target`
    whole: a process killed meanwhile leaves `building` (removed by the next build) and the
    earlier `target`, never part of a site at `target`."""
    shutil.rmtree(building, ignore_errors=True)
    try:
        building.mkdir(parents=True)
        _build(building, documents, counts, previous)
        _finish(building, target, key, fingerprint)
    finally:
        shutil.rmtree(building, ignore_errors=True)


def _finish(building: Path, target: Path, key: str, fingerprint: str | None) -> None:
    """Stamp the site built in `building` with its key and fingerprint; put it at `target`."""
    _local_logo(building)
    (building / CONTENT_KEY).write_text(key, encoding="utf-8")
    (building / FINGERPRINT).write_text(fingerprint or "", encoding="utf-8")
    _replace_dir(building, target)


# GX's navbar takes its logo from GX's bucket, with the time of each page view appended
# (`add_data_context_id_to_url`), and its dark style a dark logo from there, although the
# site's `static/images` holds the logo: offline a broken image on every page, online a
# request to GX on every view.
_GX_IMAGES = re.compile(
    r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/"
    r"(?:logo-long|full_logo_dark)\.png(?:\?[^\"')\s]*)?"
)
_LOGO = Path("static") / "images" / "logo-long.png"


def _local_logo(site: Path) -> None:
    """Point every page and style of the site at its own copy of GX's logo (a path relative
    to the file), not at GX's bucket. A site whose static files hold no logo is left as is."""
    if not (site / _LOGO).is_file():
        return
    for path in [*site.rglob("*.html"), *site.rglob("*.css")]:
        text = path.read_text(encoding="utf-8")
        local = Path(os.path.relpath(site / _LOGO, path.parent)).as_posix()
        changed = _GX_IMAGES.sub(local, text)  # "../../static/images/…": no escapes
        if changed != text:
            path.write_text(changed, encoding="utf-8")


def _shows(site: Path, key: str) -> bool:
    """Whether a built site shows what `key` names."""
    stamp = site / CONTENT_KEY
    try:
        return (
            stamp.read_text(encoding="utf-8") == key
            and (site / "index.html").is_file()
            and (site / RESULTS).is_dir()
        )
    except OSError:
        return False


def _fingerprint(con) -> str | None:
    """The fingerprint the build was sealed with (`audit.build_info`), if any."""
    import duckdb

    try:
        row = con.execute(
            "select fingerprint from audit.build_info order by built_at desc limit 1"
        ).fetchone()
    except duckdb.Error:
        return None
    return row[0] if row else None


def _replace_dir(built: Path, target: Path) -> None:
    """Put the folder `built` in place of `target` whole (renames; the old one removed)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(built, target)
    shutil.rmtree(old, ignore_errors=True)


def prepare_data_docs(settings: Settings) -> Path | None:
    """At the end of a load: the site of the sealed build, beside it, for `publish_prepared`
    to put in place when that build is published. When the published site shows the same
    (`CONTENT_KEY`), it is copied. Else htx run's warm validator (GX imported there) renders
    it in the background while the run goes on (`build_site`'s `submit`): the counts and
    the fingerprint are read here, so that the validator never opens the build, which the
    publish DAG writes and swaps meanwhile. Without a validator (a scheduler's worker) it is
    rendered here, before this returns. A failure costs the early site only (logged); the
    export then builds it."""
    from etl.warehouse.build import build_path

    try:
        return build_site(
            build_path(settings),
            settings.build_dir / DOCS_DIR,
            reuse=data_docs_dir(settings),
            submit=True,
        )
    except Exception:
        log.warning("GX Data Docs not prepared with the build", exc_info=True)
        return None


def publish_prepared(settings: Settings) -> Path | None:
    """Move the site prepared with the build into the export folder when that build is the
    published warehouse (same fingerprint); None when there is none to take. A site still
    being rendered by the warm validator is waited for first (`validator.settle`); one whose
    rendering failed is not taken (logged: the export builds the site)."""
    import duckdb

    from etl.quality import validator

    failure = validator.settle()
    if failure is not None:
        log.warning("GX Data Docs not prepared with the build (built by the export):\n%s", failure)
        return None
    prepared = settings.build_dir / DOCS_DIR
    stamp = prepared / FINGERPRINT
    if not stamp.exists() or not settings.warehouse.exists():
        return None
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        published = _fingerprint(con)
    finally:
        con.close()
    if not published or stamp.read_text(encoding="utf-8") != published:
        return None
    target = data_docs_dir(settings)
    target.parent.mkdir(parents=True, exist_ok=True)  # a first publish makes the folder
    staged = target.with_name(f".{target.name}.building")
    shutil.rmtree(staged, ignore_errors=True)
    try:
        os.replace(prepared, staged)  # same file system: a rename
    except OSError:
        shutil.copytree(prepared, staged)
        shutil.rmtree(prepared, ignore_errors=True)
    _replace_dir(staged, target)
    return target / "index.html"


class DataDocsBuild:
    """`build_data_docs` in a child process, started before the other exports and awaited
    after them: importing GX (seconds) and building the site overlap the exports' own work
    instead of adding to it. The child reads the published warehouse read-only."""

    def __init__(self, settings: Settings) -> None:
        self.index = data_docs_index(settings)
        self._process = subprocess.Popen(  # noqa: S603 - this interpreter, this module
            [sys.executable, "-m", __name__, str(settings.warehouse), str(data_docs_dir(settings))],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait(self) -> Path:
        """The site's index.html, once built; raises when the build failed."""
        output, _ = self._process.communicate()
        if self._process.returncode != 0:
            raise RuntimeError(f"GX Data Docs build failed:\n{output[-4000:]}")
        return self.index


def _suite_key(document: dict, counts: dict[str, tuple[int, int]]) -> str:
    """What one suite's pages show: its document, its rules' counts (`counts`: the suite's
    own, by rule), GX's version."""
    rules = {rule: list(counts.get(rule, (0, 0))) for rule in _rules(document)}
    return _digest({"gx": _gx_version(), "document": document, "counts": rules})


def _gx_version() -> str:
    from importlib.metadata import version

    return version("great_expectations")


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode("utf-8")).hexdigest()


def _kept_results(previous: Path | None) -> dict[str, dict]:
    """The stored results of an earlier site (`RESULTS`), per suite: its key, its result's
    identifier and the result as GX serialized it. Empty when there is none to read."""
    if previous is None or not (previous / "index.html").is_file():
        return {}
    folder = previous / RESULTS
    kept = {}
    for path in folder.glob("*.json"):
        try:
            kept[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return kept


def _copy_pages(previous: Path, site: Path, names: list[str]) -> None:
    """The pages of an earlier site that stay: GX's static files and, per suite of `names`,
    its expectations page and its validation result's pages."""
    shutil.copytree(previous / "static", site / "static", dirs_exist_ok=True)
    for name in names:
        page = previous / "expectations" / f"{name}.html"
        (site / "expectations").mkdir(parents=True, exist_ok=True)
        shutil.copy2(page, site / "expectations" / page.name)
        shutil.copytree(previous / "validations" / name, site / "validations" / name)


def _build(
    site: Path,
    documents: dict[str, dict],
    counts: Counts,
    previous: Path | None = None,
) -> None:
    """Render the site into `site`. A suite whose pages of the `previous` site show the same
    (`_suite_key`) keeps them and its stored result: only the other suites are validated
    and rendered (GX's incremental build, `resource_identifiers`), and the index."""
    import great_expectations as gx
    import pandas as pd
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
    )
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    from etl.contract.findings import sheets_named
    from etl.contract.layout import HTX

    kept = _kept_results(previous)
    keys = {key: _suite_key(document, counts.get(key, {})) for key, document in documents.items()}
    same = [k for k in documents if kept.get(k.replace("/", "_"), {}).get("key") == keys[k]]
    if same and previous is not None:
        try:
            _copy_pages(previous, site, [k.replace("/", "_") for k in same])
        except OSError:
            log.warning("GX Data Docs: earlier pages not reusable, rendering all", exc_info=True)
            shutil.rmtree(site, ignore_errors=True)
            site.mkdir(parents=True)
            same = []
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(), analytics_enabled=False
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.variables.progress_bars = {"globally": False}  # type: ignore[assignment]
    context.add_data_docs_site(
        site_name=SITE_NAME,
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(site),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    store = context.validation_results_store
    source = context.data_sources.add_pandas("htx_rule_counts")
    rendered: list = []
    (site / RESULTS).mkdir(parents=True, exist_ok=True)
    for key, document in documents.items():
        name = key.replace("/", "_")
        rules = _rules(document)
        own = counts.get(key, {})
        # The suite's sheet by its contract name: the page speaks of every file's sheet.
        sheet = (document.get("meta") or {}).get("sheet") or ""
        expectations = [
            gx.expectations.ExpectColumnMaxToBeBetween(
                column=rule,
                min_value=0,
                max_value=0,
                meta={
                    "rule": rule,
                    "severity": meta.get("severity", "error"),
                    "message_vi": sheets_named(meta.get("message_vi", ""), sheet, HTX.name),
                    "message_en": sheets_named(meta.get("message_en", ""), sheet, HTX.name),
                    "files": own.get(rule, (0, 0))[1],
                    "notes": "Số ô vi phạm quy tắc trong các tệp của kho / "
                    "Cells breaking the rule in the warehouse's files",
                },
            )
            for rule, meta in rules.items()
        ]
        suite = context.suites.add(
            gx.ExpectationSuite(
                name=document["name"], meta=document.get("meta", {}), expectations=expectations
            )
        )
        if key in same:
            identifier = ValidationResultIdentifier.from_tuple(tuple(kept[name]["id"]))
            result = store.deserialize(kept[name]["result"])
            store.set(identifier, result)
        else:
            batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
            validation = context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=batch, suite=suite)
            )
            frame = pd.DataFrame([{rule: own.get(rule, (0, 0))[0] for rule in rules}])
            before = set(store.list_keys())
            validation.run(batch_parameters={"dataframe": frame}, result_format="SUMMARY")
            (identifier,) = set(store.list_keys()) - before
            result = store.get(identifier)
            rendered += [identifier, ExpectationSuiteIdentifier(name=document["name"])]
        stored = {
            "key": keys[key],
            "id": list(identifier.to_tuple()),
            "result": store.serialize(result),
        }
        (site / RESULTS / f"{name}.json").write_text(json.dumps(stored), encoding="utf-8")
    # Every page when none is kept (an empty list would also mean every page to GX).
    context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=rendered if same else None)
    _plain_index(site, documents)


PLAIN_INDEX_ID = "htx-plain-index"


def _plain_index(site: Path, documents: dict[str, dict]) -> None:
    """Put, at the top of GX's index page, a plain table of every suite: its result
    (passed or failed, from the stored result), its validation page and its expectations
    page. GX's own tables need jQuery and bootstrap-table from CDNs; this one is HTML."""
    import html

    rows = []
    for key, document in documents.items():
        name = key.replace("/", "_")
        suite = document["name"]
        stored = json.loads((site / RESULTS / f"{name}.json").read_text(encoding="utf-8"))
        success = json.loads(stored["result"]).get("success")
        status = "Đạt / Passed" if success else "Không đạt / Failed"
        pages = sorted((site / "validations" / name).rglob("*.html"))
        result = (
            f'<a href="{html.escape(pages[-1].relative_to(site).as_posix())}">{status}</a>'
            if pages
            else status
        )
        expectations = html.escape(f"expectations/{suite}.html")
        rows.append(
            f"<tr><td>{html.escape(suite)}</td><td>{result}</td>"
            f'<td><a href="{expectations}">{html.escape(suite)}</a></td></tr>'
        )
    block = (
        f'<section id="{PLAIN_INDEX_ID}" style="margin:1rem 3rem;font-family:sans-serif">'
        "<h2>Bộ kiểm tra và kết quả / Suites and results</h2>"
        '<table border="1" cellpadding="4" style="border-collapse:collapse">'
        "<tr><th>Bộ kiểm tra / Suite</th><th>Kết quả / Result</th>"
        "<th>Quy tắc / Expectations</th></tr>" + "".join(rows) + "</table></section>"
    )
    index = site / "index.html"
    page = index.read_text(encoding="utf-8")
    page, found = re.subn(r"(<body[^>]*>)", lambda m: m.group(1) + block, page, count=1)
    if not found:
        page = block + page
    index.write_text(page, encoding="utf-8")


if __name__ == "__main__":
    build_site(Path(sys.argv[1]), Path(sys.argv[2]))
