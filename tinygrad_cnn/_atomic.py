"""Atomic file writes: a file at ``path`` is either the old one or the complete new one.

Used by ``save`` (checkpoints) and the MNIST download, so an interrupted write never leaves a
half-written file behind.
"""

import os
import secrets


def atomic_write(path: str, write) -> None:
    """Call ``write(stream)`` on a temporary file beside ``path``, then rename it into place.

    ``stream`` is opened for writing and reading ("w+b"), so ``write`` may check what it
    wrote (a checksum, say) and raise to abandon the file.

    The temporary file is fsynced before the rename, so after a crash ``path`` holds either
    the old content or the complete new one. On any error (KeyboardInterrupt included) the
    temporary file is removed and the error propagates; an ``OSError`` from creating or
    renaming the temporary file (a missing directory, ``path`` being a directory) names
    ``path``, never the hidden temporary file.
    """
    directory, base = os.path.split(os.path.abspath(path))
    while True:
        temporary = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            # 0o666 lets the process umask decide the final permissions, as open() would.
            descriptor = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
        except OSError as error:
            raise _naming(error, path, f"cannot create a file in directory {directory!r}") \
                from None
    try:
        with os.fdopen(descriptor, "w+b") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        try:
            os.replace(temporary, path)
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
