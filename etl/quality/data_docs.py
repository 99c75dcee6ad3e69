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
do not linger. Nothing is downloaded: the pages reference GX's CDN styles as GX writes
them, and GX's analytics are off.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from etl.config import Settings

log = logging.getLogger(__name__)

SITE_NAME = "htx_data_docs"
DOCS_DIR = "data_docs"


def data_docs_dir(settings: Settings) -> Path:
    return settings.export_dir / DOCS_DIR


def data_docs_index(settings: Settings) -> Path:
    """The site's entry page (what the quality report links to)."""
    return data_docs_dir(settings) / "index.html"


def rule_counts(con) -> dict[str, tuple[int, int]]:
    """Per rule: cells that break it and files they sit on, over the warehouse's audit."""
    return {
        rule: (int(cells), int(files))
        for rule, cells, files in con.execute(
            "select rule, count(*), count(distinct file_id) from audit.rejected_row group by rule"
        ).fetchall()
    }


def _rules(document: dict) -> dict[str, dict]:
    """A suite's rules (`meta.rule`, else the expectation type), each with its first meta."""
    rules: dict[str, dict] = {}
    for item in document["expectations"]:
        meta = item.get("meta") or {}
        rules.setdefault(meta.get("rule", item["type"]), meta)
    return rules


def build_data_docs(settings: Settings) -> Path:
    """Store one summary result per suite and build the Data Docs site; its index.html."""
    import duckdb

    from etl.quality.validate import load_suite_documents

    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        counts = rule_counts(con)
    finally:
        con.close()
    target = data_docs_dir(settings)
    building = target.with_name(f".{target.name}.building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    try:
        _build(building, load_suite_documents(), counts)
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            os.replace(building, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(building, target)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    log.info("GX Data Docs: %s", target / "index.html")
    return target / "index.html"


def _build(site: Path, documents: dict[str, dict], counts: dict[str, tuple[int, int]]) -> None:
    import great_expectations as gx
    import pandas as pd
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
    )

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
    source = context.data_sources.add_pandas("htx_rule_counts")
    for key, document in documents.items():
        name = key.replace("/", "_")
        rules = _rules(document)
        expectations = [
            gx.expectations.ExpectColumnMaxToBeBetween(
                column=rule,
                min_value=0,
                max_value=0,
                meta={
                    "rule": rule,
                    "severity": meta.get("severity", "error"),
                    "message_vi": meta.get("message_vi", ""),
                    "message_en": meta.get("message_en", ""),
                    "files": counts.get(rule, (0, 0))[1],
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
        batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch, suite=suite)
        )
        frame = pd.DataFrame([{rule: counts.get(rule, (0, 0))[0] for rule in rules}])
        validation.run(batch_parameters={"dataframe": frame}, result_format="SUMMARY")
    context.build_data_docs(site_names=[SITE_NAME])
