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

from common.errors import Invalid

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
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

log = logging.getLogger(__name__)

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")


class ContactError(Invalid):
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
        raise ContactError("not a phone number (digits, spaces, - and + only)", code="phone_chars")
    if not (_MOBILE.match(digits) or _LANDLINE.match(digits)):
        raise ContactError("not a mainland mobile (11 digits from 13…) or a landline with area code (0…)",
                           code="phone_format")
    return digits


LINE_TYPES = ("mobile", "landline")
_LINE_ALIASES = {"mobile": "mobile", "手机": "mobile", "移动电话": "mobile",
                 "landline": "landline", "固话": "landline", "固定电话": "landline", "座机": "landline"}
_PREFIX = re.compile(r"^\d{2,8}$")


def line_type_of(number: str) -> str:
    """mobile or landline, of a normalised number."""
    return "mobile" if _MOBILE.match(number) else "landline"


def _local_part(number: str) -> str:
    """A landline without its area code (010 and 02x have three digits, the others four)."""
    if number.startswith("010") or number.startswith("02"):
        return number[3:]
    return number[4:]


def check_number_strata(line_type: str, prefix: str, number: str | None) -> tuple[dict[str, str], list[str]]:
    """The number strata of a contact-list row (`line_type`, `prefix`): canonical values and problems.

    line_type is mobile or landline (手机 / 固话 accepted); prefix (号段 of a mobile, 局向号 of a
    landline) 2-8 digits. With the number known, both must agree with it: the prefix is the
    start of the number, or of a landline's local number after its area code. Problems are
    keys of the strata.* texts, with the column they concern.
    """
    out: dict[str, str] = {}
    problems: list[str] = []
    if line_type:
        canonical = _LINE_ALIASES.get(line_type.strip().lower())
        if canonical is None:
            problems.append("line_type:bad_line_type")
        else:
            out["line_type"] = canonical
            if number and line_type_of(number) != canonical:
                problems.append("line_type:line_type_mismatch")
    if prefix:
        if not _PREFIX.match(prefix):
            problems.append("prefix:bad_prefix")
        else:
            out["prefix"] = prefix
            if number and not (number.startswith(prefix) or
                               (line_type_of(number) == "landline" and _local_part(number).startswith(prefix))):
                problems.append("prefix:prefix_mismatch")
    return out, problems


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


class KeyProblem(ContactError):
    """The contact-data key is missing or does not open the stored contacts: nothing may go on.

    Raised instead of creating a new key once contacts are stored, because a new key would
    make every stored number unreadable and let the same number import again as a new case.
    """


def _key_names(db_path: str | Path) -> str:
    return f"SURVEY_SECRET_KEY or the key file {key_file_path(db_path)}"


def _read_key_file(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (UnicodeDecodeError, OSError) as err:
        raise KeyProblem(f"key file {path} cannot be read as a key ({type(err).__name__}); "
                         "restore it from the backup or set SURVEY_SECRET_KEY") from None
    if not text:
        raise KeyProblem(f"key file {path} is empty; restore it from the backup or set SURVEY_SECRET_KEY")
    return _fernet_key(text)


def _create_key_file(path: Path) -> bytes:
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
        return _read_key_file(path)
    finally:
        tmp.unlink()
    os.chmod(path, 0o600)
    msg = (f"联系方式加密密钥已生成 / contact-data key created: {path} (mode 0600). "
           "Back it up apart from the database: without it the phone numbers cannot be read.")
    log.warning(msg)  # no logging set up: Python prints warnings to stderr
    return key


def load_secret(db_path: str | Path, *, create: bool = True, sample: str | None = None) -> bytes:
    """The Fernet key: env `SURVEY_SECRET_KEY`, else the key file (created once, mode 0600).

    `sample` is one stored contact token (None when the store holds no contact). With a
    sample the key must open it, and a missing key is never replaced by a new one.
    """
    env = os.environ.get("SURVEY_SECRET_KEY")
    path = key_file_path(db_path)
    if env and env.strip():
        key, source = _fernet_key(env), "SURVEY_SECRET_KEY"
    elif path.exists():
        key, source = _read_key_file(path), f"key file {path}"
    elif sample is not None:
        raise KeyProblem(f"the store holds encrypted contacts but no key was found: set SURVEY_SECRET_KEY "
                         f"or restore the key file {path} from the backup (nothing was changed)")
    elif not create:
        raise KeyProblem(f"no key for contact data: set SURVEY_SECRET_KEY or provide {path}")
    else:
        return _create_key_file(path)
    if sample is not None and not _opens(key, sample):
        raise KeyProblem(f"the key from {source} does not open the stored contacts: set the right "
                         f"SURVEY_SECRET_KEY or restore the key file {path} (nothing was changed)")
    return key


def _opens(key: bytes, token: str) -> bool:
    try:
        Fernet(key).decrypt(token.encode("ascii"))
    except (InvalidToken, ValueError):
        return False
    return True


def sample_token(store: Any) -> str | None:
    """One stored contact token of the store, or None when it holds no contact."""
    tokens = store.contact_tokens(limit=1)
    return tokens[0] if tokens else None


def store_secret(store: Any, *, create: bool = True) -> bytes:
    """The key of this store's contacts, checked against one stored contact (see load_secret)."""
    return load_secret(store.path, create=create, sample=sample_token(store))


@dataclass(frozen=True)
class KeyReport:
    """What `python -m survey key check` found."""
    source: str
    contacts: int
    unreadable: int


def check_key(store: Any) -> KeyReport:
    """Try the key on every stored contact; KeyProblem when there is no key at all."""
    env = os.environ.get("SURVEY_SECRET_KEY")
    path = key_file_path(store.path)
    source = "SURVEY_SECRET_KEY" if env and env.strip() else f"key file {path}"
    if not (env and env.strip()) and not path.exists():
        raise KeyProblem(f"no key: neither SURVEY_SECRET_KEY is set nor the key file {path} exists")
    key = _fernet_key(env) if env and env.strip() else _read_key_file(path)
    tokens = store.contact_tokens()
    fernet = Fernet(key)
    bad = 0
    for token in tokens:
        try:
            fernet.decrypt(token.encode("ascii"))
        except (InvalidToken, ValueError):
            bad += 1
    return KeyReport(source, len(tokens), bad)


def ip_salt(store: Any) -> str:
    """The salt of IP hashes, derived from the contact key outside the database.

    A salt kept in the same file as the hashes lets anyone holding the file recover an
    address by trying the IPv4 space; derived from the key it needs the key too.
    """
    key = store_secret(store)
    return hmac.new(key, b"survey-web-ip-salt", hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ContactCipher:
    """Encrypts, hashes and masks contact values with one secret."""
    key: bytes

    @classmethod
    def for_db(cls, db_path: str | Path, *, create: bool = True) -> ContactCipher:
        return cls(load_secret(db_path, create=create))

    @classmethod
    def for_store(cls, store: Any, *, create: bool = True) -> ContactCipher:
        """The cipher of a store, refused (KeyProblem) when its key does not open its contacts."""
        return cls(store_secret(store, create=create))

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
            raise ContactError("empty address", code="address_empty")
        return {"contact_kind": "address", "contact_enc": self.encrypt(value),
                "contact_hash": self.keyed_hash(value), "contact_mask": mask_address(value)}
