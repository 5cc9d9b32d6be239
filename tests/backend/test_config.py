from pathlib import Path

import pytest

from backend.config import ConfigError, load_settings


def test_defaults_run_everything_under_var():
    settings = load_settings(environ={})
    assert settings.data_dir == Path("var")
    assert settings.resolved_database_url.endswith("var/copytrack.db")
    assert settings.runs_local_chain


def test_environment_overrides_file_and_file_overrides_defaults(tmp_path):
    config = tmp_path / "copytrack.toml"
    config.write_text('port = 6000\nconfirmations = 5\n')
    settings = load_settings(environ={"COPYTRACK_CONFIG": str(config), "COPYTRACK_PORT": "7000"})
    assert settings.port == 7000
    assert settings.confirmations == 5


def test_unknown_setting__is_named():
    with pytest.raises(ConfigError, match="unknown setting.*colour"):
        load_settings({"colour": "blue"}, environ={})


def test_value_of_wrong_type__says_which_setting():
    with pytest.raises(ConfigError, match="'port'.*'abc'"):
        load_settings(environ={"COPYTRACK_PORT": "abc"})


def test_missing_config_file__is_reported(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(environ={"COPYTRACK_CONFIG": str(tmp_path / "nope.toml")})


def test_public_settings_hide_keys():
    public = load_settings(environ={}).public()
    assert public["relayer_key"] == "***" and public["deployer_key"] == "***"


def test_matcher_snapshots__under_the_data_dir_unless_set(tmp_path):
    assert load_settings({"data_dir": tmp_path}, environ={}).resolved_matcher_snapshot_dir == tmp_path / "matcher"
    settings = load_settings(environ={"COPYTRACK_MATCHER_SNAPSHOT_DIR": str(tmp_path / "fast-disk"),
                                      "COPYTRACK_MATCHER_SNAPSHOT_INTERVAL": "3600"})
    assert settings.resolved_matcher_snapshot_dir == tmp_path / "fast-disk"
    assert settings.matcher_snapshot_interval == 3600.0


def test_negative_snapshot_interval__is_refused():
    with pytest.raises(ConfigError, match="'matcher_snapshot_interval' must be 0 or more"):
        load_settings({"matcher_snapshot_interval": -1}, environ={})


def test_case_site_memory_and_fingerprint_processes__out_of_range__refused_with_the_setting_named():
    with pytest.raises(ConfigError, match="'case_site_memory' must be 0 or more"):
        load_settings({"case_site_memory": -1}, environ={})
    with pytest.raises(ConfigError, match="'crawler_fingerprint_processes' must be -1"):
        load_settings({"crawler_fingerprint_processes": -2}, environ={})


def test_fingerprint_processes__default__one_fewer_than_the_cores(tmp_path, monkeypatch):
    from backend.services import Services

    monkeypatch.setattr("os.cpu_count", lambda: 4)
    services = Services(load_settings({"data_dir": tmp_path}, environ={}))
    try:
        assert services.fingerprint_pool._max_workers == 3
    finally:
        services.close()


def test_local_sale_soft_cap__in_eth__malformed_amounts_refused_with_the_setting_named():
    assert load_settings({"local_sale_soft_cap": "0.5"}, environ={}).local_sale_soft_cap_wei == 5 * 10**17
    assert load_settings({}, environ={"COPYTRACK_LOCAL_SALE_SOFT_CAP": "100"}).local_sale_soft_cap_wei == 100 * 10**18
    for bad in ("lots", "-1", "1e-30", "NaN", "Infinity"):
        with pytest.raises(ConfigError, match="'local_sale_soft_cap' must be an amount of ETH"):
            load_settings({"local_sale_soft_cap": bad}, environ={})


def test_hits_digest_interval__negative__refused():
    with pytest.raises(ConfigError, match="hits_digest_interval"):
        load_settings({"hits_digest_interval": -1}, environ={})
