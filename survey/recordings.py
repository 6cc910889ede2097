"""Recording review (录音复核): evidence files outside the database, the review queue and its outcomes.

Files. Call recordings, door recordings and entrance photos are written outside the
database, content-addressed (`<media dir>/<sha256[:2]>/<sha256>.<ext>`, mode 0600), with
their sha256 in the `recordings` table; reading one back checks the hash, so a file
changed on disk is refused rather than played. The media folder is `SURVEY_MEDIA_DIR`,
else `<store stem>.media` beside the store (beside the contact key for PostgreSQL).

Import from the call-centre system (`import_recordings`, a folder or a .zip), matched to
the wave's contact attempts by case id and time. Either

- file names `<case_id>_<YYYYmmddHHMMSS>.mp3|wav` (the call's start, local time; the case
  id may itself hold underscores: the time is what follows the last one), or
- a `manifest.csv` at the top of the folder or zip, columns `file,case_id,recorded_at`
  (`recorded_at` as `YYYY-mm-dd HH:MM:SS`, ISO with `T`, or the 14 digits), which then
  governs: every row's file must exist and every audio file must be listed.

A recording matches the attempt of its case whose `attempted_at` lies from MATCH_BEFORE
before the recording's time to MATCH_AFTER after it (an attempt is recorded when the call
ends, so after its start), the nearest such one; it takes the attempt's pollster, firm
and response (a complete's). Every file is checked before anything is written; any
problem (a name off the convention, an unknown case, a case of another firm, no attempt
near that time, an empty, oversized or non-audio file, a file outside the manifest) is
listed per file in Chinese and nothing is stored. A zip whose members would inflate past
MAX_ARCHIVE_INFLATED, inflate more than MAX_RATIO-fold (a decompression bomb), or whose
names climb out of the archive (`..`, absolute paths: path traversal) is refused whole.
A file already stored (same content) stores nothing, so importing again is harmless.

Review queue. Each pollster's completes (phone and door interviews) are sampled at the
wave's 复核率 (`evidence.review_rate`, default 30 %) by the back-check's bottom-k keyed hash
(survey.backcheck.draw), with the seed `review:<evidence.review_seed or wave id>`,
so k = ⌈rate × completes⌉ (at least one per pollster), the same seed and data give the
same queue in any row order, and the queue is independent of the back-check list. Every
response flagged by the current QC run joins the queue too. A reviewer (supervisor of
the firm, or admin) listens and records 合格 (pass) / 不合格 (fail, a reason required) /
无录音 (none) with who and when; an outcome may exclude the response, with a reason,
through the one exclusion mechanism (audited, restorable on the review page).
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from common.errors import Forbidden, Invalid, NotFound
from survey import i18n
from survey.auth import Account, allowed, require, scope
from survey.backcheck import draw
from survey.store import Store, Wave
from survey.waves import get_wave, wave_settings

AUDIO_TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav"}
PHOTO_TYPES = {".jpg": "image/jpeg", ".png": "image/png"}
MAX_FILE_BYTES = 200 * 1024 * 1024             # one recording: 3 h of 128 kbit/s mp3
MAX_ARCHIVE_INFLATED = 20 * 1024 ** 3           # a zip's members together
MAX_RATIO = 50                                  # inflated / compressed of one member; audio barely compresses
MATCH_BEFORE = dt.timedelta(minutes=5)
MATCH_AFTER = dt.timedelta(minutes=90)
MANIFEST = "manifest.csv"
REVIEW_RATE = 0.30
REVIEW_MODES = ("phone", "door")
OUTCOMES = ("pass", "fail", "none")           # 合格 / 不合格 / 无录音
_NAME = re.compile(r"^(?P<case>.+)_(?P<time>\d{14})$")


# ---- wave options ---------------------------------------------------------------------
class EvidenceOptions(BaseModel):
    """The `evidence` section of a wave's settings: review rate and seed, door evidence switches."""
    model_config = ConfigDict(extra="forbid")
    review_rate: float = Field(REVIEW_RATE, gt=0, le=1, allow_inf_nan=False)
    review_seed: str = Field("", max_length=64)
    geolocation: bool = False   # browser position at the start and the submit of a door interview
    photo: bool = False         # a photo of the building entrance (no faces, no names)
    audio: bool = False         # record the door interview, with the respondent's consent

    @field_validator("review_seed")
    @classmethod
    def _printable(cls, value: str) -> str:
        if any(ord(c) < 32 for c in value):
            raise ValueError("control characters")
        return value.strip()


def evidence_options(wave: Wave | Mapping[str, Any]) -> EvidenceOptions:
    raw = wave_settings(wave).get("evidence") or {}
    try:
        return EvidenceOptions.model_validate(raw)
    except ValidationError:  # written by hand and wrong: the defaults, as for other sections
        return EvidenceOptions()


def save_evidence_options(store: Store, actor: Account, wave: str, values: Mapping[str, Any],
                          lang: str = i18n.DEFAULT_LANG) -> EvidenceOptions:
    """Validate and store a wave's evidence options (other settings kept); refused values name their field."""
    from survey.wave_setup import SetupError, _pydantic_lines
    require(actor, "waves.manage")
    w = get_wave(store, wave)
    cleaned = {k: v for k, v in dict(values).items() if not (isinstance(v, str) and not v.strip())
               or k == "review_seed"}
    try:
        opts = EvidenceOptions.model_validate(cleaned)
    except ValidationError as err:
        raise SetupError(_pydantic_lines(err, "evidence", lang)) from None
    store.update_wave(wave, actor.username, settings={**w["settings"], "evidence": opts.model_dump()})
    return opts


# ---- files outside the database ---------------------------------------------------------
def media_dir(store: Store) -> Path:
    """Where evidence files live: SURVEY_MEDIA_DIR, else `<store stem>.media` beside the store."""
    configured = os.environ.get("SURVEY_MEDIA_DIR")
    return Path(configured) if configured else store.path.parent / f"{store.path.stem}.media"


def _write_file(store: Store, data: bytes, ext: str) -> tuple[str, str]:
    """Write `data` content-addressed (atomic; an existing file is kept); returns (sha256, relative path)."""
    sha = hashlib.sha256(data).hexdigest()
    rel = f"{sha[:2]}/{sha}{ext}"
    path = media_dir(store) / rel
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    return sha, rel


def _looks_like(data: bytes, ext: str) -> bool:
    """The first bytes match the claimed type (so a renamed .exe is not stored as audio)."""
    if ext == ".wav":
        return data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    if ext == ".mp3":
        return data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)
    if ext == ".jpg":
        return data[:3] == b"\xff\xd8\xff"
    if ext == ".png":
        return data[:8] == b"\x89PNG\r\n\x1a\n"
    return False


def _problem(key: str, lang: str, **values: Any) -> str:
    return i18n.t(f"evidence.problem.{key}", lang, **values)


def _file_problem(name: str, data: bytes, types: Mapping[str, str], lang: str) -> str | None:
    ext = PurePosixPath(name).suffix.lower()
    if ext not in types:
        return _problem("type", lang, file=name, types="、".join(types))
    if not data:
        return _problem("empty", lang, file=name)
    if len(data) > MAX_FILE_BYTES:
        return _problem("too_large", lang, file=name, mb=MAX_FILE_BYTES // 1024 // 1024)
    if not _looks_like(data, ext):
        return _problem("not_audio" if types is AUDIO_TYPES else "not_photo", lang, file=name)
    return None


# ---- reading a folder or a zip ---------------------------------------------------------
@dataclass(frozen=True)
class Source:
    """The files of an import: name (relative, '/'-separated) -> bytes; `refused` when unsafe."""
    files: dict[str, bytes]
    refused: list[str] = field(default_factory=list)


def _unsafe_member(name: str) -> bool:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return name.startswith(("/", "\\")) or ".." in parts or bool(re.match(r"^[A-Za-z]:", name))


def read_zip(raw: bytes, name: str, lang: str = i18n.DEFAULT_LANG) -> Source:
    """A zip's regular files, after refusing bombs and climbing names (nothing is extracted to disk)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        return Source({}, [_problem("bad_zip", lang, file=name)])
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        bad = [i.filename for i in infos if _unsafe_member(i.filename)]
        if bad:
            return Source({}, [_problem("traversal", lang, file=name, member=bad[0])])
        inflated = sum(i.file_size for i in infos)
        if inflated > MAX_ARCHIVE_INFLATED:
            return Source({}, [_problem("bomb_total", lang, file=name, gb=MAX_ARCHIVE_INFLATED // 1024 ** 3)])
        for info in infos:
            if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                return Source({}, [_problem("bomb_ratio", lang, file=name, member=info.filename,
                                            ratio=info.file_size // max(info.compress_size, 1))])
        files: dict[str, bytes] = {}
        for info in infos:
            if PurePosixPath(info.filename).name.startswith(".") or info.filename.startswith("__MACOSX/"):
                continue
            with archive.open(info) as fh:  # read no more than the directory promised (a lying header)
                data = fh.read(min(info.file_size, MAX_FILE_BYTES) + 1)
            files[info.filename] = data
    return Source(files)


def read_folder(folder: Path, lang: str = i18n.DEFAULT_LANG) -> Source:
    """A folder's regular files (recursively); links are refused, not followed."""
    files: dict[str, bytes] = {}
    refused: list[str] = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            refused.append(_problem("symlink", lang, file=rel))
        elif path.is_file() and not path.name.startswith("."):
            if path.stat().st_size > MAX_FILE_BYTES:
                refused.append(_problem("too_large", lang, file=rel, mb=MAX_FILE_BYTES // 1024 // 1024))
                continue
            files[rel] = path.read_bytes()
    return Source(files, refused)


def read_source(path: str | Path, lang: str = i18n.DEFAULT_LANG) -> Source:
    path = Path(path)
    if path.is_dir():
        return read_folder(path, lang)
    if path.suffix.lower() == ".zip" and path.is_file():
        if path.stat().st_size > MAX_ARCHIVE_INFLATED:
            return Source({}, [_problem("bomb_total", lang, file=path.name, gb=MAX_ARCHIVE_INFLATED // 1024 ** 3)])
        return read_zip(path.read_bytes(), path.name, lang)
    return Source({}, [_problem("not_source", lang, file=str(path))])


# ---- matching and importing --------------------------------------------------------------
def parse_time(text: str) -> dt.datetime | None:
    text = str(text).strip()
    for fmt in ("%Y%m%d%H%M%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            pass
    return None


@dataclass(frozen=True)
class Claim:
    """What a file says it is: its case and the call's start."""
    file: str
    case_id: str
    recorded_at: dt.datetime


def _claims(src: Source, lang: str) -> tuple[list[Claim], list[str]]:
    """Each audio file's case and time, from the manifest when there is one, else from its name."""
    problems: list[str] = []
    claims: list[Claim] = []
    audio = sorted(n for n in src.files if PurePosixPath(n).suffix.lower() in AUDIO_TYPES)
    others = sorted(n for n in src.files if n not in audio and PurePosixPath(n).name != MANIFEST)
    problems += [_problem("type", lang, file=n, types="、".join(AUDIO_TYPES)) for n in others]
    manifest = next((n for n in src.files if n == MANIFEST), None)
    if manifest is not None:
        try:
            text = src.files[manifest].decode("utf-8-sig")
        except UnicodeDecodeError:
            text = src.files[manifest].decode("gbk", errors="replace")
        rows = list(csv.DictReader(io.StringIO(text)))
        header = set(rows[0]) if rows else set()
        if not {"file", "case_id", "recorded_at"} <= header:
            return [], problems + [_problem("manifest_columns", lang)]
        listed: set[str] = set()
        for line, row in enumerate(rows, start=2):
            name, case_id = (row.get("file") or "").strip(), (row.get("case_id") or "").strip()
            when = parse_time(row.get("recorded_at") or "")
            if name not in src.files:
                problems.append(_problem("manifest_missing", lang, line=line, file=name))
                continue
            listed.add(name)
            if not case_id or when is None:
                problems.append(_problem("manifest_row", lang, line=line, file=name))
            else:
                claims.append(Claim(name, case_id, when))
        problems += [_problem("not_listed", lang, file=n) for n in audio if n not in listed]
        return claims, problems
    for name in audio:
        m = _NAME.match(PurePosixPath(name).stem)
        when = parse_time(m["time"]) if m else None
        if m is None or when is None:
            problems.append(_problem("name", lang, file=name))
        else:
            claims.append(Claim(name, m["case"], when))
    return claims, problems


def match_attempt(attempts: Iterable[Mapping[str, Any]], at: dt.datetime) -> Mapping[str, Any] | None:
    """The attempt recorded nearest to `at` within [at − MATCH_BEFORE, at + MATCH_AFTER], or None."""
    best, best_gap = None, None
    for a in attempts:
        when = parse_time(str(a["attempted_at"])[:19])
        if when is None or not (at - MATCH_BEFORE <= when <= at + MATCH_AFTER):
            continue
        gap = abs((when - at).total_seconds())
        if best_gap is None or gap < best_gap or (gap == best_gap and a["id"] < best["id"]):
            best, best_gap = a, gap
    return best


@dataclass(frozen=True)
class ImportResult:
    files: int            # audio files read
    created: int          # new to the store
    problems: list[str]   # per file, in Chinese; non-empty means nothing was stored

    @property
    def ok(self) -> bool:
        return not self.problems


def import_recordings(store: Store, actor: Account, wave: str, source: str | Path | Source,
                      lang: str = i18n.DEFAULT_LANG) -> ImportResult:
    """Import call recordings for a wave from a folder, a .zip or a read Source: all or nothing."""
    if not allowed(actor, "recordings.import"):
        raise Forbidden(f"{actor.username} ({actor.role}) may not import recordings", code="forbidden_action")
    get_wave(store, wave)
    src = source if isinstance(source, Source) else read_source(source, lang)
    if src.refused and not src.files:
        return ImportResult(0, 0, list(src.refused))
    claims, problems = _claims(src, lang)
    problems = list(src.refused) + problems
    by_case: dict[str, list[dict[str, Any]]] = {}
    for a in store.attempts(wave, case_ids=sorted({c.case_id for c in claims})):
        by_case.setdefault(a["case_id"], []).append(a)
    known = {c["case_id"]: c for c in store.cases(wave)} if claims else {}
    rows: list[dict[str, Any]] = []
    for claim in sorted(claims, key=lambda c: c.file):
        data = src.files[claim.file]
        bad = _file_problem(claim.file, data, AUDIO_TYPES, lang)
        if bad:
            problems.append(bad)
            continue
        case = known.get(claim.case_id)
        if case is None and claim.case_id not in by_case:
            problems.append(_problem("unknown_case", lang, file=claim.file, case=claim.case_id, wave=wave))
            continue
        firm = (case or {}).get("firm") or next((a["firm"] for a in by_case.get(claim.case_id, [])), None)
        if not allowed(actor, "recordings.import", {"firm": firm}):
            problems.append(_problem("other_firm", lang, file=claim.file, case=claim.case_id))
            continue
        attempt = match_attempt(by_case.get(claim.case_id, []), claim.recorded_at)
        if attempt is None:
            problems.append(_problem("no_attempt", lang, file=claim.file, case=claim.case_id,
                                     at=claim.recorded_at.isoformat(sep=" ")))
            continue
        rows.append({"kind": "audio", "file_name": PurePosixPath(claim.file).name, "wave": wave,
                     "case_id": claim.case_id, "attempt_id": attempt["id"], "response_id": attempt["response_id"],
                     "interviewer": attempt["interviewer"], "firm": attempt["firm"],
                     "recorded_at": claim.recorded_at.isoformat(timespec="seconds"), "source": "import",
                     "created_by": actor.username, "_data": data,
                     "_ext": PurePosixPath(claim.file).suffix.lower()})
    if problems:
        return ImportResult(len(claims), 0, problems)
    for row in rows:  # files first: a row never points at a file that is not there
        row["sha256"], row["path"] = _write_file(store, row.pop("_data"), row.pop("_ext"))
        row["size_bytes"] = (media_dir(store) / row["path"]).stat().st_size
    created = store.add_recordings(rows, actor.username, wave, {"files": len(rows)})
    return ImportResult(len(claims), created, [])


def add_response_file(store: Store, actor: Account, response_id: str, kind: str, data: bytes,
                      file_name: str, lang: str = i18n.DEFAULT_LANG) -> bool:
    """Attach a file recorded in the browser (door recording, entrance photo) to a response; idempotent."""
    row = store.response(response_id)
    if row is None:
        raise NotFound(f"no response `{response_id}`")
    if not allowed(actor, "recordings.add", row):
        raise Forbidden(f"{actor.username} may not attach files to response {response_id}", code="forbidden_action")
    types = AUDIO_TYPES if kind == "audio" else PHOTO_TYPES
    ext = PurePosixPath(file_name).suffix.lower()
    bad = _file_problem(file_name, data, types, lang)
    if bad:
        raise Invalid(bad, field=kind, code="bad_file")
    sha, rel = _write_file(store, data, ext)
    return bool(store.add_recordings([{
        "kind": kind, "sha256": sha, "path": rel, "size_bytes": len(data), "file_name": file_name,
        "wave": row["wave"], "case_id": row.get("case_id"), "attempt_id": None, "response_id": response_id,
        "interviewer": row["interviewer"], "firm": row["firm"], "recorded_at": row["submitted_at"],
        "source": "browser", "created_by": actor.username}], actor.username, row["wave"],
        {"response_id": response_id, "kind": kind}))


def _reviewable(store: Store, actor: Account, row: Mapping[str, Any] | None, what: str) -> None:
    if row is None:
        raise NotFound(f"no {what}")
    if not allowed(actor, "recordings.review", row):
        raise Forbidden(f"{actor.username} may not review {what}", code="forbidden_action")


def recording_bytes(store: Store, actor: Account, recording_id: int) -> bytes:
    """A stored file's bytes for the reviewer's player; refused when the file no longer matches its hash."""
    row = store.recording(recording_id)
    _reviewable(store, actor, row, f"recording {recording_id}")
    path = media_dir(store) / row["path"]
    if not path.is_file():
        raise NotFound(i18n.t("evidence.file_missing", i18n.DEFAULT_LANG, file=row["file_name"]))
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != row["sha256"]:
        raise Invalid(i18n.t("evidence.file_changed", i18n.DEFAULT_LANG, file=row["file_name"]))
    return data


def response_files(store: Store, actor: Account, response_id: str) -> list[dict[str, Any]]:
    """The recordings and photos of one response (reviewer's rights checked)."""
    row = store.response(response_id)
    _reviewable(store, actor, row, f"response {response_id}")
    return store.recordings(row["wave"], response_ids=[response_id])


# ---- the review queue ----------------------------------------------------------------------
@dataclass(frozen=True)
class ReviewItem:
    response_id: str
    interviewer: str
    unit: str
    mode: str
    submitted_at: str
    random: bool                 # drawn at the wave's 复核率
    flagged: bool                # flagged by the current QC run
    excluded: bool
    recordings: int              # audio files attached
    outcome: str | None = None   # latest review outcome
    reason: str = ""
    reviewer: str | None = None
    reviewed_at: str | None = None


def review_seed(wave: Mapping[str, Any]) -> str:
    return f"review:{evidence_options(wave).review_seed or wave['id']}"


def review_sample(completes: Iterable[tuple[str, str]], seed: str, rate: float = REVIEW_RATE) -> set[str]:
    """The random part of the queue from (response_id, pollster) pairs: ⌈rate × n⌉ per pollster, bottom-k.

    The back-check's draw (survey.backcheck.draw: each response scores sha256(seed:id), each
    pollster's k lowest are drawn), with the review's own seed: the same seed gives the same
    sample in any row order, every pollster with a complete gets one at least, and new
    completes move it little.
    """
    return draw(completes, seed, rate)


def review_queue(store: Store, actor: Account, wave: str, *, firm: str | None = None,
                 flagged: Iterable[str] | None = None, rate: float | None = None) -> list[ReviewItem]:
    """The wave's review queue for the actor's firm, with the latest outcome of each item."""
    from survey.quality import flagged_ids
    reach = scope(actor, "recordings.review", firm)
    w = get_wave(store, wave)
    rows = [r for r in store.backcheck_candidates(wave, reach.firm) if r["mode"] in REVIEW_MODES]
    drawn = review_sample(((r["response_id"], r["interviewer"]) for r in rows), review_seed(w),
                          evidence_options(w).review_rate if rate is None else rate)
    flags = set(flagged_ids(store, wave) if flagged is None else flagged)
    latest = store.latest_reviews(wave, reach.firm)
    counts: dict[str, int] = {}
    for rec in store.recordings(wave, firm=reach.firm, kind="audio"):
        if rec["response_id"]:
            counts[rec["response_id"]] = counts.get(rec["response_id"], 0) + 1
    out = []
    for r in rows:
        rid = r["response_id"]
        if rid not in drawn and rid not in flags:
            continue
        last = latest.get(rid, {})
        out.append(ReviewItem(rid, r["interviewer"], r["unit"], r["mode"], r["submitted_at"], rid in drawn,
                              rid in flags, r["excluded_reason"] is not None, counts.get(rid, 0),
                              last.get("outcome"), last.get("reason") or "", last.get("actor"), last.get("at")))
    return sorted(out, key=lambda i: (i.interviewer, i.submitted_at, i.response_id))


def record_review(store: Store, actor: Account, response_id: str, outcome: str, reason: str = "", *,
                  exclude: bool = False, exclusion_reason: str = "",
                  lang: str = i18n.DEFAULT_LANG) -> bool:
    """Record 合格 / 不合格 / 无录音 for a response; optionally exclude it (one transaction, audited).

    Returns False when it repeats the latest outcome and reason without an exclusion (nothing stored).
    """
    if outcome not in OUTCOMES:
        raise Invalid(_problem("outcome", lang, value=outcome), field="outcome", code="not_an_option")
    row = store.response(response_id)
    _reviewable(store, actor, row, f"response {response_id}")
    reason = reason.strip()
    if outcome == "fail" and not reason:
        raise Invalid(_problem("fail_reason", lang), field="reason", code="required")
    if len(reason) > 500 or len(exclusion_reason) > 500:
        raise Invalid(_problem("reason_long", lang), field="reason", code="too_long")
    why = None
    if exclude:
        if not allowed(actor, "responses.exclude", row):
            raise Forbidden(f"{actor.username} may not exclude response {response_id}", code="forbidden_action")
        why = (exclusion_reason or reason).strip()
        if not why:
            raise Invalid(_problem("exclude_reason", lang), field="exclusion_reason", code="required")
        why = i18n.t("evidence.exclusion_prefix", lang, reason=why)
    return store.add_review(response_id, outcome, reason, actor.username, why)


def review_history(store: Store, actor: Account, response_id: str) -> list[dict[str, Any]]:
    row = store.response(response_id)
    _reviewable(store, actor, row, f"response {response_id}")
    return store.review_history(response_id)


@dataclass(frozen=True)
class PollsterReview:
    interviewer: str
    completes: int       # phone and door completes
    queued: int          # items in the queue
    reviewed: int
    passed: int
    failed: int
    no_recording: int

    @property
    def reviewed_share(self) -> float | None:
        """Share of the pollster's completes reviewed (the achieved 复核率)."""
        return self.reviewed / self.completes if self.completes else None

    @property
    def pass_rate(self) -> float | None:
        """合格 among the reviews that heard a recording (None before any)."""
        heard = self.passed + self.failed
        return self.passed / heard if heard else None


def review_rates(store: Store, actor: Account, wave: str, *, firm: str | None = None,
                 items: list[ReviewItem] | None = None) -> list[PollsterReview]:
    """Per pollster: completes, queued, reviewed, 合格 / 不合格 / 无录音 (for the supervisor dashboard)."""
    reach = scope(actor, "recordings.review", firm)
    rows = [r for r in store.backcheck_candidates(wave, reach.firm) if r["mode"] in REVIEW_MODES]
    items = review_queue(store, actor, wave, firm=firm) if items is None else items
    latest = store.latest_reviews(wave, reach.firm)
    completes: dict[str, int] = {}
    for r in rows:
        completes[r["interviewer"]] = completes.get(r["interviewer"], 0) + 1
    owner = {r["response_id"]: r["interviewer"] for r in rows}
    tally: dict[str, dict[str, int]] = {p: {"queued": 0, "pass": 0, "fail": 0, "none": 0} for p in completes}
    for item in items:
        tally.setdefault(item.interviewer, {"queued": 0, "pass": 0, "fail": 0, "none": 0})["queued"] += 1
    for rid, rev in latest.items():
        if rid in owner:
            tally[owner[rid]][rev["outcome"]] += 1
    return [PollsterReview(p, completes.get(p, 0), v["queued"], v["pass"] + v["fail"] + v["none"], v["pass"],
                           v["fail"], v["none"]) for p, v in sorted(tally.items())]
