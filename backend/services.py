"""Everything a request or a CLI command needs, built once from the settings.

The chain connection is lazy and re-checked: the backend starts and serves uploads even while
the chain node is down, and picks the chain up when it comes back.
"""

from __future__ import annotations

import logging
import threading
from functools import cached_property

from web3 import Web3

from backend.chain.client import connect, require_connection
from backend.chain.deploy import Deployment, read_deployment
from backend.chain.indexer import RegisterIndexer
from backend.chain.register import RegisterContract
from backend.config import Settings
from backend.db import Database
from backend.errors import ChainUnavailable

log = logging.getLogger(__name__)


class Services:
    def __init__(self, settings: Settings):
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(settings.resolved_database_url)
        self.stopping = threading.Event()  # set at shutdown: long jobs stop between steps

    @cached_property
    def store(self):
        from ipfs import open_store

        return open_store(self.settings.data_dir / "ipfs", kubo_api=self.settings.ipfs_api or None)

    @cached_property
    def matcher(self):
        from backend.registry.matcher import RegisteredImages

        return RegisteredImages(
            self.store,
            max_bytes=self.settings.max_upload_bytes,
            phash_distance=self.settings.near_duplicate_distance,
            snapshot_dir=self.settings.resolved_matcher_snapshot_dir,
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

    def indexer(self) -> RegisterIndexer:
        deployment = self.deployment()
        return RegisterIndexer(
            self.db,
            self.register(),
            start_block=deployment.blocks["CopyrightRegister"],
            confirmations=self.settings.confirmations,
            batch_blocks=self.settings.indexer_batch_blocks,
        )

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

    def crawler(self, worker: str, *, resolver=None, allow_private: bool = False, on_hit=None):
        """A crawler worker named `worker` (unique per process), fetching with `resolver` (tests)."""
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
        fetcher = Fetcher(self.fetch_policy(allow_private=allow_private), resolver=resolver or system_resolver)
        return Crawler(self.db, self.store, self.matcher, fetcher, config, worker, on_hit=on_hit)

    def close(self) -> None:
        self.db.dispose()
