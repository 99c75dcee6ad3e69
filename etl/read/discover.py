"""Finds the workbooks in the landing folder, hashes them and keeps an immutable raw copy.

The landing folder is read only: nothing in it is modified, moved or deleted. Each file is
identified by the SHA-256 of its content; its raw copy is `raw/<sha256><ext>`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from etl.config import SettingError

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
# Files the office programs and desktops leave beside real ones; everything else is a
# submission (a stray PDF is recorded and quarantined with its reason, never ignored).
_LOCK_PREFIXES = ("~$", ".~lock.")
_SYSTEM_FILES = {".DS_Store", "Thumbs.db", "desktop.ini"}
# macOS keeps a file's metadata in `._<name>` beside it on a share or in a zip (AppleDouble,
# known by its first bytes); a workbook so named is still a report.
_APPLE_DOUBLE_PREFIX = "._"
_APPLE_DOUBLE_MAGIC = b"\x00\x05\x16\x07"
_PARTIAL = ".tmp"  # ends the name of a raw copy being written
# A file still arriving, under the name its program gives it until done, when it renames it:
# a browser's download (Chrome and Edge `.crdownload`, Firefox `.part`, Opera
# `.opdownload`), WinSCP's `.filepart`, and rsync's `.<name>.<6 letters>`. Half a workbook:
# the renamed file is the submission, read by the run that finds it. Firefox also holds the
# final name with an empty file until then.
_IN_TRANSFER_SUFFIXES = (".crdownload", ".part", ".opdownload", ".filepart")
_RSYNC_TEMPORARY = re.compile(r"\..+\.[^.]+\.[A-Za-z0-9]{6}")


class FileChanging(Exception):
    """The file is still being written: it is left for the next run."""


class LandingMissing(SettingError):
    """The landing folder is not there (a mistyped HTX_LANDING_DIR, a share not mounted):
    not an empty folder. `htx run` says it in one line and exits 2; the DAG's discover task
    fails with it, and its failure alert goes out."""


@dataclass(frozen=True)
class LandedFile:
    file_id: int
    file_name: str  # path relative to the landing folder
    sha256: str
    size_bytes: int
    raw_path: str
    duplicate_of: int | None = None  # file_id of the identical file seen first
    # When it landed: its modification time in the landing folder (ISO 8601, UTC), which
    # orders two files found by the same run (`ledger.resolve_resubmissions`).
    landed_at: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def file_id_for(sha256: str, file_name: str | None = None) -> int:
    """A stable id: from the content for the first copy, from content and name for others."""
    if file_name is None:
        return int(sha256[:15], 16)
    return int(hashlib.sha256(f"{sha256}\0{file_name}".encode()).hexdigest()[:15], 16)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _apple_double(path: Path) -> bool:
    if not path.name.startswith(_APPLE_DOUBLE_PREFIX):
        return False
    try:
        with path.open("rb") as handle:
            return handle.read(len(_APPLE_DOUBLE_MAGIC)) == _APPLE_DOUBLE_MAGIC
    except OSError:
        return False  # said when the run reads it


def _in_transfer(path: Path, names: list[str]) -> bool:
    """A file still arriving under its program's temporary name, or the empty file Firefox
    holds the final name with beside its `.part`."""
    name = path.name
    if name.lower().endswith(_IN_TRANSFER_SUFFIXES) or _RSYNC_TEMPORARY.fullmatch(name):
        return True
    try:
        empty = path.stat().st_size == 0
    except OSError:
        return False  # said when the run reads it
    return empty and any(name + suffix in names for suffix in _IN_TRANSFER_SUFFIXES)


def landing_files(landing_dir: Path) -> list[Path]:
    """Every regular file below the landing folder, but office lock files, system files,
    files still being downloaded or copied, and macOS's AppleDouble companions. Nothing
    else is passed over in silence: a link, a special file (a pipe, a socket) and a
    subfolder that cannot be read are each said in the run's log; a landing folder that
    is not there, or cannot be read, raises `LandingMissing`."""
    # A run that found nothing here would succeed, hour after hour, loading nothing.
    why, fix = None, "Mount the share it is on"
    if not landing_dir.is_dir():
        why = "it is a file, not a folder" if landing_dir.exists() else "it does not exist"
    else:
        try:
            with os.scandir(landing_dir):
                pass
        except OSError as exc:  # closed to this user: not an empty folder either
            why, fix = exc.strerror or str(exc), "Let the pipeline's user read it"
    if why is not None:
        raise LandingMissing(
            f"cannot read the landing folder {landing_dir} (HTX_LANDING_DIR): {why}. {fix}, or "
            "point HTX_LANDING_DIR at the folder the workbooks land in"
        )

    def unreadable(error: OSError) -> None:
        # A subfolder its owner closed to this user: its files wait, said in every run.
        log.warning(
            "cannot read folder %s (%s): its files are not seen until it can be read",
            error.filename,
            error.strerror,
        )

    found = []
    for folder, subfolders, names in os.walk(landing_dir, onerror=unreadable):
        here = Path(folder)
        # A link may point anywhere on the machine: never followed, never read.
        for name in subfolders:
            if (here / name).is_symlink():
                log.warning("skipping %s: a symbolic link is not a submitted file", name)
        for name in names:
            path = here / name
            if path.is_symlink():
                log.warning("skipping %s: a symbolic link is not a submitted file", name)
            elif not path.is_file():
                log.warning("skipping %s: not a file (a pipe, a socket or a device)", name)
            elif name.startswith(_LOCK_PREFIXES) or name in _SYSTEM_FILES:
                log.info("skipping %s: an office lock file or a system file", name)
            elif _in_transfer(path, names):
                log.info(
                    "skipping %s: a download or copy still in progress (its program gives it"
                    " its name when done)",
                    name,
                )
            elif _apple_double(path):
                log.info("skipping %s: macOS's metadata of a file (AppleDouble)", name)
            else:
                found.append(path)
    return sorted(found)


def keep_raw_copy(path: Path, sha256: str, raw_dir: Path) -> Path:
    """Copy the file to `raw/<sha256><ext>` once; the copy is never rewritten."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    target = raw_dir / f"{sha256}{path.suffix.lower()}"
    if target.exists():
        return target
    temporary = target.with_name(f".{target.name}.{os.getpid()}{_PARTIAL}")
    try:
        shutil.copyfile(path, temporary)
        if sha256_of(temporary) != sha256:
            raise FileChanging(f"{path.name} changed while it was being copied")
        temporary.chmod(0o444)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)  # a copy that failed, or was refused
    return target


def remove_partial_copies(raw_dir: Path) -> None:
    """Remove the copies a killed run left half-written (only `keep_raw_copy` writes in the
    raw folder, and only under the writer lock, which the caller holds)."""
    if raw_dir.is_dir():
        for partial in raw_dir.glob(f".*{_PARTIAL}"):
            log.info("removing %s: a raw copy a stopped run left unfinished", partial.name)
            partial.unlink(missing_ok=True)


def display_name(name: str) -> str:
    """A landing name as text: a name whose bytes are not UTF-8 (a legacy Windows code page,
    an old zip or USB stick) shows those bytes escaped (`\\xff`), so that it can be recorded,
    logged and handed between tasks (Airflow's XCom is JSON). Nothing reopens a landing file
    by this name: the run reads its raw copy."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def discover(
    landing_dir: Path, raw_dir: Path, seen: set[tuple[str, str]], first_ids: dict[str, int]
) -> list[LandedFile]:
    """The landing files not seen before, as (content, name) pairs, with their raw copies,
    in the order of their names.

    `seen` holds the (sha256, file name) pairs already recorded; `first_ids` maps a content
    hash already recorded to its file_id, so that a new copy becomes a duplicate of it. Of
    identical new files found together, the one that landed first (its modification time,
    then its name) is the original and the others its duplicates.

    The caller holds the writer lock (`etl.warehouse.locking`): the raw folder is this
    run's to tidy.
    """
    remove_partial_copies(raw_dir)
    found: list[tuple[Path, str, str, os.stat_result]] = []
    for path in landing_files(landing_dir):
        name = display_name(path.relative_to(landing_dir).as_posix())
        try:
            landed = path.stat()  # before the content: a later save is a later landing
            sha = sha256_of(path)
            if (sha, name) in seen:
                continue
            raw = keep_raw_copy(path, sha, raw_dir)
        except FileChanging as exc:
            log.warning("%s; it is left for the next run", exc)
            continue
        except OSError as exc:
            if exc.filename != str(path):  # the raw folder's, or the disk's: the run fails
                raise
            # Deleted or renamed by its sender since the listing (a new name is listed by
            # the next run), or unreadable: it stops no other file.
            log.warning("%s cannot be read (%s); it is left for the next run", name, exc.strerror)
            continue
        found.append((raw, name, sha, landed))
    # Of identical new files, the one that landed first is the original.
    first_landed: dict[str, str] = {}
    for _, name, sha, _stat in sorted(found, key=lambda f: (f[3].st_mtime_ns, f[1])):
        first_landed.setdefault(sha, name)
    new: list[LandedFile] = []
    for raw, name, sha, stat in found:
        landed_at = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).isoformat()
        size = raw.stat().st_size  # the content hashed, whatever the landing file became
        original = first_ids.get(sha)
        if original is None and first_landed[sha] == name:
            new.append(LandedFile(file_id_for(sha), name, sha, size, str(raw), landed_at=landed_at))
            continue
        new.append(
            LandedFile(
                file_id_for(sha, name),
                name,
                sha,
                size,
                str(raw),
                duplicate_of=original or file_id_for(sha),
                landed_at=landed_at,
            )
        )
    log.info("landing folder %s: %d new file(s)", landing_dir, len(new))
    return new
