"""Careful file handling: atomic writes (a file at ``path`` is either the old one or the
complete new one) and opening only regular files for reading.

Used by ``save``/``load`` (checkpoints), the downloads and ``read_idx``, so an interrupted
write never leaves a half-written file in place of the old one and a reader never blocks on
a FIFO.

A write goes to a temporary file beside the destination, named ``.<name>.tmp-<pid>-<hex>``
so it is recognisable and says which process owns it. A process killed mid-write (``kill -9``,
power loss) cannot remove its own temporary file; the next :func:`atomic_write` into the
same folder removes every such file whose owning process no longer exists.
"""

import os
import re
import secrets
import stat
import time

# ".<name>.tmp-<pid>-<12 hex>"; and the name used before the pid was recorded.
_TEMPORARY = re.compile(r"^\..+\.tmp-(\d+)-[0-9a-f]{12}$")
_OLD_TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{12}\.tmp$")
# An old-style temporary names no process: removed once it is surely abandoned.
_OLD_TEMPORARY_AGE_SECONDS = 3600


def temporary_name(path: str) -> str:
    """A fresh temporary file name beside ``path`` (which must be absolute)."""
    directory, base = os.path.split(path)
    return os.path.join(directory, f".{base}.tmp-{os.getpid()}-{secrets.token_hex(6)}")


def remove_stale_temporaries(directory: str) -> list:
    """Remove the temporary files in ``directory`` left by processes that no longer run;
    return their paths. Files of live processes (a concurrent save) are left alone."""
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    now = time.time()
    for name in names:
        match = _TEMPORARY.match(name)
        candidate = os.path.join(directory, name)
        if match:
            if _process_alive(int(match.group(1))):
                continue
        elif _OLD_TEMPORARY.match(name):
            try:
                if now - os.lstat(candidate).st_mtime < _OLD_TEMPORARY_AGE_SECONDS:
                    continue
            except OSError:
                continue
        else:
            continue
        try:
            if stat.S_ISREG(os.lstat(candidate).st_mode):
                os.unlink(candidate)
                removed.append(candidate)
        except OSError:
            pass  # raced with another cleaner, or not ours to remove
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if pid <= 0 or pid > 2**31 - 1:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, owned by another user
    return True


def atomic_write(path: str, write) -> None:
    """Call ``write(stream)`` on a temporary file beside ``path``, then rename it into place.

    ``stream`` is opened for writing and reading ("w+b"), so ``write`` may check what it
    wrote (a checksum, say) and raise to abandon the file.

    A symlink at ``path`` is written through: its target is replaced and the link stays.
    An existing file's permission bits are kept (a 0600 file stays 0600); a new file gets
    the process umask's, as ``open()`` would give it. Temporary files left in the folder by
    killed processes are removed first. The temporary file is fsynced before the rename, so
    after a crash ``path`` holds either the old content or the complete new one. On any
    error (KeyboardInterrupt included) the temporary file is removed and the error
    propagates; an ``OSError`` from creating or renaming the temporary file (a missing
    directory, ``path`` being a directory) names ``path``, never the hidden temporary file.
    """
    target = os.path.realpath(path) if os.path.islink(path) else os.path.abspath(path)
    directory = os.path.dirname(target)
    remove_stale_temporaries(directory)
    try:
        existing_mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        existing_mode = None
    while True:
        temporary = temporary_name(target)
        try:
            # 0o666 lets the process umask decide a new file's permissions, as open() would.
            descriptor = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
        except OSError as error:
            raise _naming(error, path, f"cannot create a file in directory {directory!r}") \
                from None
    try:
        if existing_mode is not None and hasattr(os, "fchmod"):
            os.fchmod(descriptor, existing_mode)
        with os.fdopen(descriptor, "w+b") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        try:
            os.replace(temporary, target)
        except OSError as error:
            if error.filename != temporary:  # not the OS's own error about our file
                raise
            raise _naming(error, path, "cannot replace the file") from None
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def open_regular_file(path: str, op: str):
    """``path`` opened for binary reading, after checking it is a regular file.

    Opened non-blocking and checked with ``fstat`` on the open descriptor (no race between
    check and open), so a FIFO, socket or device is refused at once with ``ValueError``
    naming ``op`` instead of blocking the reader; a directory raises ``IsADirectoryError``
    and a missing file ``FileNotFoundError``, as ``open`` would."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(21, "Is a directory", path)
        if not stat.S_ISREG(mode):
            kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode)
                    else "a socket" if stat.S_ISSOCK(mode) else "a device or special file")
            raise ValueError(f"{op}: {path} is {kind}, not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def _naming(error: OSError, path: str, what: str) -> OSError:
    """``error`` (same class and errno) re-made to name ``path``, e.g.
    ``[Errno 2] cannot create a file in directory '/x': No such file or directory: '/x/a.npz'``."""
    return type(error)(error.errno, f"{what}: {error.strerror}", path)


def _fsync_directory(directory: str) -> None:
    # Makes the rename itself durable; not possible on every platform (Windows), so best effort.
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
