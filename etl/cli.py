"""The `htx` command: sample data, Airflow set-up, the whole pipeline run, and its summary.

htx sample --out DIR [--seed N]   write sample district workbooks
htx init                          migrate Airflow's metadata DB, create the writer pool
htx run                           init, sample if the landing folder is empty, run the DAG
htx summary                       print what the warehouse holds
htx template --unit CODE --year YYYY --out FILE [--prefill]
                                  write the official workbook for one unit and year
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from pathlib import Path

from etl.config import DAG_ID, WRITER_POOL, Settings, load_settings

log = logging.getLogger("htx")


def _airflow(settings: Settings, *args: str) -> None:
    """Run an `airflow` CLI command with the project's Airflow environment."""
    binary = Path(sys.executable).with_name("airflow")
    env = {**os.environ, **settings.airflow_environ()}
    subprocess.run([str(binary), *args], env=env, check=True, stdout=subprocess.DEVNULL)


def init_airflow(settings: Settings) -> None:
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    log.info("migrating Airflow metadata DB in %s", settings.airflow_home)
    _airflow(settings, "db", "migrate")
    _airflow(settings, "pools", "set", WRITER_POOL, "1", "One writer at a time for DuckDB files")


def has_workbooks(landing_dir: Path) -> bool:
    from etl.discover import landing_files

    return bool(landing_files(landing_dir))


def run_dag(settings: Settings, conf: dict | None = None):
    """Run the pipeline DAG once through Airflow (`dag.test`) and return the DagRun."""
    os.environ.update(settings.airflow_environ())
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=settings.airflow_environ()["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    return bag.get_dag(DAG_ID).test(run_conf=conf)


def cmd_sample(args: argparse.Namespace) -> int:
    from etl.sample import write_samples

    files = write_samples(Path(args.out), seed=args.seed, scale=args.scale)
    print(f"wrote {len(files)} sample workbooks ({args.scale} scale) to {args.out}")
    return 0


def cmd_init(_args: argparse.Namespace) -> int:
    init_airflow(load_settings())
    return 0


def cmd_run(_args: argparse.Namespace) -> int:
    from etl.locking import exclusive
    from etl.sample import write_samples
    from etl.summary import print_summary

    settings = load_settings()
    with exclusive(settings.state_dir / "pipeline.lock"):
        init_airflow(settings)
        if not has_workbooks(settings.landing_dir):
            files = write_samples(settings.landing_dir)
            log.info("landing folder was empty: wrote %d sample workbooks", len(files))
        run = run_dag(settings)
    state = str(getattr(run, "state", "unknown"))
    print_summary(settings, run_id=getattr(run, "run_id", None))
    if state != "success":
        print(f"pipeline run {getattr(run, 'run_id', '?')} ended {state}", file=sys.stderr)
        return 1
    return 0


def cmd_summary(_args: argparse.Namespace) -> int:
    from etl.summary import print_summary

    print_summary(load_settings())
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    from etl import analyst

    warehouse = load_settings().warehouse
    try:
        if args.query:
            analyst.run(warehouse, args.query)
        else:
            analyst.repl(warehouse)
    except (analyst.WriteRefused, FileNotFoundError) as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


def cmd_tables(_args: argparse.Namespace) -> int:
    from etl import analyst

    print("\n".join(analyst.describe_tables(load_settings().warehouse)))
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from etl import template

    try:
        unit = template.reporting_unit(args.unit)
        year = template.check_year(args.year)
        cooperatives, source = None, ""
        if args.prefill:
            latest, cooperatives = template.latest_cooperatives(
                load_settings().warehouse, unit, year
            )
            source = f", {len(cooperatives)} HTX của năm / cooperatives of {latest}"
        path = template.write_template(Path(args.out), unit.code, year, cooperatives)
    except template.TemplateError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"đã ghi / wrote {path} ({unit.full_name}, {year}{source})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="htx", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    sample = commands.add_parser("sample", help="write sample district workbooks")
    sample.add_argument("--out", required=True, help="folder to write the workbooks to")
    sample.add_argument("--seed", type=int, default=2025, help="random seed (default 2025)")
    sample.add_argument(
        "--scale",
        choices=("province", "national"),
        default="province",
        help="province: Đắk Nông's 8 units (default); national: every district unit",
    )
    sample.set_defaults(func=cmd_sample)
    commands.add_parser("init", help="set up Airflow").set_defaults(func=cmd_init)
    commands.add_parser("run", help="run the whole pipeline").set_defaults(func=cmd_run)
    commands.add_parser("summary", help="print the summary").set_defaults(func=cmd_summary)
    sql = commands.add_parser("sql", help="run read-only SQL on the warehouse")
    sql.add_argument("query", nargs="?", help="SQL to run; none: an interactive prompt")
    sql.set_defaults(func=cmd_sql)
    commands.add_parser("tables", help="describe every table").set_defaults(func=cmd_tables)
    blank = commands.add_parser("template", help="write the official workbook for a unit and year")
    blank.add_argument("--unit", required=True, help="district or province code, e.g. 663")
    blank.add_argument("--year", required=True, type=int, help="reporting year, 2021-2030")
    blank.add_argument("--out", required=True, help="the .xlsx file to write")
    blank.add_argument(
        "--prefill",
        action="store_true",
        help="list the unit's cooperatives of the latest year in the warehouse",
    )
    blank.set_defaults(func=cmd_template)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
