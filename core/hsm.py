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
checked; calls above ~128 KiB slow SoftHSM sharply, so calls are cut at `CALL_BYTES`; one
multi-part operation per key and process avoids a C_EncryptInit per call.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import unquote, unquote_to_bytes

from core.errors import KeyFileError
from core.key_checks import KCV_BLOCK, KCV_BYTES, read_owner_only, validate_key_id

#: bytes per C_EncryptUpdate (8,192 AES blocks; SoftHSM2 is fastest at up to 128 KiB)
CALL_BYTES = 128 * 1024
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
    raw = read_owner_only(path, "PIN file", max_bytes=4096)
    pin = raw.decode("utf-8", errors="strict").strip("\r\n")
    if not pin:
        raise KeyFileError(f"PIN file {path} is empty")
    return pin


# --- the library, once per process ---------------------------------------------------------
_LIBS: dict[str, tuple[int, Any]] = {}
_SESSIONS: dict[tuple[str, str | None, str], tuple[int, tuple[Any, Any]]] = {}
_KEYS: dict[tuple[str, str | None, str | None, bytes | None], tuple[int, TokenKey]] = {}


def _lib(module: str) -> Any:
    import pkcs11

    pid = os.getpid()
    known = _LIBS.get(module)
    lib = pkcs11.lib(module)  # python-pkcs11 keeps one handle per module and process image
    if known is not None and known[0] != pid:
        lib.reinitialize()  # a forked child: the parent's C_Initialize does not carry over
        _SESSIONS.clear()
        _KEYS.clear()
    _LIBS[module] = (pid, lib)
    return lib


def _session(module: str, token_label: str | None, pin: str) -> tuple[Any, Any]:
    """(token, the logged-in session) of this process; one login per token and process."""
    import pkcs11

    key = (module, token_label, "rw")  # one logged-in session per token and process
    known = _SESSIONS.get(key)
    if known is not None and known[0] == os.getpid():
        return known[1]  # (token, session)
    lib = _lib(module)
    try:
        token = lib.get_token(token_label=token_label) if token_label else next(
            iter(lib.get_tokens()))
    except (pkcs11.NoSuchToken, StopIteration):
        raise KeyFileError("pkcs11: no token with that label (check token= in the URI)") from None
    except pkcs11.MultipleTokensReturned:
        raise KeyFileError("pkcs11: several tokens match; name one with token=") from None
    try:
        session = token.open(user_pin=pin, rw=True)
    except pkcs11.PinIncorrect:
        raise KeyFileError("pkcs11: the token refused the PIN (PIN file)") from None
    except pkcs11.PKCS11Error as exc:
        raise KeyFileError(f"pkcs11: cannot open a session ({type(exc).__name__})") from None
    _SESSIONS[key] = (os.getpid(), (token, session))
    return token, session


class _Feeder:
    """The input side of one long-lived multi-part C_Encrypt: hands the pending chunk over."""

    def __init__(self) -> None:
        self.pending: bytes | None = None

    def __iter__(self) -> _Feeder:
        return self

    def __next__(self) -> bytes:
        data, self.pending = self.pending, None
        if data is None:
            raise StopIteration
        return data


class TokenCipher:
    """`core.keys.BlockCipher` over an AES key in the token, CKM_AES_ECB.

    One multi-part operation (C_EncryptInit once, then one C_EncryptUpdate per `CALL_BYTES`)
    lives as long as this object: ECB has no chaining, so the parts are independent, and
    a new operation per call would cost 35-120 us in SoftHSM (measured: 64 KiB one-shot
    158 us, as an update 55 us). The operation holds the session, so everything this
    process encrypts under the key goes through here; lengths are checked on every call."""

    def __init__(self, key: Any) -> None:
        self._key = key
        self._pid = os.getpid()
        self._feeder = _Feeder()
        self._stream: Any = None

    def __repr__(self) -> str:
        return "TokenCipher(key=<in token>)"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a token key is not picklable: pass the pkcs11: URI and open it there")

    def _update(self, chunk: bytes) -> bytes:
        from pkcs11 import Mechanism

        if self._stream is None:
            self._stream = self._key.encrypt(self._feeder, mechanism=Mechanism.AES_ECB,
                                             buffer_size=CALL_BYTES)
        self._feeder.pending = chunk
        try:
            out = next(self._stream)
        except Exception as exc:  # the token ended the operation: start a new one next time
            self._stream = None
            raise KeyFileError(f"pkcs11: AES-ECB in the token failed ({type(exc).__name__})") \
                from None
        if not isinstance(out, bytes) or len(out) != len(chunk):
            self._stream = None
            raise KeyFileError("pkcs11: the token returned a wrong-sized AES-ECB result")
        return out

    def encrypt_into(self, src: Any, dst: Any) -> int:
        """AES-ECB of the buffer ``src`` written into ``dst`` (as long), piece by piece: one
        copy in (python-pkcs11 takes bytes) and one out, no joining."""
        if os.getpid() != self._pid:
            raise KeyFileError("pkcs11: a token key cannot cross a fork; open it in this process")
        src_view, dst_view = memoryview(src).cast("B"), memoryview(dst).cast("B")
        n = len(src_view)
        if n % 16:
            raise ValueError("AES-ECB needs whole 16-byte blocks")
        if len(dst_view) < n:
            raise ValueError("the output buffer is too small")
        for i in range(0, n, CALL_BYTES):
            piece = bytes(src_view[i:i + CALL_BYTES])
            dst_view[i:i + len(piece)] = self._update(piece)
        return n

    def encrypt_blocks(self, data: bytes) -> bytes:
        if os.getpid() != self._pid:
            raise KeyFileError("pkcs11: a token key cannot cross a fork; open it in this process")
        data = bytes(data)  # python-pkcs11 takes only bytes (other buffers misbehave silently)
        if len(data) % 16:
            raise ValueError("AES-ECB needs whole 16-byte blocks")
        if len(data) <= CALL_BYTES:
            return self._update(data) if data else b""
        return b"".join(self._update(data[i:i + CALL_BYTES])
                        for i in range(0, len(data), CALL_BYTES))


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
    cache_key = (module, parsed.token, parsed.object, parsed.key_id_bytes)
    cached = _KEYS.get(cache_key)
    if cached is not None and cached[0] == os.getpid():
        return cached[1]  # one multi-part operation per key and process (TokenCipher)
    token, session = _session(module, parsed.token, pin)
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
    # the key's own session (the login is the application's, so no PIN again): an active
    # multi-part encryption blocks other operations on its session (SoftHSM: OperationActive)
    try:
        op_key = token.open(rw=False).get_key(**query)
    except pkcs11.PKCS11Error as exc:
        raise KeyFileError(f"pkcs11: cannot open a session for the key ({type(exc).__name__})") \
            from None
    token_key = TokenKey(label, TokenCipher(op_key))
    _KEYS[cache_key] = (os.getpid(), token_key)
    return token_key


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
    _token, session = _session(module, parsed.token, pin)
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
        session.generate_key(KeyType.AES, 256, label=label, id=label.encode("ascii"),
                             store=True, template=template)
    except pkcs11.PKCS11Error as exc:
        raise KeyFileError(f"pkcs11: the token refused to generate the key ({type(exc).__name__})") \
            from None
    return open_token_key(uri, module=module, pin_file=pin_file)  # found like any other key
