"""Getting the UCI HAR archive onto disk: download or copy, hash, and extract safely.

Pure data code (no Prefect): the ingest tasks call these and add retries and logging.
Everything that lands on disk is written to a temporary name first and then renamed,
so an interrupted run never leaves a half-written archive or extraction behind; the
temporary names carry a key (``prefix``) the next ingest uses to remove a killed one's
leftovers (``har_data.cleanup``). Files get the process umask's permissions.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

from data_contracts.dataset import INNER_ZIP_NAME, ROOT_DIR
from har_data.atomic import temp_dir, temp_file

CHUNK = 1 << 20
# The real archive unpacks to ~190 MB (with the 561-feature files ~270 MB); anything far
# beyond that is not this dataset, and refusing it early stops a zip bomb filling the disk.
MAX_UNCOMPRESSED_BYTES = 2 << 30
MAX_COMPRESSION_RATIO = 200
# How a zip file starts: a local file header, an empty archive, a spanned archive.
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# Content types a server may give a zip; anything textual (an HTML login or error page,
# JSON, XML) is refused before its body is read.
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/xhtml")
TEMP_PREFIX = ".partial-"


class ArchiveError(ValueError):
    """The archive is unusable: corrupt, wrong hash, or an entry that is unsafe to extract."""


class DownloadError(OSError):
    """A network failure worth retrying (connection refused, timeout, HTTP 5xx)."""


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def is_remote(source: str) -> bool:
    return urlparse(source).scheme in ("http", "https")


def local_path(source: str) -> Path:
    """A plain path or a ``file://`` URL as a local path."""
    parsed = urlparse(source)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    return Path(source).expanduser()


def media_type(content_type: str | None) -> str:
    """``text/html; charset=utf-8`` -> ``text/html`` ("" when the server sent none)."""
    return (content_type or "").split(";")[0].strip().lower()


def check_zip_response(url: str, content_type: str | None, head: bytes | None = None) -> None:
    """Refuse a response that is not a zip: a textual content type (an HTML page: a login,
    an error or a download page), or a body that does not start like a zip."""
    kind = media_type(content_type)
    if kind.startswith(TEXT_TYPES):
        raise ArchiveError(
            f"{url}: server returned {kind}, not a zip archive (a web page instead of the "
            "download?); check the URL"
        )
    if head is not None and not head.startswith(ZIP_MAGIC):
        what = kind or "no content type"
        raise ArchiveError(
            f"{url}: server returned {what} content that is not a zip archive "
            f"(it starts with {head[:16]!r}); check the URL"
        )


def download(
    url: str,
    directory: Path,
    timeout_s: float = 30.0,
    progress: bool = True,
    prefix: str = TEMP_PREFIX,
) -> Path:
    """Stream ``url`` to a temporary file in ``directory``; returns its path. The progress bar
    shows only on an interactive terminal (logs and pipes get the caller's log lines).

    Network failures raise :class:`DownloadError` (worth retrying); HTTP 4xx and a response
    that is not a zip raise :class:`ArchiveError` because asking again will not help. Nothing
    of a refused response is kept.
    """
    import httpx
    from tqdm.auto import tqdm

    tmp = temp_file(directory, prefix, ".zip")
    try:
        timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0))
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as r:
            if r.status_code >= 500:
                raise DownloadError(f"{url}: HTTP {r.status_code} from server")
            if r.status_code >= 400:
                raise ArchiveError(f"{url}: HTTP {r.status_code}; check the URL")
            content_type = r.headers.get("content-type")
            check_zip_response(url, content_type)
            total = int(r.headers.get("content-length", 0)) or None
            with (
                open(tmp, "wb") as f,
                tqdm(
                    total=total,
                    unit="B",
                    unit_scale=True,
                    desc="download UCI HAR",
                    disable=None if progress else True,  # None: a bar only on a terminal
                ) as bar,
            ):
                for chunk in r.iter_bytes(CHUNK):
                    f.write(chunk)
                    bar.update(len(chunk))
            if total is not None and tmp.stat().st_size != total:
                raise DownloadError(
                    f"{url}: connection closed after {tmp.stat().st_size} of {total} bytes"
                )
        with open(tmp, "rb") as f:
            check_zip_response(url, content_type, f.read(16))
    except httpx.TransportError as e:  # connect refused, DNS, timeouts, broken stream
        tmp.unlink(missing_ok=True)
        raise DownloadError(f"{url}: {type(e).__name__}: {e or 'network error'}") from e
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def copy_local(path: Path, directory: Path, prefix: str = TEMP_PREFIX) -> Path:
    """Copy a local archive to a temporary file in ``directory`` (so raw/ owns its copy)."""
    if not path.is_file():
        raise ArchiveError(f"{path}: no such archive file")
    tmp = temp_file(directory, prefix, ".zip")
    try:
        shutil.copyfile(path, tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def check_sha256(path: Path, expected: str | None, source: str) -> str:
    """Hash ``path``; raise if it differs from ``expected`` (when given). Returns the hash."""
    actual = sha256_file(path)
    if expected and actual != expected.strip().lower():
        raise ArchiveError(f"{source}: sha256 mismatch: expected {expected}, got {actual}")
    return actual


def store(tmp: Path, raw_dir: Path, sha256: str) -> Path:
    """Move a fetched archive to its content-addressed name ``raw/<sha256>.zip``."""
    dest = raw_dir / f"{sha256}.zip"
    os.replace(tmp, dest)
    return dest


def _check_entry(info: zipfile.ZipInfo, archive: str) -> PurePosixPath:
    """Refuse entries that would escape the extraction directory or are not plain files."""
    name = info.filename
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise ArchiveError(f"{archive}: entry {name!r} has an absolute path; refusing to extract")
    if ".." in path.parts:
        raise ArchiveError(f"{archive}: entry {name!r} contains '..'; refusing to extract")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise ArchiveError(f"{archive}: entry {name!r} is a symbolic link; refusing to extract")
    return path


def _check_sizes(infos: list[zipfile.ZipInfo], archive: str, max_bytes: int) -> None:
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1 << 20 and ratio > MAX_COMPRESSION_RATIO:
            raise ArchiveError(
                f"{archive}: entry {info.filename!r} expands {ratio:.0f}x "
                f"({info.file_size} bytes); refusing a likely zip bomb"
            )
        if total > max_bytes:
            raise ArchiveError(
                f"{archive}: uncompressed size exceeds {max_bytes} bytes at entry "
                f"{info.filename!r}; refusing a likely zip bomb"
            )


def _open_zip(path: Path, label: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise ArchiveError(f"{label}: not a readable zip archive ({e})") from e


def _copy_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, label: str) -> None:
    """Extract one entry, refusing more bytes than it declares (zipfile checks the CRC)."""
    written = 0
    try:
        with zf.open(info) as src, open(dest, "wb") as out:
            while chunk := src.read(CHUNK):
                written += len(chunk)
                if written > info.file_size:
                    raise ArchiveError(f"{label}: entry {info.filename!r} exceeds its size")
                out.write(chunk)
    except (zipfile.BadZipFile, EOFError, zlib.error) as e:
        raise ArchiveError(f"{label}: entry {info.filename!r} is corrupt ({e})") from e


def _extract_all(zf: zipfile.ZipFile, dest: Path, label: str, max_bytes: int) -> None:
    infos = zf.infolist()
    for info in infos:
        _check_entry(info, label)
    _check_sizes(infos, label, max_bytes)
    for info in infos:
        target = dest.joinpath(*PurePosixPath(info.filename.replace("\\", "/")).parts)
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy_member(zf, info, target, label)


def _nested_inner(zf: zipfile.ZipFile) -> zipfile.ZipInfo | None:
    """The newer UCI download wraps the archive: a zip holding ``UCI HAR Dataset.zip``."""
    names = zf.namelist()
    if any(n.startswith(f"{ROOT_DIR}/") for n in names):
        return None
    for info in zf.infolist():
        if PurePosixPath(info.filename).name == INNER_ZIP_NAME:
            return info
    return None


def partial_prefix(dest: Path) -> str:
    """Prefix of the work folder an extraction to ``dest`` fills before renaming it."""
    return f".{dest.name}-partial-"


def extract(
    archive: Path,
    dest: Path,
    max_bytes: int = MAX_UNCOMPRESSED_BYTES,
    on_step: Callable[[str], None] | None = None,
    label: str | None = None,
) -> Path:
    """Safely extract ``archive`` to ``dest`` (atomically); returns ``dest / ROOT_DIR``.

    An existing ``dest`` is trusted (it was renamed into place only once complete), also when
    another process renames its own extraction into place first: ours is then dropped.
    """
    root = dest / ROOT_DIR
    if dest.is_dir():
        if on_step:
            on_step(f"reusing extracted files in {dest}")
        return root
    work = temp_dir(dest.parent, partial_prefix(dest))
    try:
        label = label or str(archive)
        with _open_zip(archive, label) as zf:
            inner = _nested_inner(zf)
            if inner is None:
                _extract_all(zf, work, label, max_bytes)
            else:
                if on_step:
                    on_step(f"{archive.name} wraps {inner.filename!r}; extracting the inner zip")
                _check_entry(inner, label)
                _check_sizes([inner], label, max_bytes)
                inner_path = work / ".inner.zip"
                _copy_member(zf, inner, inner_path, label)
                inner_label = f"{label}!{inner.filename}"
                with _open_zip(inner_path, inner_label) as izf:
                    _extract_all(izf, work, inner_label, max_bytes)
                inner_path.unlink()
        if not (work / ROOT_DIR).is_dir():
            raise ArchiveError(f"{label}: no {ROOT_DIR!r} folder inside; is this UCI HAR?")
        try:
            os.replace(work, dest)
        except OSError as e:
            if e.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not dest.is_dir():
                raise
            if on_step:
                on_step(f"another ingest extracted {archive.name} first; using {dest}")
            shutil.rmtree(work, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return root
