"""How long a case document takes to render as PDF, per kind and language (the escalation job
renders one per case and stage), and how large it is. The images are 1024×768 photographs.

Prints a Markdown table. Run: .venv/bin/python bench/bench_enforcement_documents.py
"""

import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.enforcement.documents import render_document  # noqa: E402
from tests.enforcement.documents_fixture import context  # noqa: E402
from tests.images import encode, picture  # noqa: E402

ROUNDS = 5
KINDS = ("post_licensing_letter", "invoice", "legal_letter", "dmca_notice")


def best_seconds(work) -> float:
    """Fastest of several rounds: the least disturbed by other processes on a shared machine."""
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    registered = encode(picture(1, (1024, 768)), "JPEG", quality=90)
    found = encode(picture(1, (1024, 768)).resize((800, 600)), "JPEG", quality=80)
    print("| document | language | ms per PDF | KiB |")
    print("|---|---|---:|---:|")
    for kind in KINDS:
        for language in ("en", "de", "ja"):
            ctx = context(kind, language)
            ctx = replace(ctx, registration=replace(ctx.registration, image=registered),
                          evidence=replace(ctx.evidence, image=found))
            size = len(render_document(ctx))
            seconds = best_seconds(lambda: render_document(ctx))
            print(f"| {kind} | {language} | {seconds * 1000:.0f} | {size / 1024:.0f} |")


if __name__ == "__main__":
    main()
