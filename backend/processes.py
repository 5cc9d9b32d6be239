"""Child processes that end with the process that started them, however it ends; locks that
hold across the processes of one stack."""

from __future__ import annotations

import ctypes
import fcntl
import os
import threading
from collections.abc import Callable
from pathlib import Path

PR_SET_PDEATHSIG = 1  # linux/prctl.h
_LIBC = ctypes.CDLL(None, use_errno=True)  # loaded here: between fork and exec nothing may load a library


def die_with_parent(signum: int) -> Callable[[], None]:
    """A `preexec_fn` for `subprocess.Popen`: the kernel sends the child `signum` when the thread
    that started it ends, even by SIGKILL (`PR_SET_PDEATHSIG`), so a crash leaves no orphan."""
    parent = os.getpid()

    def preexec() -> None:
        if _LIBC.prctl(PR_SET_PDEATHSIG, signum) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signum)

    return preexec



class SharedLock:
    """Held by one thread of one process at a time: a thread lock, and, once `use_directory` has
    named a directory, an `flock` on a file in it, for the processes that share that directory
    (`copytrack run` and its web server workers)."""

    def __init__(self, name: str):
        self.name = name
        self.path: Path | None = None
        self._thread_lock = threading.Lock()
        self._handle = None

    def use_directory(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f".{self.name}.lock"

    def __enter__(self) -> "SharedLock":
        self._thread_lock.acquire()
        if self.path is not None:
            try:
                self._handle = open(self.path, "a")
                fcntl.flock(self._handle, fcntl.LOCK_EX)
            except BaseException:
                self._thread_lock.release()
                raise
        return self

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            self._handle.close()  # releases the flock
            self._handle = None
        self._thread_lock.release()
