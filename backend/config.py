"""Layered configuration: embedded defaults, then an optional TOML file, then `COPYTRACK_*` variables.

Every setting has a default that runs the whole stack on one machine (`make run`); a deployment
at scale overrides the chain RPC, database URL, IPFS API and keys.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from decimal import Decimal, InvalidOperation
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
    # web app: where its built files are (default: frontend/dist in the source tree, built by `make`)
    webapp_dir: str = ""
    # enforcement: partner firms and country terms of the operator (TOML, see docs/enforcement.md),
    # days a letter gives before the next stage, the public address letters link to, outgoing mail
    enforcement_partners_file: str = ""
    enforcement_stage_days: int = 14
    enforcement_min_verification_level: int = 0  # the owner's level (register attestations) a case needs
    enforcement_operators: str = ""  # comma-separated addresses that may act on every case
    enforcement_operator_email: str = ""  # the operator's mailbox for case news (opened, letters, answers, payments)
    public_url: str = ""  # default: http://host:port
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    mail_from: str = "Copytrack <enforcement@localhost>"
    mail_max_attempts: int = 5
    mail_retry_seconds: float = 60.0
    hits_digest_interval: int = 86_400  # seconds between two mails of new hits to an account (0: never)
    # resources (issue 14): what one request may cost, how the stack serves, the embedded chain
    max_image_side: int = 20_000  # longest side, so a 1 x 49,000,000 strip is refused from its header
    max_image_aspect: float = 32.0  # longer side / shorter side
    fingerprint_concurrency: int = 2  # fingerprintings at once per process (each holds up to one decoded image)
    fingerprint_wait: float = 10.0  # seconds a request waits for a fingerprinting slot before a 503
    rate_limit_upload: str = "120/minute"  # per signed-in account, on POST /images
    # per signed-in account, on what makes the server fetch from other sites (POST /reports, .../import)
    rate_limit_fetch: str = "10/minute"
    status_cache_seconds: float = 1.0  # how long /api/v1/status reuses what it read from the chain
    workers: int = 1  # gunicorn worker processes of `copytrack run` (requests only; the jobs stay in `run`)
    threads: int = 8  # threads per worker
    anvil_state_interval: int = 60  # seconds between dumps of the embedded chain's state (and at stop)
    # the sale deployed on a fresh embedded chain: its soft cap in ETH (0: none), to try a missed
    # soft cap and its refunds locally (with `copytrack dev advance` past its close)
    local_sale_soft_cap: str = "0"
    # crawler (docs/crawler.md)
    crawler_enabled: bool = True  # `copytrack run` runs one crawler worker beside the backend
    crawler_seeds: str = ""  # URLs crawled from the start, separated by spaces or commas
    crawler_contact_url: str = ""  # named in the user agent; default: this installation's address
    crawler_threads: int = 4  # hosts crawled at once by one worker
    crawler_concurrency: int = 8  # requests in flight at once in one worker
    crawler_delay: float = 2.0  # seconds between two requests to one host (robots.txt may ask more)
    crawler_timeout: float = 20.0
    crawler_retries: int = 2  # on 429, 5xx and network errors, with backoff
    crawler_max_retry_wait: float = 30.0  # a longer Retry-After puts the URL back in the queue
    crawler_max_redirects: int = 5
    crawler_max_page_bytes: int = 5 * 1024 * 1024
    crawler_max_image_bytes: int = 25 * 1024 * 1024
    crawler_min_image_side: int = 100  # smaller images (icons, pixels) are not fingerprinted
    crawler_max_images_per_page: int = 200
    crawler_max_depth: int = 5  # links followed from a seed or sitemap
    crawler_max_urls_per_host: int = 10_000
    crawler_max_urls_per_shape: int = 50  # URLs differing only in numbers: calendar and paging traps
    crawler_recrawl_interval: float = 24 * 3600.0
    crawler_lease_seconds: float = 120.0
    crawler_allow_networks: str = ""  # CIDR networks allowed despite being private (tests: 127.0.0.0/8)
    crawler_screenshots: str = "auto"  # on | off | auto (on where Chromium is installed)
    crawler_watch_limit: int = 100  # pages and domains one rights-holder may watch
    crawler_idle_wait: float = 5.0  # seconds a worker waits when nothing is due
    # processes fingerprinting crawled images: -1 one fewer than the cores (at least one), 0 in the crawling threads
    crawler_fingerprint_processes: int = -1
    # how long what a case check read of a site (the copy, contact pages) is used again by the opening that follows
    case_site_memory: float = 600.0
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
    def operator_addresses(self) -> frozenset[str]:
        return frozenset(a.strip().lower() for a in self.enforcement_operators.split(",") if a.strip())

    @property
    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def local_sale_soft_cap_wei(self) -> int:
        """The soft cap, in wei, of the sale deployed on the embedded chain."""
        try:
            wei = Decimal(self.local_sale_soft_cap) * 10**18
        except InvalidOperation:
            wei = Decimal(-1)
        if not wei.is_finite() or wei < 0 or wei != wei.to_integral_value():
            raise ConfigError(f"setting 'local_sale_soft_cap' must be an amount of ETH such as 5 or 0.5, "
                              f"got {self.local_sale_soft_cap!r}")
        return int(wei)

    @property
    def mail_domain(self) -> str:
        """The host name of the public address: outgoing mails' Message-IDs end in it."""
        return self.resolved_public_url.split("://", 1)[-1].split(":", 1)[0].split("/", 1)[0]

    @property
    def resolved_crawler_contact_url(self) -> str:
        return self.crawler_contact_url or f"http://{self.resolved_siwe_domain}/"

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
    if settings.case_site_memory < 0:
        raise ConfigError("setting 'case_site_memory' must be 0 or more (seconds)")
    if settings.matcher_snapshot_interval < 0:
        raise ConfigError("setting 'matcher_snapshot_interval' must be 0 or more (seconds)")
    if settings.enforcement_stage_days < 1:
        raise ConfigError("setting 'enforcement_stage_days' must be 1 or more (days a letter gives to answer)")
    if settings.workers < 1 or settings.threads < 1 or settings.fingerprint_concurrency < 1:
        raise ConfigError("settings 'workers', 'threads' and 'fingerprint_concurrency' must be 1 or more")
    if settings.max_image_aspect < 1 or settings.max_image_side < 1:
        raise ConfigError("setting 'max_image_aspect' and 'max_image_side' must be 1 or more")
    if settings.crawler_screenshots not in {"on", "off", "auto"}:
        raise ConfigError("setting 'crawler_screenshots' must be on, off or auto")
    if settings.crawler_fingerprint_processes < -1:
        raise ConfigError("setting 'crawler_fingerprint_processes' must be -1 (one fewer than the cores), 0 (in the "
                          "crawling threads) or a number of processes")
    if settings.hits_digest_interval < 0:
        raise ConfigError("setting 'hits_digest_interval' must be 0 (no mails) or more (seconds)")
    settings.local_sale_soft_cap_wei  # noqa: B018  (refused at start, with the reason, when malformed)
    return settings
