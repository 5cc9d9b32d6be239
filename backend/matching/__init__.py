"""Image matching: fingerprints of images and an index that finds modified copies.

    fp = fingerprint(image_bytes)          # InvalidImage if the bytes are bad or hostile
    index = MatchIndex(); index.add(registration_id, fp)
    index.search(fingerprint(other_bytes))  # -> [Match(key, score, kind)], best first

Knows nothing of Flask; see docs/matching.md for how it works and where the threshold comes from.
"""

from .decoding import InvalidImage
from .fingerprints import Fingerprint, fingerprint, fingerprint_bytes
from .index import Match, MatchIndex

__all__ = ["Fingerprint", "InvalidImage", "Match", "MatchIndex", "fingerprint", "fingerprint_bytes"]
