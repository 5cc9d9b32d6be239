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
from backend.chain import artifacts
from backend.chain.indexer import ChainIndexer, RegisterEvents
from backend.chain.register import RegisterContract
from backend.chain.sale import Sale, SaleEvents
from backend.config import Settings
from backend.db import Database
from backend.errors import ChainUnavailable
from backend.marketplace import LicenseMarket
from backend.marketplace.indexing import MarketEvents, SettlementEvents

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

    def close(self) -> None:
        self.db.dispose()
