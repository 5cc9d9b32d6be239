"""`copytrack hits` against a live backend, signed in with the user's own key: list with filters,
triage by ids and by filter, whitelist a domain, report a copy by hand."""

import json

import pytest
from click.testing import CliRunner

from tests.backend.crawl_site import Site
from tests.backend.test_cli_account import cli, live, user  # noqa: F401  (fixtures)
from tests.backend.test_crawler import add_registration
from tests.backend.test_triage import SETTINGS, copier


@pytest.mark.parametrize("settings", [SETTINGS], indirect=True)
def test_hits__report_list_triage_whitelist(live, user, services, chain):  # noqa: F811
    from backend.cli import main

    add_registration(services, 1, owner=user.address)
    site = Site()
    copier(site, "127.0.0.2", "127.0.0.2")
    site.start()
    try:
        out = cli(live, user, "hits", "report", site.url("127.0.0.2"), site.url("127.0.0.2", "/a.png"))
        assert "recorded on 127.0.0.2" in out
    finally:
        site.stop()
    listed = json.loads(cli(live, user, "hits", "list", "--verdict", "new", "--json"))
    assert listed["total"] == 1
    hit_id = listed["hits"][0]["id"]
    assert "1 hit" in cli(live, user, "hits", "list") and "new" in cli(live, user, "hits", "list")
    assert "1 hit now unsure" in cli(live, user, "hits", "triage", "unsure", str(hit_id))
    assert "1 hit now illegal" in cli(live, user, "hits", "triage", "illegal", "--verdict", "unsure")
    out = cli(live, user, "hits", "whitelist", "127.0.0.2.nip.test")
    assert "127.0.0.2.nip.test is allowed (whitelisted); 0 hit(s) made legal" in out
    assert json.loads(cli(live, user, "hits", "list", "--verdict", "illegal", "--json"))["total"] == 1
    both = CliRunner().invoke(main, ["hits", "triage", "legal", "--api", live],
                              env={"COPYTRACK_PRIVATE_KEY": user.key.to_0x_hex()})
    assert both.exit_code == 2 and "name hit ids, or filter options" in both.output
