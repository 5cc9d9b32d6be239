"""``copytrack ipfs ...``: add, cat, export, import and gc on the configured store.

The store comes from the click context (any parent that put a ``Store`` in ``ctx.obj``) or from
``--data-dir`` (the embedded store in DATA_DIR/ipfs, or Kubo when COPYTRACK_IPFS_API is set).
"""

import os
from pathlib import Path

import click

from ipfs import open_store
from ipfs.errors import IpfsError
from ipfs.store import Store


@click.group("ipfs")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="COPYTRACK_DATA_DIR",
    help="Copytrack data directory; blocks live in DATA_DIR/ipfs. Env: COPYTRACK_DATA_DIR.",
)
@click.pass_context
def ipfs(ctx: click.Context, data_dir: Path | None) -> None:
    """Store files with the CIDs Kubo computes, and move them as CAR files."""
    if data_dir is not None:
        ctx.obj = open_store(data_dir / "ipfs", os.environ.get("COPYTRACK_IPFS_API"))


def _store() -> Store:
    store = click.get_current_context().find_object(Store)
    if store is None:
        raise click.UsageError("no IPFS store: pass --data-dir DIR (or set COPYTRACK_DATA_DIR)")
    return store


def _fail(exc: IpfsError) -> click.ClickException:
    return click.ClickException(str(exc))


@ipfs.command()
@click.argument("file", type=click.File("rb"))
def add(file) -> None:
    """Add FILE, pin it and print its CID."""
    size = _size(file)
    try:
        if size is None:  # a pipe: no length to show progress against
            cid = _store().add(file)
        else:
            with click.progressbar(length=size, label="adding", file=click.get_text_stream("stderr")) as bar:
                cid = _store().add(_Progress(file, bar.update))
    except IpfsError as exc:
        raise _fail(exc) from None
    click.echo(cid)


@ipfs.command()
@click.argument("cid")
def cat(cid: str) -> None:
    """Write the content of CID to standard output (verified block by block)."""
    out = click.get_binary_stream("stdout")
    try:
        for chunk in _store().open(cid):
            out.write(chunk)
    except IpfsError as exc:
        raise _fail(exc) from None
    out.flush()


@ipfs.command("export")
@click.argument("cid")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def export(cid: str, out: Path) -> None:
    """Write the DAG of CID to OUT as a CAR v1 file (for `ipfs dag import` or a pinning service)."""
    partial = out.with_name(out.name + ".part")
    try:
        with open(partial, "wb") as handle:
            _store().export_car(cid, handle)
        partial.replace(out)
    except IpfsError as exc:
        partial.unlink(missing_ok=True)
        raise _fail(exc) from None
    click.echo(f"wrote {out} ({out.stat().st_size} bytes)")


@ipfs.command("import")
@click.argument("car", type=click.File("rb"))
def import_(car) -> None:
    """Import every block of the CAR v1 file CAR (verified) and pin its roots; print the roots."""
    try:
        roots = _store().import_car(car)
    except IpfsError as exc:
        raise _fail(exc) from None
    for root in roots:
        click.echo(root)


@ipfs.command()
def gc() -> None:
    """Delete every block that no pin needs; print how many were removed."""
    try:
        removed = _store().gc()
    except IpfsError as exc:
        raise _fail(exc) from None
    click.echo(f"removed {len(removed)} blocks")


def _size(file) -> int | None:
    try:
        return os.fstat(file.fileno()).st_size
    except (OSError, AttributeError, ValueError):
        return None


class _Progress:
    """Reports how many bytes were read from the wrapped binary file."""

    def __init__(self, inner, report):
        self._inner, self._report = inner, report

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read(size)
        self._report(len(data))
        return data
