"""Child processes that end with the process that started them, however it ends."""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable

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

