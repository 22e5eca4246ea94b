"""Keys in a PKCS#11 token (an HSM; SoftHSM2 in tests), named by an RFC 7512 ``pkcs11:`` URI.

``--key 'pkcs11:token=mynumber;object=k-2026-12-01-3f9a1c'`` selects an AES-256 secret key
by token label and object label; the module (the vendor's ``.so``) and a PIN file come from
settings (``key.pkcs11_module``, ``key.pin_file``; env MYNUMBER_PKCS11_MODULE,
MYNUMBER_PKCS11_PIN_FILE), or ``module-path`` / ``pin-source=file:...`` in the URI's query.
A PIN in the URI (``pin-value``) is refused: it would end up in shell history and process
lists. The key never leaves the token (generated with CKA_EXTRACTABLE false, CKA_SENSITIVE
true): FF1 sends the token one C_Encrypt (CKM_AES_ECB) per round over a whole chunk of
blocks (``TokenCipher.encrypt_blocks``). The object label is the key id the ledger records.

python-pkcs11 is not thread-safe and keeps one library handle per process: one session
(and login) per process, re-initialised after a fork; derive in processes, not threads.
Measured pitfalls (python-pkcs11 0.10, SoftHSM2 2.6): one-shot ``encrypt`` wants ``bytes``
(other buffers silently give a generator), so input is ``bytes`` and every output length is
checked; calls above ~128 KiB slow SoftHSM sharply, so calls are cut at `CALL_BYTES`.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import unquote, unquote_to_bytes

from core.errors import KeyFileError
from core.keys import KCV_BLOCK, KCV_BYTES, validate_key_id

#: bytes per C_Encrypt (4,096 AES blocks)
CALL_BYTES = 64 * 1024
_ATTR = re.compile(r"[a-z][a-z0-9-]*")


@dataclass(frozen=True)
class Pkcs11Uri:
    """The parts of an RFC 7512 URI this program uses."""

    token: str | None
    object: str | None
    key_id_bytes: bytes | None  # the ``id=`` attribute (CKA_ID), percent-decoded
    module_path: str | None
    pin_file: str | None


def parse_uri(uri: str) -> Pkcs11Uri:
    """Parse ``pkcs11:path-attrs?query-attrs`` (RFC 7512 section 2.3); errors name the part,
    never a PIN."""
    if not uri.startswith("pkcs11:"):
        raise KeyFileError("a token key is named by a pkcs11: URI (RFC 7512)")
    body = uri[len("pkcs11:"):]
    path, _, query = body.partition("?")
    attrs: dict[str, str] = {}
    for part, sep in ((path, ";"), (query, "&")):
        for item in filter(None, part.split(sep)):
            name, eq, value = item.partition("=")
            if not eq or not _ATTR.fullmatch(name):
                raise KeyFileError(f"pkcs11 URI: malformed attribute {name[:32]!r}")
            if name in attrs:
                raise KeyFileError(f"pkcs11 URI: attribute {name} given twice")
            attrs[name] = value
    if "pin-value" in attrs:
        raise KeyFileError("pkcs11 URI: a PIN is never given in the URI or on the command line; "
                           "put it in a private file (MYNUMBER_PKCS11_PIN_FILE)")
    if attrs.get("type", "secret-key") != "secret-key":
        raise KeyFileError("pkcs11 URI: the derivation key is a secret key (type=secret-key)")
    pin_source = unquote(attrs["pin-source"]) if "pin-source" in attrs else None
    if pin_source is not None:
        if not pin_source.startswith("file:"):
            raise KeyFileError("pkcs11 URI: pin-source must be file:PATH")
        pin_source = pin_source[len("file:"):]
    raw_id = attrs.get("id")
    return Pkcs11Uri(
        token=unquote(attrs["token"]) if "token" in attrs else None,
        object=unquote(attrs["object"]) if "object" in attrs else None,
        key_id_bytes=unquote_to_bytes(raw_id) if raw_id is not None else None,
        module_path=unquote(attrs["module-path"]) if "module-path" in attrs else None,
        pin_file=pin_source,
    )


def read_pin(path: str | os.PathLike[str]) -> str:
    """The PIN from a file that only its owner can read (like a key file); never echoed."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise KeyFileError(f"cannot open the PIN file {path}: "
                           f"{exc.strerror or type(exc).__name__}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise KeyFileError(f"PIN file {path} is not a regular file")
        if st.st_mode & 0o077:
            raise KeyFileError(f"PIN file {path} is accessible by group or others "
                               f"(mode {stat.S_IMODE(st.st_mode):04o}); run: chmod 600 {path}")
        raw = os.read(fd, 4096)
    finally:
        os.close(fd)
    pin = raw.decode("utf-8", errors="strict").strip("\r\n")
    if not pin:
        raise KeyFileError(f"PIN file {path} is empty")
    return pin


# --- the library, once per process ---------------------------------------------------------
_LIBS: dict[str, tuple[int, Any]] = {}
_SESSIONS: dict[tuple[str, str | None, str], tuple[int, Any]] = {}


def _lib(module: str) -> Any:
    import pkcs11

    pid = os.getpid()
    known = _LIBS.get(module)
    lib = pkcs11.lib(module)  # python-pkcs11 keeps one handle per module and process image
    if known is not None and known[0] != pid:
        lib.reinitialize()  # a forked child: the parent's C_Initialize does not carry over
        _SESSIONS.clear()
    _LIBS[module] = (pid, lib)
    return lib


def _session(module: str, token_label: str | None, pin: str, *, rw: bool = False) -> Any:
    import pkcs11

    key = (module, token_label, "rw" if rw else "ro")
    known = _SESSIONS.get(key)
    if known is not None and known[0] == os.getpid():
        return known[1]
    lib = _lib(module)
    try:
        token = lib.get_token(token_label=token_label) if token_label else next(
            iter(lib.get_tokens()))
    except (pkcs11.NoSuchToken, StopIteration):
        raise KeyFileError("pkcs11: no token with that label (check token= in the URI)") from None
    except pkcs11.MultipleTokensReturned:
        raise KeyFileError("pkcs11: several tokens match; name one with token=") from None
    try:
        session = token.open(user_pin=pin, rw=rw)
    except pkcs11.PinIncorrect:
        raise KeyFileError("pkcs11: the token refused the PIN (PIN file)") from None
    except pkcs11.PKCS11Error as exc:
        raise KeyFileError(f"pkcs11: cannot open a session ({type(exc).__name__})") from None
    _SESSIONS[key] = (os.getpid(), session)
    return session


class TokenCipher:
    """`core.keys.BlockCipher` over an AES key in the token: CKM_AES_ECB, one call per
    `CALL_BYTES` of blocks, lengths checked."""

    def __init__(self, key: Any) -> None:
        self._key = key

    def __repr__(self) -> str:
        return "TokenCipher(key=<in token>)"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a token key is not picklable: pass the pkcs11: URI and open it there")

    def encrypt_blocks(self, data: bytes) -> bytes:
        from pkcs11 import Mechanism

        data = bytes(data)
        if len(data) % 16:
            raise ValueError("AES-ECB needs whole 16-byte blocks")
        parts = []
        for start in range(0, len(data), CALL_BYTES):
            chunk = data[start:start + CALL_BYTES]
            out = self._key.encrypt(chunk, mechanism=Mechanism.AES_ECB)
            if not isinstance(out, bytes) or len(out) != len(chunk):
                raise KeyFileError("pkcs11: the token returned a wrong-sized AES-ECB result")
            parts.append(out)
        return b"".join(parts)


@dataclass(frozen=True, repr=False)
class TokenKey:
    """A derivation key held in a token: the same interface as `core.keys.KeyMaterial`
    for the ledger and numbering (key_id, is_demo, created, check_value, derivation_key)."""

    key_id: str
    cipher: TokenCipher
    created: str = ""
    is_demo: bool = False

    def __repr__(self) -> str:
        return f"TokenKey(key_id={self.key_id!r}, key=<in token>)"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("a token key is not picklable: pass the pkcs11: URI and open it there")

    @property
    def derivation_key(self) -> TokenCipher:
        return self.cipher

    @property
    def check_value(self) -> str:
        out = self.cipher.encrypt_blocks(KCV_BLOCK)
        return out[:KCV_BYTES].hex()


def _resolve(uri: str, module: str | None, pin_file: str | None) -> tuple[Pkcs11Uri, str, str]:
    parsed = parse_uri(uri)
    module = parsed.module_path or module
    if not module:
        raise KeyFileError("pkcs11: no module; set key.pkcs11_module (MYNUMBER_PKCS11_MODULE)")
    if not Path(module).is_file():
        raise KeyFileError(f"pkcs11: module {module} not found")
    pin_path = parsed.pin_file or pin_file
    if not pin_path:
        raise KeyFileError("pkcs11: no PIN file; set key.pin_file (MYNUMBER_PKCS11_PIN_FILE)")
    if not parsed.object and parsed.key_id_bytes is None:
        raise KeyFileError("pkcs11 URI: name the key with object= (its label, the key id)")
    return parsed, module, read_pin(pin_path)


def open_token_key(uri: str, *, module: str | None = None, pin_file: str | None = None
                   ) -> TokenKey:
    """Find the AES secret key the URI names, in a session of this process."""
    import pkcs11
    from pkcs11 import KeyType, ObjectClass

    parsed, module, pin = _resolve(uri, module, pin_file)
    session = _session(module, parsed.token, pin)
    query: dict[str, Any] = {"object_class": ObjectClass.SECRET_KEY, "key_type": KeyType.AES}
    if parsed.object:
        query["label"] = parsed.object
    if parsed.key_id_bytes is not None:
        query["id"] = parsed.key_id_bytes
    try:
        key = session.get_key(**query)
    except pkcs11.NoSuchKey:
        raise KeyFileError("pkcs11: no AES secret key with that label/id in the token") from None
    except pkcs11.MultipleObjectsReturned:
        raise KeyFileError("pkcs11: several keys match the URI; give object= and id=") from None
    label = parsed.object or str(key.label)
    validate_key_id(label, where="pkcs11 key label")
    if int(key.key_length) != 256:
        raise KeyFileError("pkcs11: the key must be AES-256")
    return TokenKey(label, TokenCipher(key))


def generate_token_key(uri: str, *, module: str | None = None, pin_file: str | None = None
                       ) -> TokenKey:
    """Generate a new AES-256 key inside the token (non-extractable, sensitive, stored),
    labelled with the URI's object= (a new key id if the URI has none); refuses an existing
    label."""
    import pkcs11
    from pkcs11 import Attribute, KeyType, ObjectClass

    parsed = parse_uri(uri)
    label = parsed.object
    if not label:
        import secrets

        label = f"k-{datetime.now(UTC):%Y-%m-%d}-{secrets.token_hex(3)}"
        uri = uri.replace("?", f";object={label}?", 1) if "?" in uri else f"{uri};object={label}"
    validate_key_id(label, where="pkcs11 key label")
    parsed, module, pin = _resolve(uri, module, pin_file)
    session = _session(module, parsed.token, pin, rw=True)
    existing = list(session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY,
                                         Attribute.LABEL: label}))
    if existing:
        raise KeyFileError(f"pkcs11: the token already holds a key labelled {label}; "
                           "refusing to create another")
    template: dict[Any, Any] = {
        Attribute.EXTRACTABLE: False, Attribute.SENSITIVE: True, Attribute.TOKEN: True,
        Attribute.PRIVATE: True, Attribute.ENCRYPT: True, Attribute.DECRYPT: False,
        Attribute.WRAP: False, Attribute.UNWRAP: False, Attribute.SIGN: False,
        Attribute.VERIFY: False, Attribute.DERIVE: False,
    }
    try:
        key = session.generate_key(KeyType.AES, 256, label=label, id=label.encode("ascii"),
                                   store=True, template=template)
    except pkcs11.PKCS11Error as exc:
        raise KeyFileError(f"pkcs11: the token refused to generate the key ({type(exc).__name__})") \
            from None
    return TokenKey(label, TokenCipher(key))
