"""Background jobs of the embedded stack (APScheduler in the backend process)."""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timezone

from apscheduler.schedulers.background import BackgroundScheduler

from backend import accounts
from backend.enforcement.cases import escalate_due
from backend.enforcement.mail import deliver_due, sweep_interrupted
from backend.errors import DomainError
from backend.registry.matcher import SYNC_BATCH
from backend.registry.relay import advance_batches, complete_reveals
from backend.services import Services

log = logging.getLogger(__name__)


def poll_chain(services: Services) -> None:
    """Finish gasless registrations from the chain's state (relay batches: commits lost in a crash
    are sent again, commitments a block old revealed), then index final blocks. Each step runs
    whatever the one before met (a relayer without funds never stops the indexer)."""
    for step in (advance_batches, complete_reveals):
        try:
            step(services.db, services.register(), services.settings.relayer_key)
        except DomainError as exc:
            log.warning("chain: %s", exc.message)
    try:
        result = services.indexer().poll()
    except DomainError as exc:
        log.warning("chain: %s", exc.message)
        return
    if result.events or result.rolled_back_to is not None:
        log.info("indexer: %d event(s), cursor at block %d", result.events, result.cursor)


def follow_registrations(services: Services) -> None:
    """Bring the matching index up to the indexer, so that a request rarely has events to read,
    and write a snapshot of it once a change is older than `matcher_snapshot_interval`.

    Works in steps, so that a long catch-up (the first start, without a snapshot) lets lookups
    in between, writes snapshots as it goes, and stops at shutdown."""
    matcher = services.matcher
    while not services.stopping.is_set():
        with services.db.session() as db:
            read = matcher.sync(db, max_events=SYNC_BATCH)
        unsaved = matcher.unsaved_for()
        if unsaved is not None and unsaved >= services.settings.matcher_snapshot_interval:
            save_matcher_snapshot(services)
        if read < SYNC_BATCH:
            return


def save_matcher_snapshot(services: Services) -> None:
    """Write a snapshot of the matching index if it changed (the previous one stays on failure)."""
    try:
        services.matcher.save_snapshot()
    except OSError as exc:
        log.error("matcher: cannot write a snapshot to %s (%s); the previous one is kept",
                  services.settings.resolved_matcher_snapshot_dir, exc)


def purge_expired_credentials(services: Services) -> None:
    with services.db.session() as db:
        accounts.purge_expired(db)


def escalate_cases(services: Services) -> None:
    """Enforcement: move cases whose deadline passed one rung up (safe to kill and re-run)."""
    try:
        counts = escalate_due(services.enforcement())
    except DomainError as exc:
        log.warning("enforcement: %s", exc.message)
        return
    if any(counts.values()):
        log.info("enforcement: %s", counts)


def deliver_mail(services: Services) -> None:
    """Enforcement: hand due outbox mail to the SMTP server (at most once; see enforcement/mail.py)."""
    smtp = services.smtp()
    sweep_interrupted(services.db, smtp)
    deliver_due(services.db, smtp)


def send_hit_digests(services: Services) -> None:
    """Mail each account that asked for it the new hits of its images (at most once per interval)."""
    from datetime import timedelta

    from backend.enforcement.digest import DigestSettings, send_hit_digests as send

    settings = services.settings
    sent = send(services.db, DigestSettings(public_url=settings.resolved_public_url, sender_domain=settings.mail_domain,
                                            interval=timedelta(seconds=settings.hits_digest_interval)))
    if sent:
        log.info("digests: %d mail(s) of new hits queued", sent)


def crawl_continuously(services: Services) -> None:
    """One crawler worker in the backend process, until shutdown (the scheduler restarts it if it
    ever fails). The seeds of the settings are queued once; they are recrawled like any page."""
    settings = services.settings
    crawler = services.crawler(f"{socket.gethostname()}-{os.getpid()}-run")
    try:
        crawler.seed(settings.crawler_seeds.replace(",", " ").split(), again=False)
    except DomainError as exc:
        log.error("crawler: setting crawler_seeds: %s; crawling the frontier without them", exc.message)
    crawler.run(services.stopping, threads=settings.crawler_threads, idle_wait=settings.crawler_idle_wait)


def search_crawled_images(services: Services) -> None:
    """Search every new registration among the images already crawled; hits appear at once."""
    seen = services.seen_images
    with services.db.session() as db:
        seen.follow_prints(db)
        found = seen.search_new_registrations(db, services.matcher)
    if found:
        log.info("crawler: %d hit(s) of new registrations among the images already crawled", found)
    try:
        seen.save_snapshot()
    except OSError as exc:
        log.error("crawler: cannot write the crawled images' index snapshot (%s); it is rebuilt from the "
                  "database at the next start", exc)


def add_crawler_jobs(scheduler: BackgroundScheduler, services: Services) -> None:
    """The crawler's jobs, the same in `copytrack run` and in each `copytrack crawler` worker: the
    worker itself, and the search of new registrations among the images crawled so far."""
    scheduler.add_job(crawl_continuously, args=[services], id="crawler")  # once: it runs until shutdown
    scheduler.add_job(search_crawled_images, "interval", args=[services], id="crawled-images",
                      seconds=max(services.settings.indexer_interval, 5.0), max_instances=1, coalesce=True,
                      next_run_time=datetime.now(timezone.utc))


def start_scheduler(services: Services) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(daemon=True)
    for job, name in ((poll_chain, "chain"), (follow_registrations, "matcher")):
        # The first round runs at start-up: it finishes what a crash left (relay batches).
        scheduler.add_job(job, "interval", args=[services], seconds=services.settings.indexer_interval,
                          id=name, max_instances=1, coalesce=True, next_run_time=datetime.now(timezone.utc))
    scheduler.add_job(purge_expired_credentials, "interval", args=[services], hours=1, id="purge", coalesce=True)
    scheduler.add_job(escalate_cases, "interval", args=[services], minutes=10, id="enforcement", max_instances=1, coalesce=True)
    scheduler.add_job(deliver_mail, "interval", args=[services], seconds=30, id="mail", max_instances=1, coalesce=True)
    if services.settings.hits_digest_interval > 0:
        scheduler.add_job(send_hit_digests, "interval", args=[services], id="digests", max_instances=1, coalesce=True,
                          seconds=min(services.settings.hits_digest_interval, 600))
    if services.settings.crawler_enabled:
        add_crawler_jobs(scheduler, services)
    scheduler.start()
    return scheduler
