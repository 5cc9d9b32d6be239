"""Collections and categories: a rights-holder's own ways to group images (same rules for both)."""

from __future__ import annotations

from typing import Type

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import Conflict, InvalidInput, NotFound
from backend.models import Category, Collection
from backend.text import check_text

NAME_LIMIT = 200

Grouping = Type[Collection] | Type[Category]


def _clean_name(kind: str, name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"a {kind} needs a non-empty 'name'")
    name = check_text(name.strip(), f"the {kind} name")
    if len(name) > NAME_LIMIT:
        raise InvalidInput(f"a {kind} name has at most {NAME_LIMIT} characters, this one has {len(name)}")
    return name


def _kind(model: Grouping) -> str:
    return "collection" if model is Collection else "category"


def create_group(db: Session, model: Grouping, owner: str, name) -> Collection | Category:
    name = _clean_name(_kind(model), name)
    if db.scalar(select(model).where(model.owner == owner, model.name == name)):
        raise Conflict(f"you already have a {_kind(model)} named {name!r}")
    group = model(owner=owner, name=name)
    db.add(group)
    db.flush()
    return group


def rename_group(db: Session, model: Grouping, owner: str, group_id: int, name) -> Collection | Category:
    group = get_group(db, model, owner, group_id)
    name = _clean_name(_kind(model), name)
    clash = db.scalar(select(model).where(model.owner == owner, model.name == name, model.id != group.id))
    if clash:
        raise Conflict(f"you already have a {_kind(model)} named {name!r}")
    group.name = name
    return group


def get_group(db: Session, model: Grouping, owner: str, group_id: int) -> Collection | Category:
    group = db.get(model, group_id)
    if group is None or group.owner != owner:
        raise NotFound(f"no {_kind(model)} {group_id} of yours")
    return group


def list_groups(db: Session, model: Grouping, owner: str) -> list:
    return list(db.scalars(select(model).where(model.owner == owner).order_by(model.name)))


def group_by_name(db: Session, model: Grouping, owner: str, name: str | None):
    """The owner's collection/category called `name`; an unknown name is an error, not a surprise."""
    if name is None or name == "":
        return None
    name = _clean_name(_kind(model), name)
    group = db.scalar(select(model).where(model.owner == owner, model.name == name))
    if group is None:
        raise NotFound(f"you have no {_kind(model)} named {name!r}; create it first", name=name)
    return group
