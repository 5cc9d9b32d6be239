"""A kill -9 of the process that follows registrations costs at most one snapshot interval of
work: the jobs of `copytrack run` run in a real child process, which is killed with SIGKILL once
the interval has passed; a restart opens the snapshot the interval wrote and has nothing to read
again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from backend.models import ChainEvent
from backend.runner import settings_environment
from backend.services import Services
from tests.backend.test_matcher_snapshot import add_phash_only_registrations

ROOT = Path(__file__).resolve().parents[2]
JOBS = """
import threading
from backend.config import load_settings
from backend.jobs import start_scheduler
from backend.services import Services
start_scheduler(Services(load_settings()))
print("jobs running", flush=True)
threading.Event().wait()
"""


def test_sigkill_after_the_snapshot_interval__restart_reads_nothing_again(settings):
    settings = replace(settings, matcher_snapshot_interval=1.0, indexer_interval=0.2)
    seeded = Services(settings)
    seeded.db.migrate()
    jobs = subprocess.Popen([sys.executable, "-c", JOBS], cwd=ROOT, env=settings_environment(settings),
                            stdout=subprocess.PIPE, text=True)
    try:
        assert jobs.stdout.readline().strip() == "jobs running"
        ids = add_phash_only_registrations(seeded, 100)
        with seeded.db.session() as db:
            last = db.scalar(select(ChainEvent.id).order_by(ChainEvent.id.desc()).limit(1))
        current = settings.resolved_matcher_snapshot_dir / "CURRENT"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if current.exists():
                state = settings.resolved_matcher_snapshot_dir / json.loads(current.read_text())["snapshot"]
                if json.loads((state / "state.json").read_text())["checkpoints"][-1][0] == last:
                    break
            time.sleep(0.2)
        else:
            raise AssertionError("no snapshot of the followed events within 30 s of a 1 s interval")
    finally:
        os.kill(jobs.pid, signal.SIGKILL)
        jobs.wait()
    seeded.close()

    restarted = Services(settings)
    try:
        assert restarted.matcher.synced_event == last and set(restarted.matcher.by_phash) == set(ids)
        with restarted.db.session() as db:
            assert restarted.matcher.sync(db) == 0  # nothing to follow again
    finally:
        restarted.close()
