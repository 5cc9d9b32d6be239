"""A process pool for fingerprinting, whose processes end with the process that started them.

A `ProcessPoolExecutor`'s processes outlive a parent that is killed (SIGKILL, the OOM killer):
each would stay, idle and holding ~250 MiB, until the machine restarts. Each process here checks
once a second that its parent is still the one that started it, and exits when it is not.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor

PARENT_CHECK_SECONDS = 1.0


def pool_size(setting: int) -> int:
    """The processes the setting `crawler_fingerprint_processes` asks for: -1 one fewer than the
    cores (at least one: the crawling process keeps a core), 0 none."""
    return max(1, (os.cpu_count() or 2) - 1) if setting == -1 else max(0, setting)


def fingerprint_pool(processes: int) -> ProcessPoolExecutor:
    # spawn, not fork: the parent has threads (a forked child would inherit their locks held)
    return ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_watch_parent, initargs=(os.getpid(),))


def _watch_parent(parent: int) -> None:
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)  # the parent is gone: this process was adopted by init or a subreaper

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()
