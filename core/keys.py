"""The derivation key: 32 random bytes (AES-256) in a JSON key file, with a key id.

A key file is ``{"key_id": "k-2026-11-26-3f9a1c", "key_hex": <64 hex>, "created": <ISO>,
"demo": false}``, mode 0600. It is written to a private temporary file (created with
``O_EXCL`` and mode 0600, so it is never readable by anyone else) and then hard-linked to
its name, which fails if the name exists: a key file is never overwritten and never seen
half-written. Loading refuses a file that group or others may read or write, malformed
JSON, a key of the wrong length or one that is not hexadecimal.

The key id goes into the ledger and reports; the key goes nowhere else. `KeyMaterial`
hides the key in ``repr``/``str`` and refuses to be pickled (Prefect pickles task results
and hashes task inputs): pass the key file's path to tasks and load it there. No message of
this module ever contains key material.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, Protocol, runtime_checkable

from core.errors import KeyFileError
from core.hsm import TokenKey, open_token_key
from core.key_checks import KCV_BLOCK as KCV_BLOCK
from core.key_checks import KCV_BYTES, read_owner_only
from core.key_checks import validate_key_id as validate_key_id

if TYPE_CHECKING:
    from core.settings import KeyOptions

log = logging.getLogger(__name__)

KEY_BYTES = 32
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


@runtime_checkable
class BlockCipher(Protocol):
    """AES-256 in ECB over many 16-byte blocks at once: what FF1 needs of a key.

    A file key (`AesEcb`) does it in memory; a token key (`core.hsm`) in the token, the key
    never leaving it."""

    def encrypt_blocks(self, data: bytes) -> bytes:
        """AES-ECB of ``data`` (a multiple of 16 bytes), same length out."""
        ...


class AesEcb:
    """`BlockCipher` over a key held in memory (the `cryptography` AES)."""

    def __init__(self, secret: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        self._cipher = Cipher(algorithms.AES(bytes(secret)), modes.ECB())

    def __repr__(self) -> str:
        return "AesEcb(key=<hidden>)"

    def encrypt_blocks(self, data: bytes) -> bytes:
        enc = self._cipher.encryptor()
        return enc.update(bytes(data)) + enc.finalize()


def key_check_value(cipher: BlockCipher | bytes) -> str:
    """A key check value: the first 8 bytes (hex) of AES_k(a fixed label block).

    Proves a loaded key is the one a ledger knows without revealing it (a classic KCV, as
    payment HSMs print: one block under the key says nothing usable about the key). The
    same for a file key and for the same key value held in a token."""
    if isinstance(cipher, (bytes, bytearray)):
        cipher = AesEcb(bytes(cipher))
    out = cipher.encrypt_blocks(KCV_BLOCK)
    if len(out) != 16:
        raise KeyFileError("the key did not encrypt one block: cannot compute its check value")
    return out[:KCV_BYTES].hex()


@dataclass(frozen=True, repr=False)
class KeyMaterial:
    """A loaded key. ``secret`` is the 32-byte AES-256 key; it is never printed."""

    key_id: str  # e.g. "k-2026-11-26-3f9a1c" (random; no secret material in it)
    secret: bytes = field(compare=True)
    created: str = ""  # ISO timestamp
    is_demo: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.secret, bytes) or len(self.secret) != KEY_BYTES:
            raise KeyFileError(f"a key must be {KEY_BYTES} bytes")

    def __repr__(self) -> str:
        demo = ", DEMO" if self.is_demo else ""
        return f"KeyMaterial(key_id={self.key_id!r}, created={self.created!r}{demo}, secret=<hidden>)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(repr(self), spec)

    def __reduce__(self) -> NoReturn:
        raise TypeError("KeyMaterial is not picklable: pass the key file path and load it there")

    @property
    def cipher(self) -> AesEcb:
        """The key as a `BlockCipher` (what numbering takes, like a token key)."""
        return AesEcb(self.secret)

    @property
    def derivation_key(self) -> bytes:
        """What `transforms.numbering.derive_my_numbers` takes: the 32 bytes in memory."""
        return self.secret

    @property
    def check_value(self) -> str:
        """The key check value (`key_check_value`) the ledger binds this key by."""
        return key_check_value(self.secret)

    def __copy__(self) -> KeyMaterial:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> KeyMaterial:
        return self


def _new_key_id(now: datetime) -> str:
    return f"k-{now:%Y-%m-%d}-{secrets.token_hex(3)}"


def generate_key_file(path: str | os.PathLike[str], *, demo: bool = False) -> KeyMaterial:
    """Create a new key file at ``path`` (mode 0600); `KeyFileError` if it already exists.

    The parent folder is created (mode 0700) when missing."""
    path = Path(path)
    now = datetime.now(UTC).replace(microsecond=0)
    key = KeyMaterial(_new_key_id(now), secrets.token_bytes(KEY_BYTES), now.isoformat(),
                      bool(demo))
    payload = json.dumps({"key_id": key.key_id, "key_hex": key.secret.hex(),
                          "created": key.created, "demo": key.is_demo}, indent=2) + "\n"
    if path.exists() or path.is_symlink():
        raise KeyFileError(f"key file {path} already exists; refusing to overwrite it")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise KeyFileError(f"cannot create the folder for key file {path}: "
                           f"{exc.strerror or type(exc).__name__}") from None
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) \
        | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(tmp, flags, 0o600)
    except OSError as exc:
        raise KeyFileError(f"cannot create key file {path}: "
                           f"{exc.strerror or type(exc).__name__}") from None
    try:
        try:
            os.fchmod(fd, 0o600)  # exact mode whatever the umask
            os.write(fd, payload.encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # fails if path exists: never overwrites, never half-written
        except FileExistsError:
            raise KeyFileError(f"key file {path} already exists; refusing to overwrite it") \
                from None
        except OSError as exc:
            raise KeyFileError(f"cannot create key file {path}: "
                               f"{exc.strerror or type(exc).__name__}") from None
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:  # pragma: no cover
            pass
    _fsync_dir(path.parent)
    log.info("created %skey %s at %s", "DEMO " if key.is_demo else "", key.key_id, path)
    return key


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - not all platforms open folders
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def load_key(path: str | os.PathLike[str]) -> KeyMaterial:
    """Load and check a key file (see the module docstring); `KeyFileError` otherwise."""
    raw = read_owner_only(path, "key file",
                          missing_hint=f"; create one with `mynumber keygen {path}`")
    return _parse(raw, Path(path))


def _parse(raw: bytes, path: Path) -> KeyMaterial:
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise KeyFileError(f"key file {path} is not UTF-8 JSON") from None
    except json.JSONDecodeError as exc:
        raise KeyFileError(f"key file {path} is malformed JSON "
                           f"(line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(data, dict):
        raise KeyFileError(f"key file {path} must hold a JSON object")
    key_id, key_hex = data.get("key_id"), data.get("key_hex")
    if not isinstance(key_id, str) or not key_id.strip():
        raise KeyFileError(f"key file {path} has no key_id")
    key_id = key_id.strip()
    if not isinstance(key_hex, str):
        raise KeyFileError(f"key file {path} has no key_hex string")
    if len(key_hex) != 2 * KEY_BYTES:
        raise KeyFileError(f"key file {path}: key_hex must be {2 * KEY_BYTES} hex digits "
                           f"({KEY_BYTES} bytes, AES-256), found {len(key_hex)} characters")
    if not _HEX64.fullmatch(key_hex):
        raise KeyFileError(f"key file {path}: key_hex is not hexadecimal")
    created = data.get("created", "")
    demo = data.get("demo", False)
    if not isinstance(created, str):
        raise KeyFileError(f"key file {path}: created must be a string")
    if not isinstance(demo, bool):
        raise KeyFileError(f"key file {path}: demo must be true or false")
    validate_key_id(key_id, key_hex, where=f"key file {path}")
    return KeyMaterial(key_id, bytes.fromhex(key_hex), created, demo)


def ensure_demo_key(path: str | os.PathLike[str]) -> KeyMaterial:
    """The DEMO key at ``path``, created on first use. Refuses a non-demo key there, so a
    demo never runs with a production key."""
    path = Path(path)
    if not path.exists():
        try:
            return generate_key_file(path, demo=True)
        except KeyFileError:
            if not path.exists():  # a real failure, not a concurrent creation
                raise
    key = load_key(path)
    if not key.is_demo:
        raise KeyFileError(f"key file {path} holds a production key, not a DEMO key; "
                           f"the demo will not use it (give the demo another key path)")
    return key


def open_key(options: KeyOptions) -> KeyMaterial | TokenKey:
    """The key the settings name: a JSON key file, or a key in a PKCS#11 token (``pkcs11:``
    URI, `core.hsm`). Load it in the process that derives (a token session is per process)."""
    if options.is_pkcs11:
        return open_token_key(options.ref, module=options.pkcs11_module, pin_file=options.pin_file)
    return load_key(options.ref)
