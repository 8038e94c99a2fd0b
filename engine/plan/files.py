"""Reading and writing the user's files without surprises (issue 15).

Reads: regular files only (a FIFO, a device or a folder is refused before it can
block or stream forever), read as bytes up to a size limit, decoded as UTF-8
(a BOM is accepted) with an error naming the byte, JSON parsed with bounded
nesting, bounded integers and no NaN/Infinity.

Writes (:func:`atomic_write_text`): a temp file in the target's folder, fsync,
``os.replace``, then an fsync of the folder.  The temp file is removed on every
path; one left by a killed process is removed at the next write to the same
target (its name carries the writer's process id).  A symlink is written
through to its target (the link stays a link); an existing file keeps its
mode, a new one gets ``0o666 & ~umask`` (what ``open()`` would give).  Every
``OSError`` becomes a one-line :class:`~engine.errors.PlanFileError`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engine.errors import PlanError, PlanFileError
from engine.limits import MAX_CONFIG_BYTES, MAX_INT_DIGITS, MAX_JSON_DEPTH, MAX_JSON_VALUES

_TMP_SUFFIX = ".tmp"


def _reason(e: OSError) -> str:
    if e.errno == errno.ENAMETOOLONG:
        return "a shorter file name (the name is too long for the file system)"
    return e.strerror or type(e).__name__


# --- reading -------------------------------------------------------------------------------------
def open_regular(path: str | os.PathLike[str], field: str) -> tuple[int, os.stat_result]:
    """(fd, stat) of a regular file opened for reading, without blocking on a FIFO; the caller closes fd."""
    p = os.fspath(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise PlanFileError(field, p, "an existing file") from None
    except IsADirectoryError:
        raise PlanFileError(field, p, "a file, not a folder") from None
    except (OSError, ValueError) as e:  # ValueError: a NUL byte in the path
        reason = _reason(e) if isinstance(e, OSError) else "a path without NUL bytes"
        raise PlanFileError(field, p, f"a readable file ({reason})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise PlanFileError(field, p, "a file, not a folder")
        if not stat.S_ISREG(info.st_mode):
            raise PlanFileError(field, p, "a regular file (not a pipe, socket or device)")
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def read_bytes(path: str | os.PathLike[str], field: str, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; PlanFileError otherwise."""
    p = os.fspath(path)
    fd, info = open_regular(path, field)
    try:
        if info.st_size > max_bytes:
            raise PlanFileError(field, p, f"a file of at most {max_bytes // 2**20} MiB (it has {info.st_size:,} bytes)")
        chunks, total = [], 0
        while True:  # files under /proc report size 0: read up to the limit, whatever stat says
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise PlanFileError(field, p, f"a file of at most {max_bytes // 2**20} MiB")
        return b"".join(chunks)
    except OSError as e:
        if isinstance(e, PlanError):
            raise
        raise PlanFileError(field, p, f"a readable file ({_reason(e)})") from None
    finally:
        os.close(fd)


def decode_text(data: bytes, field: str) -> str:
    """UTF-8 text (a leading BOM is dropped); a PlanError naming the first bad byte otherwise."""
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as e:
        offset = start + e.start
        line = data.count(b"\n", 0, offset) + 1
        raise PlanError(field, f"byte 0x{data[offset]:02x} at offset {offset} (line {line})", "UTF-8 text") from None


def read_text(path: str | os.PathLike[str], field: str, max_bytes: int = MAX_CONFIG_BYTES) -> str:
    return decode_text(read_bytes(path, field, max_bytes), field)


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _JsonValueError(f"an integer of {len(text):,} digits")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _JsonValueError(f"a number too large for a float ({text[:20]})")
    return value


def _parse_constant(text: str) -> Any:
    raise _JsonValueError(f"{text} (not a number)")


class _JsonValueError(ValueError):
    pass


def parse_json(text: str, field: str, *, max_items: int | None = None, max_values: int = MAX_JSON_VALUES) -> Any:
    """``json.loads`` for untrusted text: finite numbers, integers of at most MAX_INT_DIGITS digits,
    nesting at most MAX_JSON_DEPTH deep, at most ``max_values`` values (counted by their separators,
    before parsing: memory stays bounded) and, with ``max_items``, at most that many items in any one
    array or object; every problem a PlanError naming ``field``."""
    separators = text.count(",") + text.count(":")
    if separators >= max_values:  # n values need at least n - 1 separators
        raise PlanError(field, f"{separators:,} values", f"JSON of at most {max_values:,} values")
    try:
        data = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except json.JSONDecodeError as e:
        raise PlanError(field, f"line {e.lineno} column {e.colno}: {e.msg}", "valid JSON") from None
    except _JsonValueError as e:
        raise PlanError(field, str(e), "JSON with finite numbers and integers of at most "
                        f"{MAX_INT_DIGITS} digits") from None
    except RecursionError:
        raise PlanError(field, "nesting too deep", f"JSON nested at most {MAX_JSON_DEPTH} levels") from None
    if type(data) in (dict, list):
        check_shape(data, field, max_items=max_items)
    return data


def check_shape(data: Any, field: str, *, max_items: int | None = None, limit: int = MAX_JSON_DEPTH) -> None:
    """A PlanError when containers nest deeper than ``limit`` or one holds more than ``max_items``
    (iterative: no recursion; pydantic would report one error per bad item of a huge list)."""
    stack = [(data, 1)]
    containers = (dict, list)
    while stack:
        item, depth = stack.pop()
        children = item.values() if type(item) is dict else item
        if depth > limit:
            raise PlanError(field, "nesting too deep", f"JSON nested at most {limit} levels")
        if max_items is not None and len(item) > max_items:
            raise PlanError(field, f"a list or object of {len(item):,} items", f"at most {max_items:,} items in one")
        stack.extend([(c, depth + 1) for c in children if type(c) in containers])


def read_json(path: str | os.PathLike[str], field: str, max_bytes: int = MAX_CONFIG_BYTES) -> Any:
    return parse_json(read_text(path, field, max_bytes), field)


# --- writing -------------------------------------------------------------------------------------
def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask would race with other threads)
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _tmp_prefix(target: Path) -> str:
    return f".{target.name[:80]}."


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale_temp_files(folder: Path, prefix: str = ".") -> list[Path]:
    """Remove ``<prefix>*.<pid>.<random>.tmp`` files in ``folder`` whose writer process is gone."""
    removed: list[Path] = []
    pattern = re.compile(r"\.(\d+)\.[0-9a-f]+" + re.escape(_TMP_SUFFIX) + "$")
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix) or not entry.name.endswith(_TMP_SUFFIX):
            continue
        m = pattern.search(entry.name)
        if m is None or _pid_alive(int(m.group(1))):
            continue
        try:
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _resolve_target(path: str | os.PathLike[str], field: str) -> Path:
    """The file to replace: symlinks followed to their final target (the link itself stays)."""
    target = Path(path)
    if "\0" in str(target):
        raise PlanFileError(field, str(path), "a path without NUL bytes")
    try:
        if target.is_symlink():
            target = Path(os.path.realpath(target))
        if target.is_dir():
            raise PlanFileError(field, str(path), "a file name, not a folder")
    except OSError as e:
        if isinstance(e, PlanError):
            raise
        raise PlanFileError(field, str(path), f"a writable path ({_reason(e)})") from None
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str, field: str = "file") -> None:
    """Write ``text`` (UTF-8) to ``path``: the file is always the old or the new content."""
    atomic_write_bytes(path, text.encode("utf-8"), field)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, field: str = "file") -> None:
    with atomic_replace(path, field) as tmp:
        fd = os.open(tmp, os.O_WRONLY | getattr(os, "O_BINARY", 0))
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
        finally:
            os.close(fd)


def _prepare_target(path: str | os.PathLike[str], field: str) -> tuple[Path, int]:
    """(the file to replace, the mode the new file gets) after every check that needs no writing."""
    target = _resolve_target(path, field)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise PlanFileError(field, str(path), "a path whose folder is a folder (a file is in the way)") from None
    except OSError as e:
        raise PlanFileError(field, str(path), f"a path in a folder that can be created ({_reason(e)})") from None
    try:
        info = os.stat(target)
    except FileNotFoundError:
        return target, 0o666 & ~_umask()
    except OSError as e:
        raise PlanFileError(field, str(path), f"a writable path ({_reason(e)})") from None
    if not stat.S_ISREG(info.st_mode):  # os.replace would put a file where a device or pipe was
        raise PlanFileError(field, str(path), "a regular file (not a device, pipe or socket)")
    return target, stat.S_IMODE(info.st_mode)


@contextlib.contextmanager
def atomic_replace(path: str | os.PathLike[str], field: str = "file") -> Iterator[Path]:
    """A new, empty temp file in the target's folder to write (by name: a PDF writer, a library);
    when the block ends without an exception it is fsynced and replaces the target (its mode kept,
    a symlink written through); otherwise it is removed.  Every OSError is a PlanFileError."""
    target, mode = _prepare_target(path, field)
    folder = target.parent
    prefix = _tmp_prefix(target)
    remove_stale_temp_files(folder, prefix)
    tmp = folder / f"{prefix}{os.getpid()}.{os.urandom(4).hex()}{_TMP_SUFFIX}"
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600))
    except OSError as e:
        raise PlanFileError(field, str(path), f"a writable folder ({_reason(e)})") from None
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and not isinstance(e, PlanError):
            raise PlanFileError(field, str(path), f"a writable file ({_reason(e)})") from None
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable (POSIX); folders cannot be opened on Windows."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
