"""Background jobs of the embedded stack (APScheduler in the backend process)."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from backend import accounts
from backend.errors import DomainError
from backend.registry.service import complete_reveals
from backend.services import Services

log = logging.getLogger(__name__)


def poll_chain(services: Services) -> None:
    """Reveal gasless registrations whose commitment is old enough, then index final blocks."""
    try:
        complete_reveals(services.db, services.register(), services.settings.relayer_key)
        result = services.indexer().poll()
    except DomainError as exc:
        log.warning("chain: %s", exc.message)
        return
    if result.events or result.rolled_back_to is not None:
        log.info("indexer: %d event(s), cursor at block %d", result.events, result.cursor)


def purge_expired_credentials(services: Services) -> None:
    with services.db.session() as db:
        accounts.purge_expired(db)


def start_scheduler(services: Services) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(daemon=True)
    scheduler.add_job(
        poll_chain,
        "interval",
        args=[services],
        seconds=services.settings.indexer_interval,
        id="chain",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(purge_expired_credentials, "interval", args=[services], hours=1, id="purge", coalesce=True)
    scheduler.start()
    return scheduler
