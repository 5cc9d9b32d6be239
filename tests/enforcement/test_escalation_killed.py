"""A real escalation process killed with SIGKILL mid-way, then run again: nothing twice.

The process reaches the chain through a JSON-RPC relay on 127.0.0.1 that passes the second
transaction on to anvil (so the escrow logs the step) and then never answers: the process dies
with the chain ahead of its database, the worst place for a crash.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from sqlalchemy import select, update

from backend.enforcement.cases import escalate_due
from backend.enforcement.mail import deliver_due
from backend.enforcement.models import Case, CaseDocument, OutboxMessage
from tests.enforcement.ladder import open_test_case, register_with_mandate

DRIVER = """
import sys
from backend.config import load_settings
from backend.enforcement.cases import escalate_due
from backend.services import Services
settings = load_settings(dict(data_dir=sys.argv[1], database_url=sys.argv[2], rpc_url=sys.argv[3],
                              deployment_file=sys.argv[4], confirmations=0), environ={})
escalate_due(Services(settings).enforcement())
"""


class StallingRelay:
    """Forwards JSON-RPC to anvil; the `stall_at`-th transaction is forwarded, its answer withheld."""

    def __init__(self, upstream: str, stall_at: int):
        self.sent = 0
        self.stalled = threading.Event()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                answer = httpx.post(upstream, content=body, headers={"Content-Type": "application/json"}).content
                if json.loads(body).get("method") == "eth_sendTransaction":
                    relay.sent += 1
                    if relay.sent == stall_at:
                        relay.stalled.set()
                        threading.Event().wait(60)  # the process is killed while it waits for this
                        return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.postgres
def test_escalation_killed_mid_way__run_again__sends_nothing_twice(services, chain, smtp, anvil):
    setup = register_with_mandate(services, chain, seed=71)
    first = open_test_case(setup, origin="https://one.beispiel.de")
    second = open_test_case(setup, origin="https://two.beispiel.de")
    assert deliver_due(services.db, smtp.settings()) == 2
    with services.db.session() as db:  # both letters' deadlines passed
        db.execute(update(Case).values(deadline=datetime.now(timezone.utc) - timedelta(hours=1)))

    relay = StallingRelay(anvil.url, stall_at=2)
    settings = services.settings
    process = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(settings.data_dir), settings.resolved_database_url, relay.url,
         str(settings.resolved_deployment_file)],
        cwd=os.getcwd(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        assert relay.stalled.wait(60), process.communicate(timeout=5)[0].decode()
        process.send_signal(signal.SIGKILL)
        assert process.wait(10) == -signal.SIGKILL
    finally:
        relay.close()

    with services.db.session() as db:
        killed = {c.id: (c.stage, c.pending_step) for c in db.scalars(select(Case))}
        second_reference = bytes.fromhex(db.get(Case, second.case_id).reference[2:])
    assert killed == {first.case_id: ("invoice", None), second.case_id: ("invoice", "invoice")}
    assert setup.env.escrow.case(second_reference).step == "invoice"  # the chain got it before the kill

    setup.env.clock = lambda: datetime.now(timezone.utc)
    assert escalate_due(setup.env) == {"settled": 0, "chain": 1, "escalated": 0, "ended": 0, "failed": 0}
    assert escalate_due(setup.env) == {"settled": 0, "chain": 0, "escalated": 0, "ended": 0, "failed": 0}
    assert deliver_due(services.db, smtp.settings()) == 2
    subjects = sorted(mail["Subject"] for mail in smtp.mailbox.received)
    assert len(subjects) == 4 and len(set(subjects)) == 4  # two letters, two invoices, none twice
    with services.db.session() as db:
        assert len(db.scalars(select(OutboxMessage)).all()) == 4
        assert len(db.scalars(select(CaseDocument).where(CaseDocument.kind == "invoice")).all()) == 2
        assert {c.pending_step for c in db.scalars(select(Case))} == {None}
