"""Contact details of sampled cases: personal data under PIPL, so never stored in the clear.

A phone number or an address is kept in the store only as
- a Fernet token (AES-128-CBC + HMAC, `cryptography`) that the assigned pollster's screen
  decrypts while calling,
- a keyed hash (HMAC-SHA256 of the normalised number) to find the same number twice in a
  sample without decrypting anything,
- a mask (138****5678) for every other screen.

The secret lives outside the database: `SURVEY_SECRET_KEY` (a Fernet key, or any long
passphrase), else a key file (`SURVEY_KEY_FILE`, default `<db stem>.key` next to the store,
mode 0600) created on first need with a warning. Lose the key and the numbers are gone:
back it up apart from the database, which is exactly why it is not in it.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

log = logging.getLogger(__name__)

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")


class ContactError(ValueError):
    """A contact value that cannot be a phone number / address; the message names why."""


def normalize_phone(raw: str) -> str:
    """Digits only, without +86 / 0086, so 138-0013-8000 and +86 13800138000 match.

    Accepts mainland mobile numbers (11 digits, 1[3-9]…) and landlines with area code
    (0 + 9 to 11 digits); anything else is refused rather than stored unusable.
    """
    digits = re.sub(r"[\s\-()（）.]", "", str(raw or ""))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not digits.isdigit():
        raise ContactError("not a phone number (digits, spaces, - and + only)")
    if not (_MOBILE.match(digits) or _LANDLINE.match(digits)):
        raise ContactError("not a mainland mobile (11 digits from 13…) or a landline with area code (0…)")
    return digits


def mask_phone(number: str) -> str:
    """13812345678 -> 138****5678: enough to tell two numbers apart, not to dial."""
    if len(number) <= 7:
        return number[:1] + "*" * max(len(number) - 1, 0)
    return number[:3] + "****" + number[-4:]


def mask_address(address: str) -> str:
    """Keep the first few characters (district, street) and hide the rest."""
    keep = min(6, max(len(address) // 3, 1))
    return address[:keep] + "****"


def key_file_path(db_path: str | Path) -> Path:
    """`SURVEY_KEY_FILE`, else `<db stem>.key` next to the database file."""
    env = os.environ.get("SURVEY_KEY_FILE")
    if env:
        return Path(env)
    p = Path(db_path)
    return p.with_name(p.stem + ".key")


def _fernet_key(secret: str) -> bytes:
    """A Fernet key as given, or one derived from a passphrase."""
    raw = secret.strip().encode()
    try:
        Fernet(raw)
        return raw
    except ValueError:
        return base64.urlsafe_b64encode(hashlib.sha256(b"survey-contacts-fernet:" + raw).digest())


def load_secret(db_path: str | Path, *, create: bool = True) -> bytes:
    """The Fernet key: env `SURVEY_SECRET_KEY`, else the key file (created once, mode 0600)."""
    env = os.environ.get("SURVEY_SECRET_KEY")
    if env:
        return _fernet_key(env)
    path = key_file_path(db_path)
    if path.exists():
        return _fernet_key(path.read_text(encoding="ascii"))
    if not create:
        raise ContactError(f"no key for contact data: set SURVEY_SECRET_KEY or provide {path}")
    key = Fernet.generate_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    # write a private temp file, then link it into place: the key appears whole or not at all
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.decode())
    try:
        os.link(tmp, path)
    except FileExistsError:  # another process created it a moment ago: use theirs
        return _fernet_key(path.read_text(encoding="ascii"))
    finally:
        tmp.unlink()
    os.chmod(path, 0o600)
    msg = (f"联系方式加密密钥已生成 / contact-data key created: {path} (mode 0600). "
           "Back it up apart from the database: without it the phone numbers cannot be read.")
    log.warning(msg)  # no logging set up: Python prints warnings to stderr
    return key


@dataclass(frozen=True)
class ContactCipher:
    """Encrypts, hashes and masks contact values with one secret."""
    key: bytes

    @classmethod
    def for_db(cls, db_path: str | Path, *, create: bool = True) -> ContactCipher:
        return cls(load_secret(db_path, create=create))

    @functools.cached_property
    def _fernet(self) -> Fernet:
        return Fernet(self.key)

    @functools.cached_property
    def _hash_key(self) -> bytes:
        # a separate key for hashing, derived so that the hash never reveals the Fernet key
        return hmac.new(self.key, b"survey-contacts-hash", hashlib.sha256).digest()

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise ContactError("contact data cannot be decrypted with this key (wrong SURVEY_SECRET_KEY "
                               "or key file?)") from None

    def keyed_hash(self, normalized: str) -> str:
        """HMAC-SHA256 of a normalised value: equal numbers match, the hash alone reveals nothing."""
        return hmac.new(self._hash_key, normalized.encode("utf-8"), hashlib.sha256).hexdigest()

    def seal(self, kind: str, raw: str) -> dict[str, str]:
        """What the store keeps for one contact: kind, token, hash, mask (never the value)."""
        if kind == "phone":
            value = normalize_phone(raw)
            return {"contact_kind": "phone", "contact_enc": self.encrypt(value),
                    "contact_hash": self.keyed_hash(value), "contact_mask": mask_phone(value)}
        value = " ".join(str(raw or "").split())
        if not value:
            raise ContactError("empty address")
        return {"contact_kind": "address", "contact_enc": self.encrypt(value),
                "contact_hash": self.keyed_hash(value), "contact_mask": mask_address(value)}
