"""Build step only: the wheel carries the project's data folders inside the package.

pyproject.toml holds the metadata. The checkout keeps `sql/`, `expectations/`, `config/`,
`dags/` and `reference/` at the top level; an installed package has no checkout beside it,
so `build_py` copies them to `etl/_resources/` in the build, where `etl/config.py` finds
them. An editable install reads the checkout's own folders and copies nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# Must agree with etl/config.py (RESOURCE_FOLDERS) and MANIFEST.in.
RESOURCE_FOLDERS = ("sql", "expectations", "config", "dags", "reference")


def resource_files(root: Path = HERE) -> list[Path]:
    """The data files to ship, relative to `root`: no bytecode left by a local run."""
    return sorted(
        path.relative_to(root)
        for folder in RESOURCE_FOLDERS
        for path in (root / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )


class build_py_with_resources(build_py):
    """`build_py`, then the data folders copied into `etl/_resources/` of the build."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # the checkout's folders are used in place
        target = Path(self.build_lib) / "etl" / "_resources"
        # A reused build/ folder must not ship a file deleted from the checkout since.
        shutil.rmtree(target, ignore_errors=True)
        for relative in resource_files():
            destination = target / relative
            self.mkpath(str(destination.parent))
            self.copy_file(str(HERE / relative), str(destination), preserve_mode=False)


setup(cmdclass={"build_py": build_py_with_resources})
