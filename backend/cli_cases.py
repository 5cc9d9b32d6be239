"""`copytrack cases`: the operator's view of enforcement cases, and their actions, from the shell.

The CLI acts as the operator (the deployer key of the settings, which holds the escrow's case
manager role): it may hold, resume and close any case, run the escalation job once and hand
the outbox to the SMTP server.
"""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from backend.chain.client import operator
from backend.config import ConfigError, load_settings
from backend.errors import DomainError

# Not imported from backend.cli: `python -m backend.cli` runs that module as __main__, and
# importing it back from here would load a second copy half-way.
console = Console()
CliError = click.ClickException


def _services():
    from backend.services import Services

    try:
        return Services(load_settings())
    except ConfigError as exc:
        raise CliError(str(exc)) from None


def _operator_env(services):
    try:
        env = services.enforcement()
    except DomainError as exc:
        raise CliError(exc.message) from None
    return env, frozenset({operator(services.settings.deployer_key).address.lower()})


@click.group()
def cases() -> None:
    """List enforcement cases and act on them as the operator."""


@cases.command("list")
@click.option("--status", help="only cases with this status (active, held, paused, settled, closed)")
@click.option("--stage", help="only cases at this stage (post_licensing_letter, invoice, legal_letter, court_claim)")
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table")
def list_cases(status, stage, as_json) -> None:
    """The cases, newest first."""
    from backend.enforcement.models import Case

    services = _services()
    services.db.migrate()
    query = select(Case).order_by(Case.id.desc())
    if status:
        query = query.where(Case.status == status)
    if stage:
        query = query.where(Case.stage == stage)
    with services.db.session() as db:
        rows = [
            {"id": c.id, "code": c.public_code, "domain": c.domain, "country": c.country, "stage": c.stage,
             "status": c.status, "deadline": c.deadline.isoformat() if c.deadline else None,
             "claim": c.claim["total"], "asset": c.claim["asset"], "registration_id": c.registration_id}
            for c in db.scalars(query)
        ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table("id", "code", "domain", "country", "stage", "status", "deadline", "claim (smallest unit)")
    for row in rows:
        table.add_row(str(row["id"]), row["code"], row["domain"], row["country"], row["stage"], row["status"],
                      row["deadline"] or "-", row["claim"])
    console.print(table)


@cases.command()
@click.argument("case_id", type=int)
def show(case_id: int) -> None:
    """One case: the claim's calculation and the timeline."""
    from backend.enforcement.models import Case

    services = _services()
    with services.db.session() as db:
        case = db.get(Case, case_id)
        if case is None:
            raise CliError(f"no case {case_id}; `copytrack cases list` shows them")
        console.print(f"[bold]{case.public_code}[/bold] {case.domain} ({case.country}) — {case.stage}, {case.status}")
        console.print(f"page {case.page_url}\nimage {case.image_url}\nrecipient {case.recipient_email}")
        claim = Table("item", "amount", "basis", title="claim")
        for line in case.claim["lines"]:
            claim.add_row(line["item"], line["amount"], line["basis"])
        console.print(claim)
        timeline = Table("at", "actor", "event", "detail", title="timeline")
        for entry in case.timeline:
            timeline.add_row(entry.at.isoformat(timespec="seconds"), entry.actor, entry.event, json.dumps(entry.detail)[:120])
        console.print(timeline)


def _act(action, case_id: int, reason: str | None = None) -> None:
    services = _services()
    env, operators = _operator_env(services)
    actor = next(iter(operators))
    try:
        if reason is None:
            action(env, case_id, actor, operators=operators)
        else:
            action(env, case_id, actor, reason, operators=operators)
    except DomainError as exc:
        raise CliError(exc.message) from None


@cases.command()
@click.argument("case_id", type=int)
@click.option("--reason", required=True, help="why the case waits (kept in its timeline)")
def hold(case_id: int, reason: str) -> None:
    """Stop a case's clock at its current stage."""
    from backend.enforcement.cases import hold as hold_case

    _act(hold_case, case_id, reason)
    console.print(f"case {case_id} held")


@cases.command()
@click.argument("case_id", type=int)
def resume(case_id: int) -> None:
    """Restart a held or paused case with a fresh deadline."""
    from backend.enforcement.cases import resume as resume_case

    _act(resume_case, case_id)
    console.print(f"case {case_id} resumed")


@cases.command()
@click.argument("case_id", type=int)
@click.option("--reason", required=True, help="why the case ends (kept in its timeline)")
def close(case_id: int, reason: str) -> None:
    """Close a case for good (logged on the escrow)."""
    from backend.enforcement.cases import close as close_case

    _act(close_case, case_id, reason)
    console.print(f"case {case_id} closed")


def _registration_owner(services, registration_id: str) -> str:
    from backend.models import Registration

    with services.db.session() as db:
        registration = db.get(Registration, registration_id.lower())
    if registration is None:
        raise CliError(f"no final registration {registration_id}; the id is 0x and the file's SHA-256 (64 hex digits)")
    return registration.owner


def _assessed(registration_id: str, domain: str, act):
    services = _services()
    services.db.migrate()
    owner = _registration_owner(services, registration_id)
    try:
        return act(services.case_opening(), owner)
    except DomainError as exc:
        failures = exc.details.get("failures")
        raise CliError("\n".join([exc.message.split(": ", 1)[0] + ":", *(f"- {f}" for f in failures)])
                       if failures else exc.message) from None


@cases.command()
@click.argument("registration_id")
@click.argument("domain")
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of a summary")
def viability(registration_id: str, domain: str, as_json: bool) -> None:
    """What a case for the owner's illegal hits of REGISTRATION_ID on DOMAIN would pass and fail."""
    from backend.enforcement.opening import assess

    result = _assessed(registration_id, domain, lambda opening, owner: assess(opening, owner, registration_id, domain))
    body = result.as_dict()
    if as_json:
        click.echo(json.dumps(body, indent=2))
        return
    console.print(f"{body['domain']}: {'viable' if body['viable'] else 'not viable'} "
                  f"(country {body['country']['country'] or '?'}, contact {body['recipient']['email'] or '-'}, "
                  f"claim {body['claim']['total'] if body['claim'] else '-'})")
    for failure in body["failures"]:
        console.print(f"- {failure}")


@cases.command("open")
@click.argument("registration_id")
@click.argument("domain")
@click.option("--licence-type", default="standard", show_default=True,
              type=click.Choice(["standard", "extended", "editorial", "exclusive"]), help="the use the claim prices")
@click.option("--damages-factor", default="1", show_default=True, help="times the licence fee, at most the country's bound")
@click.option("--minimum", type=click.IntRange(min=1), help="the least the owner accepts (the asset's smallest unit)")
@click.option("--notify-email", help="where the owner hears of the case (default: as for their newest case)")
def open_(registration_id: str, domain: str, licence_type: str, damages_factor: str, minimum: int | None,
          notify_email: str | None) -> None:
    """Open the case against DOMAIN from the owner's hits of REGISTRATION_ID marked illegal there
    (on the owner's behalf: the viability checks run first, then the first letter goes out)."""
    from backend.enforcement.opening import Terms, open_from_hits

    terms = Terms(licence_type, damages_factor, minimum, notify_email)
    opened = _assessed(registration_id, domain,
                       lambda opening, owner: open_from_hits(opening, owner, registration_id, domain, terms))
    console.print(f"case {opened.case_id} ({opened.public_code}) opened; the post-licensing letter is queued")


@cases.command()
def escalate() -> None:
    """Run the escalation job once (what the scheduler does every 10 minutes)."""
    from backend.enforcement.cases import escalate_due

    services = _services()
    env, _ = _operator_env(services)
    console.print(escalate_due(env))


@cases.command()
@click.option("--requeue", "requeue_id", type=int, help="put an uncertain or failed message back in the queue first")
def mail(requeue_id: int | None) -> None:
    """Hand due mail to the SMTP server once; list what is not sent."""
    from backend.enforcement.mail import deliver_due, requeue, sweep_interrupted
    from backend.enforcement.models import OutboxMessage

    services = _services()
    if requeue_id is not None:
        try:
            with services.db.session() as db:
                requeue(db, requeue_id)
        except DomainError as exc:
            raise CliError(exc.message) from None
    smtp = services.smtp()
    sweep_interrupted(services.db, smtp)
    console.print(f"{deliver_due(services.db, smtp)} message(s) sent")
    with services.db.session() as db:
        waiting = db.scalars(select(OutboxMessage).where(OutboxMessage.status != "sent").order_by(OutboxMessage.id)).all()
        table = Table("id", "to", "status", "attempts", "last error", title="not sent")
        for message in waiting:
            table.add_row(str(message.id), message.to_address, message.status, str(message.attempts), message.last_error or "")
    console.print(table)
