"""The resident web survey's core: tokens, open links, abuse checks, drafts, submit.

No Streamlit here: the public page (app_pages/web_survey.py) passes in what the browser
told it (token or link code, device id cookie, client IP, user agent) and shows what
these functions answer. The rules:

- an invitation token (`/survey?t=TOKEN`) allows one response and fixes the unit;
- an open link (`/survey?l=CODE`) fixes wave and unit; anyone may answer, so it gets abuse
  checks: a device id cookie (the same device cannot answer twice), a salted IP hash (the
  raw IP is never stored), a per-IP-hash limit on new starts per hour, and flags on
  suspicious submissions, which are stored and flagged, never dropped;
- a wave's status and open/close dates are enforced with a message that says when;
- a draft is saved on every screen, so reloading or coming back resumes it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from survey.auth import Account, require
from survey.contacts import ip_salt
from survey.bootstrap import questionnaire_for_wave
from survey.questionnaire import Question, Questionnaire
from survey.responses import Submitted, build_record
from survey.store import Store, StoreError, Wave
from survey.storage.waves import WaveSettings
from survey.waves import get_wave, wave_settings

# Tokens are typed by people from paper now and then: no 0/O, 1/I/L look-alikes.
TOKEN_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TOKEN_LENGTH = 10  # 31**10 ≈ 8e14: guessing a valid token is hopeless
LINK_LENGTH = 8
MAX_TOKENS_PER_BATCH = 100_000
SURVEY_PATH = "/survey"
DEVICE_COOKIE = "survey_device"
DEVICE_ID_RE = re.compile(r"^[0-9a-f]{32}$")
ITEMS_PER_SCREEN = 2
UNITS_PER_SCREEN = 3  # appraisal waves: rated units per phone screen
RESIDENT = "resident"
CONSENT_KEY = "_consent"  # kept in the draft's answers; build_record keeps only questionnaire ids


# ======================================================================================
# Settings and wave dates
# ======================================================================================
@dataclass(frozen=True)
class WebSettings:
    """Abuse limits of a wave (`settings.web` of the wave overrides the defaults).

    Mobile carriers put many phones behind one address, so the IP limits are generous:
    they stop a script, not a housing estate on one network.
    """
    starts_per_ip_hour: int = 30      # new open-link starts per IP hash per hour; more are refused
    flag_ip_per_hour: int = 10        # submissions per IP hash per hour above this are flagged
    min_seconds: float = 60.0         # a web response faster than this is flagged too_fast

    @classmethod
    def of(cls, wave: dict[str, Any]) -> WebSettings:
        web = WaveSettings.parse(wave.get("settings")).web
        return cls(web.starts_per_ip_hour, web.flag_ip_per_hour, web.min_seconds)


def _moment(value: str | None, end_of_day: bool) -> dt.datetime | None:
    """A wave date: '2025-12-31' closes at the end of that day; a full timestamp is exact."""
    if not value:
        return None
    if len(value) == 10:
        day = dt.date.fromisoformat(value)
        return dt.datetime.combine(day, dt.time.max if end_of_day else dt.time.min)
    return dt.datetime.fromisoformat(value)


def wave_state(wave: dict[str, Any], at: dt.datetime | None = None) -> tuple[str, str | None]:
    """('open', None), ('not_yet', opens_at) or ('closed', closes_at or None) for a moment."""
    at = at or dt.datetime.now()
    if wave["status"] != "open":
        return "closed", wave.get("closes_at")
    opens, closes = _moment(wave.get("opens_at"), False), _moment(wave.get("closes_at"), True)
    if opens is not None and at < opens:
        return "not_yet", wave["opens_at"]
    if closes is not None and at > closes:
        return "closed", wave["closes_at"]
    return "open", None


def wave_date_problems(opens_at: str | None, closes_at: str | None) -> list[str]:
    """Why wave dates cannot be stored (checked when they are set, so /survey never meets `notadate`)."""
    problems = []
    for name, value in (("opens", opens_at), ("closes", closes_at)):
        if value:
            try:
                _moment(value, False)
            except (ValueError, TypeError):
                problems.append(f"--{name}: `{value}` is not a date like 2025-10-31 or 2025-10-31T18:00")
    if not problems and opens_at and closes_at:
        try:
            if _moment(opens_at, False) > _moment(closes_at, True):  # type: ignore[operator]
                problems.append(f"--closes: closes {closes_at} is before opens {opens_at}")
        except TypeError:  # one with a time zone, one without
            problems.append("--opens/--closes: give both with a time zone or both without")
    return problems


PUBLIC_URL_KEY = "public_url"  # a wave setting: the address residents open (links and QR codes)
MAX_URL_CHARS = 300


def public_url(wave: Wave | Mapping[str, Any]) -> str:
    """The wave's public survey address, else SURVEY_PUBLIC_URL of the server, else empty."""
    import os
    return str(wave_settings(wave).get(PUBLIC_URL_KEY) or os.environ.get("SURVEY_PUBLIC_URL", ""))


def set_public_url(store: Store, actor: Account, wave: str, url: str) -> str:
    """Remember the public address of a wave's web survey (http(s)://host[:port][/path]); '' clears it."""
    require(actor, "waves.manage")
    w = store.wave(wave)
    if w is None:
        raise StoreError(f"no wave `{wave}`")
    url = url.strip().rstrip("/")
    if url and (not re.fullmatch(r"https?://[A-Za-z0-9.\-]+(:\d{1,5})?(/[A-Za-z0-9._~\-/]*)?", url)
                or len(url) > MAX_URL_CHARS):
        raise StoreError(f"public_url: not a web address (http:// or https://): {url[:80]}")
    store.update_wave(wave, actor.username, settings={**(w.get("settings") or {}), PUBLIC_URL_KEY: url})
    return url


def set_wave_dates(store: Store, actor: Account, wave: str, opens_at: str | None,
                   closes_at: str | None) -> None:
    """Set when a wave's web survey opens and closes ('2025-10-01' or a full ISO time; None clears).

    A date-only close means the end of that day, so '2025-10-31' still takes answers at 23:59.
    """
    require(actor, "waves.manage")
    get_wave(store, wave)
    problems = wave_date_problems(opens_at, closes_at)
    if problems:
        raise StoreError("; ".join(problems))
    store.update_wave(wave, actor.username, opens_at=opens_at or None, closes_at=closes_at or None)


# ======================================================================================
# Tokens and open links (admin)
# ======================================================================================
def new_token() -> str:
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


def survey_url(base_url: str = "", *, token: str | None = None, link: str | None = None) -> str:
    """`/survey?t=TOKEN` or `/survey?l=CODE`, prefixed with the public address when given."""
    query = f"t={token}" if token else f"l={link}"
    return f"{base_url.rstrip('/')}{SURVEY_PATH}?{query}"


def _check_wave_unit(store: Store, wave: str, unit: str) -> dict[str, Any]:
    w = get_wave(store, wave)
    if unit not in w["units"]:
        raise StoreError(f"unit `{unit}` is not a unit of wave {wave} ({', '.join(w['units'])})")
    return w


def generate_tokens(store: Store, actor: Account, wave: str, unit: str, n: int) -> tuple[str, list[str]]:
    """A batch of `n` fresh invitation tokens for one unit; returns (batch id, tokens)."""
    require(actor, "tokens.manage")
    _check_wave_unit(store, wave, unit)
    if not 1 <= n <= MAX_TOKENS_PER_BATCH:
        raise StoreError(f"number of tokens must be between 1 and {MAX_TOKENS_PER_BATCH}, got {n}")
    tokens: set[str] = set()
    while len(tokens) < n:
        tokens.add(new_token())
    batch = dt.datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)
    ordered = sorted(tokens)
    store.add_web_tokens(wave, unit, ordered, batch, actor.username)
    return batch, ordered


def token_rows(tokens: list[dict[str, Any]] | list[str], unit: str | None = None,
               base_url: str = "") -> list[dict[str, str]]:
    """Rows `token, unit, url` for the CSV export and the QR sheet."""
    rows = []
    for tok in tokens:
        token, tok_unit = (tok["token"], tok["unit"]) if isinstance(tok, dict) else (tok, unit or "")
        rows.append({"token": token, "unit": tok_unit, "url": survey_url(base_url, token=token)})
    return rows


def tokens_csv(rows: list[dict[str, str]]) -> bytes:
    """The CSV of a batch: plain UTF-8 like every CSV of the platform (DESIGN.md data contracts)."""
    import csv
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["token", "unit", "url"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _qr_svg(data: str) -> str:
    import qrcode
    import qrcode.image.svg
    img = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg = img.to_string(encoding="unicode")
    return svg[svg.index("<svg"):]


def qr_sheet_html(rows: list[dict[str, str]], title: str, instructions: str) -> str:
    """A printable A4 sheet of invitation cards: QR code (vector SVG), token and unit.

    HTML with inline SVG because it prints sharp at any size from any browser (print to
    paper or PDF), needs no extra library, and the browser's own fonts render the Chinese
    text, which a hand-made PDF would have to embed.
    """
    for row in rows:
        if not row["url"].startswith(("http://", "https://")):
            raise StoreError("a QR code needs the full public address of the survey "
                             "(e.g. https://survey.example.gov.cn): give the base URL")
    cards = "\n".join(
        f'<div class="card"><div class="qr">{_qr_svg(r["url"])}</div>'
        f'<div class="unit">{html.escape(r["unit"])}</div>'
        f'<div class="token">{html.escape(r["token"])}</div>'
        f'<div class="help">{html.escape(instructions)}</div></div>' for r in rows)
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
@page {{ size: A4; margin: 10mm; }}
body {{ font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif; margin: 0; }}
h1 {{ font-size: 14pt; margin: 0 0 4mm; }}
.sheet {{ display: grid; grid-template-columns: repeat(3, 1fr); gap: 4mm; }}
.card {{ border: 1px dashed #888; padding: 3mm; text-align: center; break-inside: avoid; page-break-inside: avoid; }}
.qr svg {{ width: 42mm; height: 42mm; }}
.unit {{ font-size: 11pt; font-weight: bold; }}
.token {{ font-family: monospace; font-size: 13pt; letter-spacing: 1px; }}
.help {{ font-size: 8pt; color: #444; }}
@media print {{ h1 {{ display: none; }} }}
</style></head><body><h1>{html.escape(title)}</h1><div class="sheet">
{cards}
</div></body></html>
"""


def token_batches(store: Store, actor: Account, wave: str) -> list[dict[str, Any]]:
    """The wave's token batches with how many were generated and used (the admin's list)."""
    require(actor, "tokens.manage")
    return store.web_token_batches(wave)


def batch_tokens(store: Store, actor: Account, wave: str, batch: str) -> list[dict[str, Any]]:
    """The tokens of one batch, for its CSV and QR sheet."""
    require(actor, "tokens.manage")
    return store.web_tokens(wave, batch=batch)


@dataclass(frozen=True)
class WebLink:
    """One open link of a wave, with the responses received through it."""
    code: str
    wave: str
    unit: str
    active: bool
    responses: int
    created_at: str
    created_by: str | None


def open_links(store: Store, actor: Account, wave: str | None = None) -> list[WebLink]:
    """The wave's open links (every wave's when None) with the number of responses received through each."""
    require(actor, "tokens.manage")
    return [WebLink(r["code"], r["wave"], r["unit"], bool(r["active"]), int(r["responses"]), str(r["created_at"]),
                    r["created_by"]) for r in store.web_links(wave)]


def draft_funnel(store: Store, actor: Account, wave: str) -> list[dict[str, Any]]:
    """Web drafts by unit and status (started, ineligible, submitted)."""
    require(actor, "tokens.manage")
    return store.web_draft_counts(wave)


def flagged_submissions(store: Store, actor: Account, wave: str) -> list[dict[str, Any]]:
    """Web responses with an abuse flag (access path, device, IP hash), for the admin's check."""
    require(actor, "tokens.manage")
    return store.web_submissions(wave, flagged_only=True)


def web_sponsor(store: Store, wave: str) -> str | None:
    """The sponsor line a visitor reads on the wave's survey (None: the default text)."""
    found = store.wave_record(wave)
    return found.settings.web.sponsor if found is not None else None


def create_link(store: Store, actor: Account, wave: str, unit: str) -> str:
    """A new open link for one unit of a wave; returns its code (`/survey?l=CODE`)."""
    require(actor, "tokens.manage")
    _check_wave_unit(store, wave, unit)
    code = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(LINK_LENGTH))
    store.add_web_link(code, wave, unit, actor.username)
    return code


def set_link_active(store: Store, actor: Account, code: str, active: bool) -> None:
    require(actor, "tokens.manage")
    store.set_web_link_active(code, active, actor.username)


# ======================================================================================
# The visitor: IP hash, device type, access
# ======================================================================================
def client_ip(headers: dict[str, str] | None, remote_ip: str | None, trust_forwarded: bool) -> str:
    """The visitor's address: X-Forwarded-For's first hop behind a trusted proxy, else the socket's.

    Trust the header only behind a proxy that sets it (SURVEY_TRUST_PROXY=1), or anyone
    could forge a fresh address per request and escape the rate limit.
    """
    if trust_forwarded and headers:
        lowered = {k.lower(): v for k, v in headers.items()}
        forwarded = lowered.get("x-forwarded-for", "").split(",")[0].strip()
        if forwarded:
            return forwarded
        if lowered.get("x-real-ip"):
            return lowered["x-real-ip"].strip()
    return remote_ip or "local"


def ip_hash(salt: str, wave: str, ip: str) -> str:
    """Salted, per-wave hash: equal addresses compare equal, the address itself is not kept."""
    return hashlib.sha256(f"{salt}\x1f{wave}\x1f{ip}".encode()).hexdigest()[:20]


def device_type(user_agent: str | None) -> str:
    """phone / tablet / desktop (plus `wechat` when opened in WeChat's browser) from a User-Agent."""
    ua = user_agent or ""
    kind = ("tablet" if re.search(r"iPad|Tablet|SM-T|MatePad", ua)
            else "phone" if re.search(r"Mobi|iPhone|Android", ua)
            else "desktop" if ua else "unknown")
    return f"{kind}+wechat" if "MicroMessenger" in ua else kind


def new_device_id() -> str:
    return uuid.uuid4().hex


def valid_device_id(value: str | None) -> str | None:
    return value if value and DEVICE_ID_RE.match(value) else None


@dataclass(frozen=True)
class Visitor:
    """What the browser tells about one visit."""
    device_id: str
    ip: str
    user_agent: str = ""
    lang: str = "zh"
    cookie_returned: bool = True   # False on a first visit: the id was made this session



@dataclass(frozen=True)
class Refused:
    """The survey cannot be started; `reason` is a catalog key suffix, `detail` fills it in."""
    reason: str          # no_access, unknown_token, token_used, unknown_link, link_closed,
    detail: dict[str, Any] = field(default_factory=dict)  # not_yet, closed, device_done, rate_limited


@dataclass
class Draft:
    draft_id: str
    wave: str
    unit: str
    access: str
    answers: dict[str, Any]
    step: int
    status: str
    started_at: str
    resumed: bool
    token: str | None = None
    link: str | None = None


def _draft_from_row(row: dict[str, Any], resumed: bool) -> Draft:
    return Draft(row["draft_id"], row["wave"], row["unit"], row["access"], row["answers"], row["step"],
                 row["status"], row["started_at"], resumed, row.get("token"), row.get("link"))


def _closed(wave: dict[str, Any], at: dt.datetime) -> Refused | None:
    state, when = wave_state(wave, at)
    if state == "open":
        return None
    return Refused(state, {"when": when or ""})


def open_survey(store: Store, visitor: Visitor, *, token: str | None = None, link: str | None = None,
                clock: Callable[[], dt.datetime] = dt.datetime.now) -> Draft | Refused:
    """Start or resume the survey for a visitor arriving with a token or an open-link code."""
    at = clock()
    token = (token or "").strip().upper() or None
    link = (link or "").strip().upper() or None
    if token:
        row = store.web_token(token)
        if row is None:
            return Refused("unknown_token")
        draft_id = f"t:{token}"
        wave_id, unit, access = row["wave"], row["unit"], "token"
        if row["response_id"] is not None:
            return Refused("token_used")
    elif link:
        row = store.web_link(link)
        if row is None:
            return Refused("unknown_link")
        if not row["active"]:
            return Refused("link_closed")
        wave_id, unit, access = row["wave"], row["unit"], "link"
        draft_id = "d:" + hashlib.sha256(f"{visitor.device_id}\x1f{link}".encode()).hexdigest()[:24]
    else:
        return Refused("no_access")
    wave = store.wave(wave_id)
    assert wave is not None
    refused = _closed(wave, at)
    if refused:
        return refused
    hashed = ip_hash(ip_salt(store), wave_id, visitor.ip)
    existing = store.web_draft(draft_id)
    if existing is not None:
        if existing["response_id"] is not None:  # this device's link response is in
            return Refused("device_done") if access == "link" else Refused("token_used")
        if existing["device_id"] != visitor.device_id:
            # a token opened on a second device: never show it the first device's answers (and comment)
            if existing["answers"]:
                return Refused("token_other_device")
            store.update_web_draft(draft_id, device_id=visitor.device_id)
            existing = {**existing, "device_id": visitor.device_id}
        store.update_web_draft(draft_id, resumes=existing["resumes"] + 1)
        return _draft_from_row(existing, resumed=True)
    if access == "link":
        if store.count_web_submissions(wave=wave_id, device_id=visitor.device_id):
            return Refused("device_done")
        limit = WebSettings.of(wave).starts_per_ip_hour
        since = (at - dt.timedelta(hours=1)).isoformat(timespec="seconds")
        if store.count_web_starts(hashed, since) >= limit:
            return Refused("rate_limited", {"limit": limit})
        starts_limit: tuple[int, str] | None = (limit, since)  # checked again where the draft is written
    else:
        starts_limit = None
    started = at.isoformat(timespec="seconds")
    created = store.start_web_draft({
        "draft_id": draft_id, "wave": wave_id, "unit": unit, "access": access, "token": token, "link": link,
        "device_id": visitor.device_id, "ip_hash": hashed, "device_type": device_type(visitor.user_agent),
        "user_agent": visitor.user_agent[:300], "lang": visitor.lang, "answers": {}, "step": 0,
        "status": "started", "started_at": started, "updated_at": started, "resumes": 0},
        starts_limit=starts_limit)
    if created is None:  # another resident (on this or another app server) took the last start
        return Refused("rate_limited", {"limit": limit})
    row = store.web_draft(draft_id)
    assert row is not None
    return _draft_from_row(row, resumed=False)


def save_progress(store: Store, draft_id: str, answers: dict[str, Any], step: int,
                  status: str = "started") -> None:
    """Keep the answers so far and the screen reached (called on every Next)."""
    store.update_web_draft(draft_id, answers=answers, step=step, status=status)


# ======================================================================================
# Screens
# ======================================================================================
@dataclass(frozen=True)
class Screen:
    kind: str                      # intro, screening, items, followup, demographics, comment
    questions: tuple[Question, ...] = ()


def unit_order(qn: Questionnaire, draft_id: str) -> list[str]:
    """The rated units in a random order of this respondent (fixed by the draft: a resumed
    survey keeps it; stored in the response's paradata so order effects can be checked)."""
    import numpy as np
    ids = [u.id for u in qn.rated_units]
    seed = int.from_bytes(hashlib.sha256(f"unit-order:{draft_id}".encode()).digest()[:8], "big")
    return [ids[i] for i in np.random.default_rng(seed).permutation(len(ids))]


def _unit_screens(qn: Questionnaire, order: list[str] | None, per_screen: int) -> list[Screen]:
    """Appraisal waves: each rated unit's block (aware, rating, dimensions), a few units per screen."""
    order = order or [u.id for u in qn.rated_units]
    blocks = {u.id: tuple(q for q in qn.questions if q.role in ("awareness", "rating", "dimension")
                          and (q.id == u.id or (q.show_if and q.show_if.question == f"{u.id}_aware")
                               or q.id == f"{u.id}_aware"))
              for u in qn.rated_units}
    return [Screen("units", sum((blocks[uid] for uid in order[i:i + per_screen]), ()))
            for i in range(0, len(order), per_screen)]


def screens(qn: Questionnaire, per_screen: int = ITEMS_PER_SCREEN, order: list[str] | None = None,
            units_per_screen: int = UNITS_PER_SCREEN) -> list[Screen]:
    """The phone-sized screens: intro, screening, items a few at a time (in an appraisal wave:
    the rated units a few at a time, in `order`), follow-ups, demographics, then the optional
    comment (a follow-up text without a condition)."""
    items = qn.by_role("item")
    followups = [q for q in qn.by_role("followup") if not (q.type == "text" and q.show_if is None)]
    comments = [q for q in qn.by_role("followup") if q.type == "text" and q.show_if is None]
    out = [Screen("intro"), Screen("screening", tuple(qn.by_role("screening")))]
    out += [Screen("items", tuple(items[i:i + per_screen])) for i in range(0, len(items), per_screen)]
    if qn.kind == "appraisal":
        out += _unit_screens(qn, order, units_per_screen)
    if followups:
        out.append(Screen("followup", tuple(followups)))
    out.append(Screen("demographics", tuple(qn.by_role("demographic"))))
    if comments:
        out.append(Screen("comment", tuple(comments)))
    return out


def missing_on_screen(qn: Questionnaire, screen: Screen, answers: dict[str, Any]) -> list[Question]:
    """Required questions of a screen still unanswered (skip logic applied)."""
    return [q for q in screen.questions
            if q.required and qn.is_shown(q, answers) and answers.get(q.id) in (None, "")]


# ======================================================================================
# Submit
# ======================================================================================
@dataclass(frozen=True)
class WebSubmitted(Submitted):
    flags: tuple[str, ...] = ()


class WaveClosed(StoreError):
    """The wave closed while the resident was answering; the draft is kept."""


def _flags(store: Store, wave: dict[str, Any], draft: dict[str, Any], duration_s: float | None,
           visitor: Visitor, at: dt.datetime) -> list[str]:
    settings = WebSettings.of(wave)
    flags = []
    if duration_s is not None and duration_s < settings.min_seconds:
        flags.append("too_fast")
    since = (at - dt.timedelta(hours=1)).isoformat(timespec="seconds")
    if store.count_web_submissions(wave=wave["id"], ip_hash=draft["ip_hash"], since=since) >= settings.flag_ip_per_hour:
        flags.append("ip_burst")
    if store.count_web_submissions(wave=wave["id"], device_id=visitor.device_id):
        flags.append("device_repeat")  # a second token answered on one phone (tokens are not blocked)
    return flags


def submit(store: Store, draft_id: str, answers: dict[str, Any], visitor: Visitor,
           clock: Callable[[], dt.datetime] = dt.datetime.now) -> WebSubmitted:
    """Validate and store the response of a draft once (its submit key is the draft's id).

    Suspicious submissions are stored with flags, never dropped; a repeated submit
    (double click, resent request) answers with the first response and stores nothing.
    """
    draft = store.web_draft(draft_id)
    if draft is None:
        raise StoreError(f"no web draft `{draft_id}`")
    if draft["response_id"] is not None:
        return WebSubmitted(draft["response_id"], False)
    wave = store.wave(draft["wave"])
    assert wave is not None
    at = clock()
    state, when = wave_state(wave, at)
    if state != "open":
        save_progress(store, draft_id, answers, draft["step"])
        raise WaveClosed(f"wave {wave['id']} is {state.replace('_', ' ')}" + (f" ({when})" if when else ""))
    submitted_at = at.isoformat(timespec="seconds")
    duration = max((at - dt.datetime.fromisoformat(draft["started_at"])).total_seconds(), 0.0)
    flags = _flags(store, wave, draft, duration, visitor, at)
    paradata = {"started_at": draft["started_at"], "submitted_at": submitted_at, "duration_s": duration,
                "device_type": draft["device_type"], "lang": visitor.lang, "access": draft["access"],
                "resumes": draft["resumes"], "device_cookie": "returned" if visitor.cookie_returned else "new",
                "consent": bool(answers.get(CONSENT_KEY)), "flags": flags}
    qn = questionnaire_for_wave(store, draft["wave"])
    if qn.kind == "appraisal":
        paradata["unit_order"] = unit_order(qn, draft_id)
    record = build_record(qn, wave, unit=draft["unit"], mode="web", answers=answers,
                          submit_key=f"web:{draft_id}", source="web", started_at=draft["started_at"],
                          submitted_at=submitted_at, duration_s=duration, created_by=RESIDENT,
                          paradata=paradata)
    rid, created = store.submit_web(record, {"access": draft["access"], "token": draft["token"],
                                             "link": draft["link"], "device_id": visitor.device_id,
                                             "ip_hash": draft["ip_hash"], "flags": flags, "draft_id": draft_id})
    return WebSubmitted(rid, created, tuple(flags) if created else ())


def end_ineligible(store: Store, draft_id: str, answers: dict[str, Any]) -> None:
    """Screened out: keep the screening answers for the response rates, end politely."""
    save_progress(store, draft_id, answers, 1, status="ineligible")
