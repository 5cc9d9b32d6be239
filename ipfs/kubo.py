"""A Store backed by a Kubo node's RPC API (``/api/v0``), trusting nothing it returns.

Every CID the node reports is compared with the one computed here, content read back is
re-hashed before it is handed out, and blocks are checked against their CIDs.
"""

import contextlib
import io
import json
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

import httpx

from ipfs.car import CarReader, check_complete, iter_car_bytes
from ipfs.cids import DAG_PB, cid_text, codec_of, to_cid, verify_block
from ipfs.dag import child_cids
from ipfs.errors import BlockNotFound, IpfsError, NodeMismatch, NotPinned
from ipfs.importer import CHUNK_SIZE, Source, check_source, compute_cid
from ipfs.store import Store

# Kubo's flags for the CIDs compute_cid() gives (what `ipfs add --cid-version=1` implies).
ADD_PARAMS = {
    "cid-version": "1",
    "raw-leaves": "true",
    "chunker": f"size-{CHUNK_SIZE}",
    "hash": "sha2-256",
    "pin": "true",
    "quieter": "true",
}
SPOOL_IN_MEMORY = 8 * 1024 * 1024


class KuboStore(Store):
    def __init__(self, api_url: str, client: httpx.Client | None = None):
        if not api_url.startswith(("http://", "https://")):
            raise ValueError(f"Kubo RPC API URL must start with http:// or https://, got {api_url!r}")
        self.api_url = api_url.rstrip("/")
        self._client = client or httpx.Client(timeout=httpx.Timeout(30.0, read=600.0))

    def __repr__(self) -> str:
        return f"KuboStore({self.api_url!r})"

    # -- transport ------------------------------------------------------------------------------

    def _request(self, command: str, params: dict | None = None, **kwargs) -> httpx.Response:
        """POST a command; connection failures become IpfsError, HTTP errors are left to the caller."""
        try:
            return self._client.post(f"{self.api_url}/api/v0/{command}", params=params, **kwargs)
        except httpx.HTTPError as exc:
            raise IpfsError(
                f"cannot reach the Kubo RPC API at {self.api_url} ({command}): {exc}; is the daemon "
                "running and COPYTRACK_IPFS_API right?"
            ) from None

    def _post(self, command: str, params: dict | None = None, **kwargs) -> httpx.Response:
        response = self._request(command, params, **kwargs)
        if response.status_code != 200:
            raise IpfsError(f"Kubo {command} failed: {_error_message(response)}")
        return response

    @contextlib.contextmanager
    def _stream(self, command: str, cid: str) -> Iterator[httpx.Response]:
        """A streamed POST of ``command`` for ``cid``; a missing CID raises BlockNotFound."""
        try:
            with self._client.stream("POST", f"{self.api_url}/api/v0/{command}", params={"arg": cid}) as response:
                if response.status_code != 200:
                    response.read()
                    raise self._lookup_error(command, cid, response)
                yield response
        except httpx.HTTPError as exc:
            raise IpfsError(f"cannot reach the Kubo RPC API at {self.api_url} ({command}): {exc}") from None

    def _lookup_error(self, command: str, cid: str, response: httpx.Response) -> IpfsError:
        message = _error_message(response)
        if "not found" in message.lower() or "could not find" in message.lower():
            return BlockNotFound(cid, f"Kubo at {self.api_url} does not have {cid}: {message}")
        return IpfsError(f"Kubo {command} of {cid} failed: {message}")

    def version(self) -> str:
        body = self._json(self._post("version"), "version")
        if not isinstance(body.get("Version"), str):
            raise IpfsError(f"Kubo version answered without a Version field: {body!r}")
        return body["Version"]

    # -- files ----------------------------------------------------------------------------------

    def add(self, data: Source) -> str:
        with _seekable(data) as source:
            expected = compute_cid(source)
            source.seek(0)
            response = self._post("add", ADD_PARAMS, files={"file": ("file", source, "application/octet-stream")})
        lines = _ndjson(response, "add")
        actual = next((line["Hash"] for line in reversed(lines) if "Hash" in line), None)
        if actual is None:
            raise IpfsError(f"Kubo add answered without a CID: {response.text[:200]!r}")
        self._expect(expected, actual, "add")
        return expected

    def open(self, cid: str) -> Iterator[bytes]:
        """Stream the file from ``/api/v0/cat``; nothing is yielded until the bytes hash to ``cid``.

        The content is spooled (in memory up to 8 MiB, then a temporary file), then its CID is
        recomputed with Kubo's add settings, which is how every Copytrack file was added; content
        added to the node with other settings (CIDv0, other chunkers) fails that check.
        """
        expected = cid_text(to_cid(cid))
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
        try:
            with self._stream("cat", expected) as response:
                for piece in response.iter_bytes():
                    spool.write(piece)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        actual = compute_cid(spool)
        if actual != expected:
            spool.close()
            raise NodeMismatch(
                expected, actual,
                f"Kubo at {self.api_url} returned content for {expected} that hashes to {actual}; "
                "the node's copy is corrupted or was not added with --cid-version=1 defaults",
            )
        spool.seek(0)
        return _drain(spool)

    def get_block(self, cid: str | bytes) -> bytes:
        cid = to_cid(cid)
        text = cid_text(cid)
        response = self._request("block/get", {"arg": text})
        if response.status_code != 200:
            raise self._lookup_error("block/get", text, response)
        verify_block(cid, response.content, f"Kubo at {self.api_url}")
        return response.content

    def has(self, cid: str) -> bool:
        text = cid_text(to_cid(cid))
        # offline: answer from the node's own blockstore instead of searching the network
        response = self._request("block/stat", {"arg": text, "offline": "true"})
        if response.status_code == 200:
            return True
        if "not found" in _error_message(response).lower():
            return False
        raise IpfsError(f"Kubo block/stat failed: {_error_message(response)}")

    # -- pins and gc ----------------------------------------------------------------------------

    def pin(self, cid: str) -> None:
        text = cid_text(to_cid(cid))
        body = self._json(self._post("pin/add", {"arg": text, "recursive": "true"}), "pin/add")
        self._expect_pins(text, body, "pin/add")

    def unpin(self, cid: str) -> None:
        text = cid_text(to_cid(cid))
        response = self._request("pin/rm", {"arg": text, "recursive": "true"})
        if response.status_code != 200:
            message = _error_message(response)
            if "not pinned" in message:
                raise NotPinned(f"{text} is not pinned on Kubo at {self.api_url}: {message}")
            raise IpfsError(f"Kubo pin/rm failed: {message}")
        self._expect_pins(text, self._json(response, "pin/rm"), "pin/rm")

    def pins(self) -> set[str]:
        body = self._json(self._post("pin/ls", {"type": "recursive"}), "pin/ls")
        keys = body.get("Keys")
        if not isinstance(keys, dict):
            raise IpfsError(f"Kubo pin/ls answered without Keys: {str(body)[:200]!r}")
        return {cid_text(to_cid(key)) for key in keys}

    def gc(self) -> list[str]:
        removed = []
        for line in _ndjson(self._post("repo/gc"), "repo/gc"):
            if line.get("Error"):
                raise IpfsError(f"Kubo repo/gc failed: {line['Error']}")
            key = line.get("Key")
            if isinstance(key, dict) and "/" in key:
                removed.append(cid_text(to_cid(key["/"])))
        return sorted(removed)

    # -- CAR files ------------------------------------------------------------------------------

    def export_car(self, cid: str, out: BinaryIO) -> None:
        """Copy ``ipfs dag export`` to ``out`` while checking every block and the DAG's completeness.

        On an error ``out`` may hold part of a CAR; the exception says what was wrong.
        """
        root = to_cid(cid)
        with self._stream("dag/export", cid_text(root)) as response:
            reader = CarReader(_IterReader(response.iter_bytes()))
            if [cid_text(r) for r in reader.roots] != [cid_text(root)]:
                got = ", ".join(cid_text(r) for r in reader.roots)
                raise NodeMismatch(cid_text(root), got, f"Kubo exported a CAR with roots {got}, asked for {cid_text(root)}")
            present, links = set(), {}
            blocks = _recording(reader, present, links)
            for piece in iter_car_bytes(reader.roots, blocks):
                out.write(piece)
        check_complete(reader.roots, present, links)

    def import_car(self, inp: BinaryIO) -> list[str]:
        """Verify the CAR here (every block, every root complete), then ``ipfs dag import`` it."""
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
            reader = CarReader(inp)
            present, links = set(), {}
            for piece in iter_car_bytes(reader.roots, _recording(reader, present, links)):
                spool.write(piece)
            check_complete(reader.roots, present, links)
            spool.seek(0)
            response = self._post(
                "dag/import", {"pin-roots": "true"},
                files={"file": ("import.car", spool, "application/vnd.ipld.car")},
            )
        expected = [cid_text(root) for root in reader.roots]
        reported = set()
        for line in _ndjson(response, "dag/import"):
            root = line.get("Root")
            if isinstance(root, dict):
                if root.get("PinErrorMsg"):
                    raise IpfsError(f"Kubo dag/import could not pin {root.get('Cid')}: {root['PinErrorMsg']}")
                cid = root.get("Cid", {}).get("/")
                if cid:
                    reported.add(cid_text(to_cid(cid)))
        missing = [cid for cid in expected if cid not in reported]
        if missing:
            raise NodeMismatch(
                expected[0], ", ".join(reported) or "nothing",
                f"Kubo dag/import did not report pinning the roots {', '.join(missing)}",
            )
        return expected

    # -- helpers --------------------------------------------------------------------------------

    def _expect(self, expected: str, actual: str, command: str) -> None:
        try:
            same = cid_text(to_cid(actual)) == expected
        except IpfsError:
            same = False
        if not same:
            raise NodeMismatch(
                expected, actual,
                f"Kubo at {self.api_url} answered {command} with CID {actual}, but the bytes hash to "
                f"{expected}; check the node's add settings or whether it is really Kubo",
            )

    def _expect_pins(self, text: str, body: dict, command: str) -> None:
        pins = body.get("Pins")
        if not isinstance(pins, list) or not pins:
            raise IpfsError(f"Kubo {command} answered without Pins: {str(body)[:200]!r}")
        for pinned in pins:
            self._expect(text, pinned, command)

    def _json(self, response: httpx.Response, command: str) -> dict:
        try:
            body = response.json()
        except ValueError:
            raise IpfsError(f"Kubo {command} answered with non-JSON: {response.text[:200]!r}") from None
        if not isinstance(body, dict):
            raise IpfsError(f"Kubo {command} answered with {body!r}, expected a JSON object")
        return body


def _error_message(response: httpx.Response) -> str:
    """Kubo reports errors as ``{"Message": ..., "Code": ..., "Type": "error"}``."""
    try:
        body = response.json()
        if isinstance(body, dict) and body.get("Message"):
            return f"{body['Message']} (HTTP {response.status_code})"
    except ValueError:
        pass
    return f"HTTP {response.status_code}: {response.text[:200]}"


def _ndjson(response: httpx.Response, command: str) -> list[dict]:
    lines = []
    for line in response.text.splitlines():
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            raise IpfsError(f"Kubo {command} answered with a line that is not JSON: {line[:200]!r}") from None
        if isinstance(value, dict):
            lines.append(value)
    return lines


def _recording(blocks, present: set[bytes], links: dict[bytes, list[bytes]]):
    """Pass blocks through, remembering which are present and what dag-pb nodes link to."""
    for cid, data in blocks:
        present.add(cid)
        if codec_of(cid) == DAG_PB:
            links[cid] = child_cids(cid, data)
        yield cid, data


def _drain(spool) -> Iterator[bytes]:
    with spool:
        while piece := spool.read(CHUNK_SIZE):
            yield piece


@contextlib.contextmanager
def _seekable(data: Source) -> Iterator[BinaryIO]:
    """A binary file for ``data`` that can be rewound to where it started: the bytes themselves,
    a window on a seekable file from its current position, or a spooled copy of a stream."""
    check_source(data)
    if isinstance(data, (bytes, bytearray, memoryview)):
        yield io.BytesIO(data)
    elif getattr(data, "seekable", lambda: False)():
        yield _Window(data, data.tell())
    else:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
            while piece := data.read(CHUNK_SIZE):
                spool.write(piece)
            spool.seek(0)
            yield spool


class _Window:
    """A seekable file viewed from ``start`` on, so seek(0) returns to where the caller was."""

    def __init__(self, inner: BinaryIO, start: int):
        self._inner, self._start = inner, start

    def read(self, size: int = -1) -> bytes:
        return self._inner.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 0:
            return self._inner.seek(self._start + offset) - self._start
        return self._inner.seek(offset, whence) - self._start

    def tell(self) -> int:
        return self._inner.tell() - self._start


class _IterReader:
    """A minimal read() over an iterator of byte strings (for parsing a streamed CAR)."""

    def __init__(self, pieces: Iterator[bytes]):
        self._pieces = pieces
        self._buffer = bytearray()

    def read(self, size: int) -> bytes:
        while len(self._buffer) < size:
            piece = next(self._pieces, None)
            if piece is None:
                break
            self._buffer += piece
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out
