"""The adjudication log's hash chain: entry hashes (sha256, or HMAC-SHA256 with a key) and checks.

``hash_i = sha256(canonical JSON of entry_i with prev_hash = hash_{i-1})``, ``hash_0 = GENESIS``.
A keyed log uses ``HMAC-SHA256(key, same bytes)`` instead (RFC 2104): without the key nobody can
compute a valid hash for an edited entry, so an edit plus a recomputed chain is detected.

References
----------
Krawczyk H, Bellare M, Canetti R. HMAC: Keyed-Hashing for Message Authentication. RFC 2104, 1997.
doi:10.17487/RFC2104
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from pathlib import Path

from ..errors import DataError, ParameterError, Problem
from ._logdb import ENTRY, ROW

__all__ = ["GENESIS", "entry_hash", "check_chain", "as_key", "key_from_env_or_file", "key_check",
           "CHAIN_PLAIN", "CHAIN_KEYED", "KEY_ENV", "MIN_KEY_BYTES"]

GENESIS = "0" * 64
CHAIN_PLAIN, CHAIN_KEYED = "sha256", "hmac-sha256"
KEY_ENV = "NETSTRATA_LOG_KEY"
MIN_KEY_BYTES = 16
_KEY_CHECK_MESSAGE = b"netstrata adjudication log key check"


def _canonical(entry: Mapping, prev_hash: str) -> bytes:
    doc = {k: entry[k] for k in ENTRY}
    doc["prev_hash"] = prev_hash
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def entry_hash(entry: Mapping, prev_hash: str, key: bytes | None = None) -> str:
    """sha256 (or HMAC-SHA256 under ``key``) over canonical JSON (sorted keys, no spaces, UTF-8)
    of the entry plus the previous hash."""
    data = _canonical(entry, prev_hash)
    if key is None:
        return hashlib.sha256(data).hexdigest()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def key_check(key: bytes) -> str:
    """A value stored in a keyed log to tell a wrong key from a forged entry (reveals nothing of the key)."""
    return hmac.new(key, _KEY_CHECK_MESSAGE, hashlib.sha256).hexdigest()


def as_key(key) -> bytes | None:
    """Validate a chain key (bytes or text, at least :data:`MIN_KEY_BYTES` bytes) or None."""
    if key is None:
        return None
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, (bytes, bytearray)):
        raise ParameterError(f"The 'key' parameter must be bytes or text. Got {type(key).__name__} instead.")
    if len(key) < MIN_KEY_BYTES:
        raise ParameterError(f"The 'key' parameter must have at least {MIN_KEY_BYTES} bytes (a random key, "
                             f"e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`). "
                             f"Got {len(key)} bytes instead.")
    return bytes(key)


def key_from_env_or_file(key_file=None) -> bytes | None:
    """The chain key from ``key_file`` (surrounding whitespace stripped), else from the environment
    variable :data:`KEY_ENV`, else None."""
    if key_file is not None:
        path = Path(key_file).expanduser()
        try:
            data = path.read_bytes().strip()
        except OSError as exc:
            raise DataError(Problem(f"the key file cannot be read ({exc.strerror})", file=str(path))) from None
        if not data:
            raise DataError(Problem("the key file is empty", file=str(path)))
        return as_key(data)
    text = os.environ.get(KEY_ENV, "").strip()
    return as_key(text) if text else None


def _typed(entry: dict) -> list[str]:
    return [k for k, v in entry.items() if not isinstance(v, int if k == "seq" else str)]


def check_chain(decisions, heads, *, start: tuple[int, str] = (0, GENESIS),
                key: bytes | None = None) -> tuple[int | None, str | None, str]:
    """First bad entry of a chain segment: ``(seq, problem, last good hash)``; ``(None, None, head)`` if intact.

    ``decisions`` are the rows with ``seq >= start[0]`` (the already verified entry ``start`` first,
    when ``start[0] > 0``); ``heads`` the ``head`` table rows over the same range. Each entry must
    carry the next number, link to the hash before it and match its own hash; the head table must
    repeat exactly the (seq, hash) pairs of the entries (so cutting entries off the end shows).
    """
    seq0, prev = start
    rows = [dict(zip(ROW, r)) for r in decisions]
    body = rows
    if seq0 > 0:
        first = rows[0] if rows else None
        if first is None or first["seq"] != seq0 or first["hash"] != prev or _typed(first):
            return seq0, "the last verified entry is gone or changed since it was checked", prev
        if entry_hash(first, first["prev_hash"], key) != prev:
            return seq0, "its content does not match its hash (edited)", prev
        body = rows[1:]
    for i, entry in enumerate(body):
        expected = seq0 + 1 + i
        wrong = _typed(entry)
        if wrong:
            return expected, f"column(s) {wrong} have the wrong type (edited outside netstrata)", prev
        if entry["seq"] != expected:
            return expected, (f"expected entry number {expected}, found {entry['seq']!r} "
                              "(entry deleted, inserted or reordered)"), prev
        if entry["prev_hash"] != prev:
            return expected, "its previous-hash link does not match the entry before it", prev
        if entry_hash(entry, prev, key) != entry["hash"]:
            return expected, "its content does not match its hash (edited)", prev
        prev = entry["hash"]
    chain = [(r["seq"], r["hash"]) for r in rows]
    for i in range(max(len(chain), len(heads))):
        seq = (seq0 if seq0 > 0 else 1) + i
        if i >= len(chain):
            return seq, "the head table records an entry that is missing (entries deleted from the end)", prev
        if i >= len(heads) or tuple(heads[i]) != chain[i]:
            return seq, "the head table does not match this entry (entry deleted, inserted or replaced)", prev
    return None, None, prev
