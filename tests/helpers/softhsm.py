"""A SoftHSM2 token made on the spot (tests and bench/derive.py): its own token folder and
config (SOFTHSM2_CONF), a user PIN in a 0600 file, and a helper to import a known AES key
(for equality with the file-key path; production keys are generated in the token)."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

MODULE_PATHS = ("/usr/lib/softhsm/libsofthsm2.so",
                "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")
USER_PIN = "4321-test"
SO_PIN = "8765-test"


def softhsm_module() -> str | None:
    return next((p for p in MODULE_PATHS if Path(p).is_file()), None)


@dataclass(frozen=True)
class SoftToken:
    module: str
    conf: Path
    pin_file: Path
    label: str

    def uri(self, obj: str) -> str:
        return f"pkcs11:token={self.label};object={obj}"

    @property
    def env(self) -> dict[str, str]:
        return {"SOFTHSM2_CONF": str(self.conf), "MYNUMBER_PKCS11_MODULE": self.module,
                "MYNUMBER_PKCS11_PIN_FILE": str(self.pin_file)}


def make_token(folder: Path, label: str = "mynumber-test") -> SoftToken:
    """Initialise a token in ``folder`` and point this process (SOFTHSM2_CONF) at it; must
    run before the PKCS#11 library is first loaded in the process."""
    module = softhsm_module()
    util = shutil.which("softhsm2-util")
    if module is None or util is None:
        raise RuntimeError("SoftHSM2 is not installed (Debian package softhsm2; `make venv`)")
    tokens = folder / "tokens"
    tokens.mkdir(parents=True, mode=0o700)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n"
                    "log.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run([util, "--init-token", "--free", "--label", label, "--so-pin", SO_PIN,
                    "--pin", USER_PIN], check=True, capture_output=True, timeout=60,
                   env={**os.environ, "SOFTHSM2_CONF": str(conf)})
    pin_file = folder / "pin"
    fd = os.open(pin_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(USER_PIN + "\n")
    return SoftToken(module, conf, pin_file, label)


def import_aes_key(token: SoftToken, label: str, secret: bytes) -> None:
    """Put a known AES-256 key into the token (sensitive, non-extractable once there)."""
    import pkcs11
    from pkcs11 import Attribute, KeyType, ObjectClass

    tok = pkcs11.lib(token.module).get_token(token_label=token.label)
    with tok.open(user_pin=USER_PIN, rw=True) as session:
        session.create_object({
            Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: KeyType.AES,
            Attribute.VALUE: bytes(secret), Attribute.LABEL: label, Attribute.ID: label.encode(),
            Attribute.TOKEN: True, Attribute.PRIVATE: True, Attribute.ENCRYPT: True,
            Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False,
        })
