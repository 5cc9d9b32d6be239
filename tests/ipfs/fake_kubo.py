"""An httpx transport that answers like Kubo's RPC API (``/api/v0``), for KuboStore tests.

No IPFS daemon can run here, so this plays one: the command names, query flags, multipart
uploads, NDJSON and error bodies follow Kubo's RPC documentation. Its blocks live in a LocalStore
(the node's "repo"). Switches make it misbehave the ways a real node or a proxy in front of it can.
"""

import io
import json
from email.parser import BytesParser
from email.policy import HTTP

import httpx

from ipfs import BlockNotFound, LocalStore, NotPinned, compute_cid

KUBO_ADD_FLAGS = {"cid-version": "1", "raw-leaves": "true", "chunker": "size-262144", "hash": "sha2-256"}


class FakeKubo:
    def __init__(self, repo):
        self.repo = LocalStore(repo)
        self.calls: list[tuple[str, dict]] = []
        self.lie_on_add = False  # answer add with another file's CID
        self.corrupt_content = False  # flip a byte in cat / block/get / dag/export answers
        self.export_extra_root = False  # dag/export a CAR for another root
        self.down = False  # refuse connections
        self.transport = httpx.MockTransport(self._handle)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=self.transport)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("Connection refused", request=request)
        if request.method != "POST":
            return httpx.Response(405, text="405 - Method Not Allowed")
        command = request.url.path.removeprefix("/api/v0/")
        params = dict(request.url.params)
        self.calls.append((command, params))
        handler = getattr(self, "_" + command.replace("/", "_"), None)
        if handler is None:
            return httpx.Response(404, text="404 page not found")
        try:
            return handler(request, params)
        except BlockNotFound as exc:
            return _error(f"block was not found locally (offline): ipld: could not find {exc.cid}")

    def _version(self, request, params):
        return httpx.Response(200, json={"Version": "0.32.1", "Commit": "", "Repo": "16", "System": "amd64/linux"})

    def _add(self, request, params):
        unsupported = {k: params.get(k) for k, v in KUBO_ADD_FLAGS.items() if params.get(k) != v}
        if unsupported:
            return _error(f"fake Kubo only models `ipfs add` with {KUBO_ADD_FLAGS}, got {unsupported}")
        data = _upload(request)
        cid = self.repo.add(data) if params.get("pin") == "true" else compute_cid(data)
        answer = compute_cid(data + b"!") if self.lie_on_add else cid
        return _ndjson([{"Name": "file", "Hash": answer, "Size": str(len(data))}])

    def _cat(self, request, params):
        return httpx.Response(200, content=self._maybe_corrupt(self.repo.cat(params["arg"])))

    def _block_get(self, request, params):
        return httpx.Response(200, content=self._maybe_corrupt(self.repo.get_block(params["arg"])))

    def _block_stat(self, request, params):
        if params.get("offline") != "true":
            return _error("fake Kubo has no network to search; pass offline=true")
        cid = params["arg"]
        if not self.repo.has(cid):
            raise BlockNotFound(cid, "")
        return httpx.Response(200, json={"Key": cid, "Size": len(self.repo.get_block(cid))})

    def _pin_add(self, request, params):
        self.repo.pin(params["arg"])
        return httpx.Response(200, json={"Pins": [params["arg"]]})

    def _pin_rm(self, request, params):
        try:
            self.repo.unpin(params["arg"])
        except NotPinned:
            return _error("not pinned or pinned indirectly")
        return httpx.Response(200, json={"Pins": [params["arg"]]})

    def _pin_ls(self, request, params):
        return httpx.Response(200, json={"Keys": {cid: {"Type": "recursive"} for cid in self.repo.pins()}})

    def _repo_gc(self, request, params):
        return _ndjson([{"Key": {"/": cid}} for cid in self.repo.gc()])

    def _dag_export(self, request, params):
        out = io.BytesIO()
        root = params["arg"]
        if self.export_extra_root:
            root = self.repo.add(b"some other file")
        self.repo.export_car(root, out)
        return httpx.Response(200, content=self._maybe_corrupt(out.getvalue()),
                              headers={"Content-Type": "application/vnd.ipld.car"})

    def _dag_import(self, request, params):
        roots = self.repo.import_car(io.BytesIO(_upload(request)))
        return _ndjson([{"Root": {"Cid": {"/": root}, "PinErrorMsg": ""}} for root in roots])

    def _maybe_corrupt(self, data: bytes) -> bytes:
        if not self.corrupt_content or not data:
            return data
        damaged = bytearray(data)
        damaged[-1] ^= 0xFF
        return bytes(damaged)

    def block_count(self) -> int:
        return sum(1 for shard in (self.repo.root / "blocks").iterdir() for _ in shard.iterdir())


def _upload(request: httpx.Request) -> bytes:
    """The single file part of a multipart/form-data body, as Kubo reads it."""
    head = b"Content-Type: " + request.headers["content-type"].encode() + b"\r\n\r\n"
    message = BytesParser(policy=HTTP).parsebytes(head + request.read())
    parts = [part for part in message.iter_parts() if part.get_filename() is not None]
    assert len(parts) == 1, "Kubo expects exactly one file part"
    return parts[0].get_payload(decode=True)


def _ndjson(lines: list[dict]) -> httpx.Response:
    body = "".join(json.dumps(line) + "\n" for line in lines)
    return httpx.Response(200, content=body.encode(), headers={"Content-Type": "application/json"})


def _error(message: str) -> httpx.Response:
    return httpx.Response(500, json={"Message": message, "Code": 0, "Type": "error"})
