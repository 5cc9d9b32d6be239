"""Everything a request or a CLI command needs, built once from the settings.

The chain connection is lazy and re-checked: the backend starts and serves uploads even while
the chain node is down, and picks the chain up when it comes back.
"""

from __future__ import annotations

import copy
import logging
import os
import secrets
import threading
import time
from functools import cached_property

from web3 import Web3

from backend.chain.client import connect, require_connection
from backend.chain.deploy import Deployment, read_deployment
from backend.chain import artifacts
from backend.chain.indexer import ChainIndexer, RegisterEvents
from backend.chain.register import RegisterContract
from backend.chain.sale import Sale, SaleEvents
from backend.config import Settings
from backend.db import Database
from backend.errors import ChainUnavailable, DomainError
from backend.marketplace import LicenseMarket
from backend.marketplace.indexing import MarketEvents, SettlementEvents
from backend.registry import relay

log = logging.getLogger(__name__)


class Services:
    def __init__(self, settings: Settings):
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(settings.resolved_database_url, pool_size=max(5, settings.crawler_threads + 2))
        relay.use_lock_directory(settings.data_dir.resolve())  # `run` and its web workers share it
        self.stopping = threading.Event()  # set at shutdown: long jobs stop between steps
        self._status_lock = threading.Lock()
        self._status: tuple[float, dict] | None = None  # (time.monotonic() read, what was read)
        # how other people's host names are resolved when the backend reads their sites (None: DNS);
        # tests point names at their own servers on 127.0.0.x
        self.site_resolver = None

    @cached_property
    def store(self):
        from ipfs import open_store

        return open_store(self.settings.data_dir / "ipfs", kubo_api=self.settings.ipfs_api or None)

    @cached_property
    def image_limits(self):
        from backend.registry.images import FingerprintSlots, ImageLimits

        settings = self.settings
        return ImageLimits(
            max_bytes=settings.max_upload_bytes,
            max_pixels=settings.max_image_pixels,
            max_side=settings.max_image_side,
            max_aspect=settings.max_image_aspect,
            slots=FingerprintSlots(settings.fingerprint_concurrency, settings.fingerprint_wait),
        )

    @cached_property
    def matcher(self):
        from backend.registry.matcher import RegisteredImages

        return RegisteredImages(
            self.store,
            max_bytes=self.settings.max_upload_bytes,
            phash_distance=self.settings.near_duplicate_distance,
            snapshot_dir=self.settings.resolved_matcher_snapshot_dir,
            slots=self.image_limits.slots,
        )

    @cached_property
    def seen_images(self):
        """The fingerprints of every image crawled, for searching new registrations among them."""
        from backend.crawler.seen import SeenImages

        return SeenImages(self.settings.data_dir / "crawled-index")

    @cached_property
    def w3(self) -> Web3:
        return connect(self.settings.resolved_rpc_url)

    def deployment(self) -> Deployment:
        deployment = read_deployment(self.settings.resolved_deployment_file)
        if deployment is None:
            raise ChainUnavailable(
                f"no contract deployment recorded at {self.settings.resolved_deployment_file}; "
                "start the stack with `copytrack run` (it deploys) or point COPYTRACK_DEPLOYMENT_FILE at one"
            )
        return deployment

    def register(self) -> RegisterContract:
        """The register binding, after checking that the node answers."""
        require_connection(self.w3)
        return RegisterContract(self.w3, self.deployment().address("CopyrightRegister"))

    def market(self) -> LicenseMarket:
        """The licence market binding, after checking that the node answers."""
        require_connection(self.w3)
        return LicenseMarket(self.w3, self.deployment().address("LicenseMarket"))

    def settlement(self):
        """The settlement escrow binding, after checking that the node answers."""
        from backend.marketplace import SettlementEscrow

        require_connection(self.w3)
        return SettlementEscrow(self.w3, self.deployment().address("SettlementEscrow"))

    def sale(self) -> Sale:
        """The CPY sale with its token and vesting contracts, after checking that the node answers."""
        require_connection(self.w3)
        return Sale(self.w3, self.deployment())

    def indexer(self) -> ChainIndexer:
        """One indexer over every contract whose events the backend keeps (those deployed)."""
        deployment = self.deployment()
        require_connection(self.w3)
        sources = [
            kind(deployment.addresses[kind.contract_name], artifacts.abi(kind.contract_name))
            for kind in (RegisterEvents, MarketEvents, SettlementEvents, SaleEvents)
            if kind.contract_name in deployment.addresses
        ]
        return ChainIndexer(
            self.db,
            self.w3,
            sources,
            start_block=min(deployment.blocks[s.contract_name] for s in sources),
            confirmations=self.settings.confirmations,
            batch_blocks=self.settings.indexer_batch_blocks,
        )

    @cached_property
    def secret_key(self) -> str:
        """The `secret_key` setting, else one generated once and kept (owner-only) in data_dir."""
        if self.settings.secret_key:
            return self.settings.secret_key
        path = self.settings.data_dir / "secret_key"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_hex(32))
        return path.read_text().strip()

    @cached_property
    def jurisdictions(self):
        """The enforcement jurisdictions, read and validated once (a bad operator file fails here,
        with the entry named)."""
        from backend.enforcement.jurisdictions import load_jurisdictions

        return load_jurisdictions(self.settings.enforcement_partners_file or None)

    def licence_check(self):
        """(registration id, domain) -> whether a licence on the marketplace covers the domain now;
        asked lazily, so a request that needs no answer needs no chain."""
        from backend.enforcement.cases import licensed_on_marketplace
        from backend.marketplace import LicenseMarket

        def is_licensed(registration_id: str, domain: str) -> bool:
            require_connection(self.w3)
            market = LicenseMarket(self.w3, self.deployment().address("LicenseMarket"))
            return licensed_on_marketplace(market, registration_id, domain, self.w3.eth.get_block("latest")["timestamp"])

        return is_licensed

    def enforcement(self):
        """The enforcement ladder wired to this deployment: the escrow (the deployer holds its case
        manager role), the marketplace's licence check, the IPFS store and the jurisdictions."""
        from backend.chain.client import operator
        from backend.enforcement.cases import Enforcement, licensed_on_marketplace
        from backend.marketplace import LicenseMarket

        require_connection(self.w3)
        deployment = self.deployment()
        market = LicenseMarket(self.w3, deployment.address("LicenseMarket"))

        def read_content(cid: str) -> bytes | None:
            from ipfs.errors import IpfsError

            try:
                return self.store.cat(cid)
            except (IpfsError, OSError):  # not in this store (yet): the document says so instead
                return None

        return Enforcement(
            database=self.db,
            jurisdictions=self.jurisdictions,
            escrow=self.settlement(),
            case_manager=operator(self.settings.deployer_key).address,
            public_url=self.settings.resolved_public_url,
            stage_days=self.settings.enforcement_stage_days,
            min_verification_level=self.settings.enforcement_min_verification_level,
            signing_key=self.secret_key,
            operator_email=self.settings.enforcement_operator_email,
            read_content=read_content,
            is_licensed=lambda registration_id, domain: licensed_on_marketplace(
                market, registration_id, domain, self.w3.eth.get_block("latest")["timestamp"]),
            chain_clock=lambda: self.w3.eth.get_block("latest")["timestamp"],
            sender_domain=self.settings.mail_domain,
        )

    def case_opening(self):
        """What opening a case from hits needs: the ladder, the process's `site_reader` (closed
        with the services), the matcher and the IPFS store."""
        from backend.enforcement.opening import Opening

        return Opening(self.enforcement(), self.site_reader, self.matcher, self.store)

    @cached_property
    def request_fetcher(self):
        """The crawler's fetcher (same SSRF rules) for what this process reads from other sites on
        request: case openings, copies reported by hand, images added from an own site. One for
        the process, so its politeness per host (one request at a time, the delay) holds across
        all of them. Closed with the services."""
        from backend.crawler import Fetcher, system_resolver

        # the resolver is looked up at each request: tests point `site_resolver` at their sites
        return Fetcher(self.fetch_policy(), resolver=lambda host: (self.site_resolver or system_resolver)(host))

    @cached_property
    def request_crawler(self):
        """The crawler API requests fetch and match through, with `request_fetcher`."""
        return self.crawler("api", fetcher=self.request_fetcher)

    @cached_property
    def site_reader(self):
        """Case openings read sites with `request_fetcher`, remembering each site's answers for
        `case_site_memory` seconds."""
        from backend.enforcement.opening import SiteReader

        return SiteReader(self.request_fetcher, remember=self.settings.case_site_memory)

    def smtp(self):
        from backend.enforcement.mail import SmtpSettings

        s = self.settings
        return SmtpSettings(host=s.smtp_host, port=s.smtp_port, sender=s.mail_from, max_attempts=s.mail_max_attempts,
                            retry_seconds=s.mail_retry_seconds)

    def chain_status(self) -> dict:
        """The chain's part of /api/v1/status, read at most once per `status_cache_seconds`: a
        status poll under load costs a dictionary copy, not three calls to the node."""
        with self._status_lock:  # one request reads the chain, the others wait and reuse it
            now = time.monotonic()
            if self._status is None or now - self._status[0] >= self.settings.status_cache_seconds:
                self._status = (now, self._read_chain_status())
            return copy.deepcopy(self._status[1])

    def _read_chain_status(self) -> dict:
        settings = self.settings
        body = {"chain": {"chain_id": settings.chain_id, "rpc_url": settings.resolved_public_rpc_url}}
        try:
            deployment = self.deployment()
            body["contracts"] = deployment.addresses
            register = self.register()
            body["chain"]["head"] = register.w3.eth.block_number
            body["chain"]["registrations_on_chain"] = register.registration_count()
            with self.db.session() as db:
                body["indexer_cursor"] = self.indexer().cursor(db)
        except DomainError as exc:
            body["chain"]["error"] = exc.message
        return body

    def fetch_policy(self, *, allow_private: bool = False):
        """How the crawler (and anyone reading other people's websites) fetches, from the settings."""
        from importlib.metadata import version

        from backend.crawler import FetchPolicy

        s = self.settings
        return FetchPolicy(
            user_agent=f"CopytrackBot/{version('copytrack')} (+{s.resolved_crawler_contact_url})",
            allow_networks=[n for n in s.crawler_allow_networks.replace(",", " ").split() if n],
            allow_private=allow_private, delay=s.crawler_delay, concurrency=s.crawler_concurrency,
            timeout=s.crawler_timeout, max_bytes=s.crawler_max_image_bytes, max_redirects=s.crawler_max_redirects,
            retries=s.crawler_retries, max_retry_wait=s.crawler_max_retry_wait,
        )

    def crawler(self, worker: str, *, resolver=None, allow_private: bool = False, on_hit=None, fetcher=None):
        """A crawler worker named `worker` (unique per process), fetching with `fetcher`, else a
        fetcher of its own that resolves names with `resolver` (tests)."""
        from backend.crawler import Budget, CrawlConfig, Crawler, Fetcher, system_resolver
        from backend.crawler.evidence import chromium_available

        s = self.settings
        config = CrawlConfig(
            budget=Budget(s.crawler_max_depth, s.crawler_max_urls_per_host, s.crawler_max_urls_per_shape),
            recrawl_interval=s.crawler_recrawl_interval, lease_seconds=s.crawler_lease_seconds,
            page_max_bytes=s.crawler_max_page_bytes, image_max_bytes=s.crawler_max_image_bytes,
            min_image_side=s.crawler_min_image_side, max_images_per_page=s.crawler_max_images_per_page,
            screenshots=s.crawler_screenshots == "on" or (s.crawler_screenshots == "auto" and chromium_available()),
            software=self.fetch_policy().user_agent,
        )
        fetcher = fetcher or Fetcher(self.fetch_policy(allow_private=allow_private), resolver=resolver or system_resolver)
        return Crawler(self.db, self.store, self.matcher, fetcher, config, worker, on_hit=on_hit,
                       fingerprints=self.fingerprint_pool, is_licensed=self.licence_check())

    @cached_property
    def fingerprint_pool(self):
        """Processes that fingerprint crawled images beside the crawling threads (fingerprinting is
        CPU work that holds the GIL), or None to fingerprint in those threads. By default one
        fewer than the cores: the crawling process keeps one (on the 2-core bench, one process
        crawled 2,000 pages in 26 s, two in 31 s and none in 62 s)."""
        from backend.matching.pool import fingerprint_pool, pool_size

        processes = pool_size(self.settings.crawler_fingerprint_processes)
        return fingerprint_pool(processes) if processes else None

    def close(self) -> None:
        if self.__dict__.get("request_fetcher") is not None:
            self.request_fetcher.close()
        if self.__dict__.get("fingerprint_pool") is not None:
            self.fingerprint_pool.shutdown(wait=True, cancel_futures=True)
        self.db.dispose()
