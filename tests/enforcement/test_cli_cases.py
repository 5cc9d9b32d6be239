"""`copytrack cases` against the same database, chain and SMTP server as the backend."""

from __future__ import annotations

import json

from click.testing import CliRunner

from backend.cli import main
from tests.enforcement.ladder import open_test_case, register_with_mandate


def test_cases_cli__lists_holds_resumes_closes_and_sends_mail(services, chain, smtp):
    setup = register_with_mandate(services, chain, seed=81)
    opened = open_test_case(setup)
    settings = services.settings
    env = {
        "COPYTRACK_DATA_DIR": str(settings.data_dir), "COPYTRACK_DATABASE_URL": settings.resolved_database_url,
        "COPYTRACK_RPC_URL": settings.rpc_url, "COPYTRACK_DEPLOYMENT_FILE": str(settings.resolved_deployment_file),
        "COPYTRACK_SMTP_PORT": str(smtp.controller.port),
    }

    def run(*args):
        result = CliRunner().invoke(main, ["cases", *args], env=env)
        return result

    listed = run("list", "--json")
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.output)
    assert (row["code"], row["stage"], row["status"], row["claim"]) == (opened.public_code, "post_licensing_letter", "active", str(15 * 10**16))

    sent = run("mail")
    assert sent.exit_code == 0 and "1 message(s) sent" in sent.output
    assert len(smtp.mailbox.received) == 1

    assert run("hold", str(opened.case_id), "--reason", "owner on holiday").exit_code == 0
    assert json.loads(run("list", "--json", "--status", "held").output)[0]["id"] == opened.case_id
    again = run("hold", str(opened.case_id), "--reason", "twice")
    assert again.exit_code == 1 and "is held, not active" in again.output
    assert run("resume", str(opened.case_id)).exit_code == 0
    shown = run("show", str(opened.case_id))
    assert "held" in shown.output and "resumed" in shown.output and "licence_fee" in shown.output
    assert run("close", str(opened.case_id), "--reason", "paid directly").exit_code == 0
    assert json.loads(run("list", "--json").output)[0]["status"] == "closed"
    missing = run("show", "999")
    assert missing.exit_code == 1 and "no case 999" in missing.output
