"""Keys in a PKCS#11 token (SoftHSM2, made by the tests): the same numbers as the file key
for the same key value, generated keys never leave the token, URIs and PINs are handled
safely, and the speed goal (>= 0.4x the in-memory FF1 in the same run) holds."""

from __future__ import annotations

import os
import subprocess
import sys

import polars as pl
import pytest

from core.errors import KeyFileError
from core.keys import KeyMaterial, key_check_value
from core.settings import KeyOptions
from tests.helpers.softhsm import import_aes_key, make_token, softhsm_module
from transforms.numbering import derive_my_numbers

SECRET = bytes.fromhex("3b" * 8 + "a1" * 8 + "5c" * 8 + "07" * 8)
IMPORTED = "k-2026-12-01-imp001"

pytestmark = pytest.mark.skipif(softhsm_module() is None,
                                reason="SoftHSM2 is not installed (make venv installs softhsm2)")


@pytest.fixture(scope="session")
def token(tmp_path_factory):
    """One token per test process (the PKCS#11 library reads its config once per process)."""
    tok = make_token(tmp_path_factory.mktemp("softhsm"))
    import_aes_key(tok, IMPORTED, SECRET)
    return tok


def _open(token, obj: str = IMPORTED):
    from core.keys import open_key

    return open_key(KeyOptions(ref=token.uri(obj), pkcs11_module=token.module,
                               pin_file=str(token.pin_file)))


def _codes(n: int) -> pl.Series:
    import numpy as np

    rng = np.random.default_rng(7)
    return pl.Series("resident_code", [f"{v:011d}" for v in rng.integers(0, 10**11, n)])


def test_the_token_derives_the_same_numbers_as_the_file_key(token):
    key = _open(token)
    file_key = KeyMaterial(IMPORTED, SECRET, "", False)
    assert key.key_id == IMPORTED and not key.is_demo
    assert key.check_value == file_key.check_value == key_check_value(SECRET)
    codes = _codes(50_000)
    for generation in (0, 1, 7):
        assert derive_my_numbers(codes, key.derivation_key, generation).equals(
            derive_my_numbers(codes, SECRET, generation))
    # odd sizes: one number, and more than one token call per round
    assert derive_my_numbers(codes.head(1), key.derivation_key)[0] == \
        derive_my_numbers(codes.head(1), SECRET)[0]
    assert _open(token) is key  # one key object (one token operation) per process
    assert SECRET.hex() not in repr(key) + str(key) and "in token" in repr(key)
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(key)


def test_keygen_makes_a_sensitive_non_extractable_key_in_the_token(token):
    from pkcs11 import Attribute

    env = {**os.environ, **token.env, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    uri = token.uri("k-2026-12-01-gen001")
    done = subprocess.run([sys.executable, "-m", "cli.main", "keygen", "--pkcs11", uri],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-1500:]
    assert "k-2026-12-01-gen001" in done.stdout and "non-extractable" in done.stdout
    again = subprocess.run([sys.executable, "-m", "cli.main", "keygen", "--pkcs11", uri],
                           capture_output=True, text=True, timeout=120, env=env)
    assert again.returncode == 2 and "already holds" in again.stderr
    key = _open(token, "k-2026-12-01-gen001")
    handle = key.cipher._key
    assert handle[Attribute.EXTRACTABLE] is False and handle[Attribute.SENSITIVE] is True
    assert handle[Attribute.NEVER_EXTRACTABLE] is True
    from pkcs11.exceptions import AttributeSensitive

    with pytest.raises(AttributeSensitive):  # the token never hands the key out
        _ = handle[Attribute.VALUE]
    assert key.check_value != key_check_value(SECRET)
    assert len(derive_my_numbers(_codes(10), key.derivation_key)) == 10


def test_uri_and_pin_handling(token, tmp_path):
    from core.hsm import open_token_key, parse_uri, read_pin

    parsed = parse_uri("pkcs11:token=my%20token;object=k-1;id=%01%02?module-path=/x.so"
                       "&pin-source=file:/run/pin")
    assert (parsed.token, parsed.object, parsed.key_id_bytes, parsed.module_path,
            parsed.pin_file) == ("my token", "k-1", b"\x01\x02", "/x.so", "/run/pin")
    with pytest.raises(KeyFileError, match="never given in the URI") as info:
        parse_uri("pkcs11:token=t;object=k?pin-value=123456")
    assert "123456" not in str(info.value)
    for bad in ("pkcs11:token", "pkcs11:type=private;object=k", "pkcs11:object=a;object=b"):
        with pytest.raises(KeyFileError):
            parse_uri(bad)
    with pytest.raises(KeyFileError, match="no module"):
        open_token_key(token.uri(IMPORTED), module=None, pin_file=str(token.pin_file))
    with pytest.raises(KeyFileError, match="no AES secret key"):
        open_token_key(token.uri("k-missing"), module=token.module, pin_file=str(token.pin_file))
    loose = tmp_path / "pin"
    loose.write_text("4321-test\n")
    loose.chmod(0o644)
    with pytest.raises(KeyFileError, match="group or others") as info:
        read_pin(loose)
    assert "4321" not in str(info.value)


def test_a_forked_child_opens_the_key_again_and_gets_the_same_numbers(token):
    """python-pkcs11 keeps one library handle per process: after fork the child must
    re-initialise and log in again; the parent's key object refuses to be used there."""
    key = _open(token)
    codes = _codes(2_000)
    expected = derive_my_numbers(codes, SECRET)
    assert derive_my_numbers(codes, key.derivation_key).equals(expected)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report through the pipe, never return into pytest
        status = 1
        try:
            try:
                key.derivation_key.encrypt_blocks(bytes(16))
                inherited = "used"
            except KeyFileError:
                inherited = "refused"
            again = _open(token)
            same = derive_my_numbers(codes, again.derivation_key).equals(expected)
            os.write(write, f"{inherited} {same}".encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    answer = os.read(read, 100).decode()
    os.close(read)
    assert status == 0 and answer == "refused True", answer
    assert derive_my_numbers(codes, key.derivation_key).equals(expected)  # the parent still works
