"""Key files whose key_id is (part of) the secret are refused, saying so without the value."""

from __future__ import annotations

import json
import os

import pytest

from core.errors import KeyFileError
from core.keys import KCV_BLOCK, AesEcb, key_check_value, load_key


def _write(path, payload) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(payload, fh)


def test_key_id_equal_to_key_hex_is_refused(tmp_path):
    secret = os.urandom(32).hex()
    path = tmp_path / "k.json"
    _write(path, {"key_id": secret, "key_hex": secret})
    with pytest.raises(KeyFileError, match="part of the key") as info:
        load_key(path)
    assert secret[:8] not in str(info.value)


def test_check_value_is_the_first_8_bytes_of_aes_of_the_label_block():
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    secret = bytes(range(32))
    enc = Cipher(algorithms.AES(secret), modes.ECB()).encryptor()
    assert key_check_value(secret) == enc.update(KCV_BLOCK)[:8].hex()
    assert key_check_value(AesEcb(secret)) == key_check_value(secret)
    assert key_check_value(bytes(32)) != key_check_value(secret)
