"""Everything a request or a CLI command needs, built once from the settings.

The chain connection is lazy and re-checked: the backend starts and serves uploads even while
the chain node is down, and picks the chain up when it comes back.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from functools import cached_property

from web3 import Web3

from backend.chain.client import connect, require_connection
from backend.chain.deploy import Deployment, read_deployment
from backend.chain.indexer import RegisterIndexer
from backend.chain.register import RegisterContract
from backend.config import Settings
from backend.db import Database
from backend.errors import ChainUnavailable, DomainError
from backend.registry import relay

log = logging.getLogger(__name__)


class Services:
    def __init__(self, settings: Settings):
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(settings.resolved_database_url)
        relay.use_lock_directory(settings.data_dir.resolve())  # `run` and its web workers share it
        self.stopping = threading.Event()  # set at shutdown: long jobs stop between steps
        self._status_lock = threading.Lock()
        self._status: tuple[float, dict] | None = None  # (time.monotonic() read, what was read)

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

    def close(self) -> None:
        self.db.dispose()
