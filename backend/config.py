"""Layered configuration: embedded defaults, then an optional TOML file, then `COPYTRACK_*` variables.

Every setting has a default that runs the whole stack on one machine (`make run`); a deployment
at scale overrides the chain RPC, database URL, IPFS API and keys.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

ENV_PREFIX = "COPYTRACK_"

# anvil's well-known development mnemonic accounts (public knowledge, only ever valid on a local
# dev chain): account 0 deploys, account 1 relays gasless registrations.
ANVIL_DEPLOYER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ANVIL_RELAYER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"


class ConfigError(ValueError):
    """A setting has a value the application cannot use."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("var")
    database_url: str = ""  # default: sqlite file in data_dir
    host: str = "127.0.0.1"
    port: int = 5000
    # chain
    rpc_url: str = ""  # empty: start a local anvil node
    public_rpc_url: str = ""  # the RPC URL wallets and the CLI are told to use (default: the local anvil)
    anvil_port: int = 8545
    anvil_block_time: int = 1
    chain_id: int = 31337
    deployer_key: str = ANVIL_DEPLOYER_KEY
    relayer_key: str = ANVIL_RELAYER_KEY
    deployment_file: str = ""  # default: data_dir/deployment.json
    confirmations: int = 2
    indexer_interval: float = 1.0
    indexer_batch_blocks: int = 2000
    # IPFS
    ipfs_api: str = ""  # empty: the local block store in data_dir/ipfs
    # uploads
    max_upload_bytes: int = 25 * 1024 * 1024
    max_image_pixels: int = 50_000_000
    near_duplicate_distance: int = 10
    # matching index
    matcher_snapshot_dir: str = ""  # default: data_dir/matcher
    matcher_snapshot_interval: float = 600.0
    # sign-in
    siwe_domain: str = ""  # default: host:port
    siwe_nonce_ttl: int = 600
    session_ttl: int = 7 * 24 * 3600
    secret_key: str = ""  # default: generated once and kept in data_dir
    registration_deadline: int = 3600
    # rate limits of the endpoints that need no sign-in (flask-limiter syntax)
    rate_limit_public: str = "60/minute"
    rate_limit_sign_in: str = "30/minute"
    rate_limit_storage: str = "memory://"
    # the HTTP edge and credentials: how far ahead of the server's clock a SIWE issued-at may be
    siwe_clock_skew: int = 60

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'copytrack.db').resolve()}"

    @property
    def resolved_rpc_url(self) -> str:
        return self.rpc_url or f"http://127.0.0.1:{self.anvil_port}"

    @property
    def resolved_public_rpc_url(self) -> str | None:
        """Never the operator's own RPC URL (it may carry a provider key) unless set explicitly."""
        return self.public_rpc_url or (self.resolved_rpc_url if self.runs_local_chain else None)

    @property
    def runs_local_chain(self) -> bool:
        return not self.rpc_url

    @property
    def resolved_deployment_file(self) -> Path:
        return Path(self.deployment_file) if self.deployment_file else self.data_dir / "deployment.json"

    @property
    def resolved_matcher_snapshot_dir(self) -> Path:
        return Path(self.matcher_snapshot_dir) if self.matcher_snapshot_dir else self.data_dir / "matcher"

    @property
    def resolved_siwe_domain(self) -> str:
        return self.siwe_domain or f"{self.host}:{self.port}"

    def public(self) -> dict[str, Any]:
        """The settings without secrets, for `copytrack status` and logs."""
        hidden = {"deployer_key", "relayer_key", "secret_key"}
        return {f.name: (str(getattr(self, f.name)) if f.name not in hidden else "***") for f in fields(self)}


def _coerce(name: str, raw: Any, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            return raw if isinstance(raw, bool) else str(raw).lower() in {"1", "true", "yes", "on"}
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, Path):
            return Path(raw)
        return str(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"setting {name!r}: cannot read {raw!r} as {type(default).__name__}") from None


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Defaults → the TOML file named by `COPYTRACK_CONFIG` → `COPYTRACK_*` variables → overrides."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config_file = environ.get(ENV_PREFIX + "CONFIG")
    if config_file:
        path = Path(config_file)
        try:
            values.update(tomllib.loads(path.read_text()))
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist (set by {ENV_PREFIX}CONFIG)") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    for f in fields(Settings):
        key = ENV_PREFIX + f.name.upper()
        if key in environ:
            values[f.name] = environ[key]
    values.update(overrides or {})
    known = {f.name: f for f in fields(Settings)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    defaults = Settings()
    coerced = {k: _coerce(k, v, getattr(defaults, k)) for k, v in values.items()}
    settings = replace(defaults, **coerced)
    if settings.confirmations < 0:
        raise ConfigError("setting 'confirmations' must be 0 or more")
    if settings.matcher_snapshot_interval < 0:
        raise ConfigError("setting 'matcher_snapshot_interval' must be 0 or more (seconds)")
    return settings
