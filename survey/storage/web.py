"""The web survey: tokens, open links, web drafts, submissions and their abuse checks."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from survey.storage.engine import (Database, IntegrityError, StoreError, audit, decoded, from_json, now,
                                   placeholders, to_json, where)
from survey.storage.responses import ResponsesStore

_STARTS_LOCK = 714_002  # pg_advisory_xact_lock(key, hashtext(ip_hash)): "issue 14, open-link starts"


class WebStore(ResponsesStore):
    def web_salt(self) -> str:
        """The store's secret salt for IP hashes (made by the migration, never shown)."""
        return self.db.execute("SELECT value FROM web_secrets WHERE name = 'ip_salt'").fetchone()[0]

    def add_web_tokens(self, wave: str, unit: str, tokens: list[str], batch: str, actor: str) -> None:
        """Store a batch of invitation tokens (one response each; the token fixes the unit)."""
        stamp = now()
        with self.tx() as db:
            for token in tokens:
                db.execute("INSERT INTO web_tokens (token, wave, unit, batch, created_at, created_by) "
                           "VALUES (?, ?, ?, ?, ?, ?)", [token, wave, unit, batch, stamp, actor])
            audit(db, actor, "create_tokens", "wave", wave, {"unit": unit, "batch": batch, "count": len(tokens)})

    def web_token(self, token: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM web_tokens WHERE token = ?", [token])
        return rows[0] if rows else None

    def web_tokens(self, wave: str, unit: str | None = None, batch: str | None = None) -> list[dict[str, Any]]:
        sql, params = "SELECT * FROM web_tokens WHERE wave = ?", [wave]
        for col, val in (("unit", unit), ("batch", batch)):
            if val is not None:
                sql += f" AND {col} = ?"
                params.append(val)
        return self.query(sql + " ORDER BY created_at, batch, token", params)

    def web_token_batches(self, wave: str | None = None) -> list[dict[str, Any]]:
        """Token batches with how many were generated and used."""
        where = " WHERE wave = ?" if wave else ""
        return self.query("SELECT wave, unit, batch, min(created_at) AS created_at, count(*) AS tokens, "
                          "count(response_id) AS used FROM web_tokens" + where +
                          " GROUP BY wave, unit, batch ORDER BY created_at DESC, batch", [wave] if wave else [])

    def add_web_link(self, code: str, wave: str, unit: str, actor: str) -> None:
        with self.tx() as db:
            db.execute("INSERT INTO web_links (code, wave, unit, active, created_at, created_by) "
                       "VALUES (?, ?, ?, 1, ?, ?)", [code, wave, unit, now(), actor])
            audit(db, actor, "create", "web_link", code, {"wave": wave, "unit": unit})

    def set_web_link_active(self, code: str, active: bool, actor: str) -> None:
        with self.tx() as db:
            if not db.execute("SELECT 1 FROM web_links WHERE code = ?", [code]).fetchone():
                raise StoreError(f"no open link `{code}`")
            db.execute("UPDATE web_links SET active = ? WHERE code = ?", [int(active), code])
            audit(db, actor, "open" if active else "close", "web_link", code)

    def web_link(self, code: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM web_links WHERE code = ?", [code])
        return rows[0] if rows else None

    def web_links(self, wave: str | None = None) -> list[dict[str, Any]]:
        """Open links with the number of responses received through each."""
        where = " WHERE l.wave = ?" if wave else ""
        return self.query("SELECT l.*, (SELECT count(*) FROM web_submissions s WHERE s.link = l.code) AS responses "
                          "FROM web_links l" + where + " ORDER BY l.wave, l.unit, l.created_at", [wave] if wave else [])

    WEB_DRAFT_FIELDS = ("draft_id", "wave", "unit", "access", "token", "link", "device_id", "ip_hash",
                        "device_type", "user_agent", "lang", "answers", "step", "status", "started_at",
                        "updated_at", "resumes", "response_id")

    def web_draft(self, draft_id: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM web_drafts WHERE draft_id = ?", [draft_id])
        return decoded(rows[0], "answers") if rows else None

    def start_web_draft(self, draft: dict[str, Any], *, starts_limit: tuple[int, str] | None = None) -> bool | None:
        """Create a draft unless one with this id exists (two tabs opened at once); True if created.

        With `starts_limit` (n, since) the draft is refused (None) when its IP hash already
        started n drafts since then. Count and insert are one transaction under a lock on
        that IP hash (SQLite: the write lock of BEGIN IMMEDIATE; PostgreSQL: an advisory
        lock), so residents arriving at two app servers at once never pass the limit.
        """
        values = {**draft, "answers": to_json(draft.get("answers") or {})}
        cols = [f for f in self.WEB_DRAFT_FIELDS if f in values]
        with self.tx() as db:
            if starts_limit is not None:
                if db.pg:
                    db.execute("SELECT pg_advisory_xact_lock(?, hashtext(?))", [_STARTS_LOCK, draft["ip_hash"]])
                n, since = starts_limit
                if db.execute("SELECT count(*) FROM web_drafts WHERE ip_hash = ? AND started_at >= ?",
                              [draft["ip_hash"], since]).fetchone()[0] >= n:
                    return None
            cur = db.execute(f"INSERT INTO web_drafts ({', '.join(cols)}) VALUES "
                             f"({', '.join('?' for _ in cols)}) ON CONFLICT DO NOTHING", [values[c] for c in cols])
            created = cur.rowcount == 1
            if created:
                audit(db, "resident", "start", "web_draft", draft["draft_id"],
                            {"wave": draft["wave"], "unit": draft["unit"], "access": draft["access"]})
        return created

    def update_web_draft(self, draft_id: str, **fields: Any) -> None:
        """Save progress (answers, step, status, resumes); not audited: it is the resident's own draft."""
        allowed = {"answers", "step", "status", "resumes", "lang", "updated_at", "device_id"}
        bad = set(fields) - allowed
        if bad:
            raise StoreError(f"cannot change {', '.join(sorted(bad))} of a web draft")
        values = {k: to_json(v) if k == "answers" else v
                  for k, v in fields.items()}
        values.setdefault("updated_at", now())
        with self.tx() as db:
            db.execute(f"UPDATE web_drafts SET {', '.join(f'{k} = ?' for k in values)} "
                       "WHERE draft_id = ? AND response_id IS NULL", [*values.values(), draft_id])

    def count_web_starts(self, ip_hash: str, since: str) -> int:
        """Drafts started from one IP hash since a time (the open-link rate limit)."""
        return self.db.execute("SELECT count(*) FROM web_drafts WHERE ip_hash = ? AND started_at >= ?",
                               [ip_hash, since]).fetchone()[0]

    def count_web_submissions(self, *, wave: str, ip_hash: str | None = None, device_id: str | None = None,
                              since: str | None = None) -> int:
        sql, params = "SELECT count(*) FROM web_submissions WHERE wave = ?", [wave]
        for col, val in (("ip_hash", ip_hash), ("device_id", device_id)):
            if val is not None:
                sql += f" AND {col} = ?"
                params.append(val)
        if since is not None:
            sql += " AND submitted_at >= ?"
            params.append(since)
        return self.db.execute(sql, params).fetchone()[0]

    def submit_web(self, record: dict[str, Any], submission: dict[str, Any]) -> tuple[str, bool]:
        """Store a web response, use its token and record its abuse checks in one transaction.

        A repeated submit key (double click, resent request) stores nothing new. A token
        already used by another response is refused.
        """
        with self.tx() as db:
            token = submission.get("token")
            if token is not None:
                row = db.execute("SELECT response_id FROM web_tokens WHERE token = ?", [token]).fetchone()
                if row is None:
                    raise StoreError(f"no invitation token `{token}`")
                if row[0] is not None and row[0] != record["response_id"]:
                    raise StoreError(f"invitation token `{token}` has been used already")
            [(rid, created)] = self.insert_responses([record], "resident")
            if created:
                db.execute("INSERT INTO web_submissions (response_id, wave, unit, access, token, link, device_id, "
                           "ip_hash, flags, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           [rid, record["wave"], record["unit"], submission["access"], token,
                            submission.get("link"), submission.get("device_id"), submission.get("ip_hash"),
                            to_json(submission.get("flags") or []), record["submitted_at"]])
                if token is not None:
                    db.execute("UPDATE web_tokens SET response_id = ?, used_at = ? WHERE token = ?",
                               [rid, record["submitted_at"], token])
                if submission.get("draft_id"):
                    db.execute("UPDATE web_drafts SET response_id = ?, status = 'submitted', updated_at = ? "
                               "WHERE draft_id = ?", [rid, record["submitted_at"], submission["draft_id"]])
        return rid, created

    def web_submissions(self, wave: str, flagged_only: bool = False) -> list[dict[str, Any]]:
        """Web responses with access path, device, IP hash and abuse flags (QC reads these)."""
        rows = self.query("SELECT * FROM web_submissions WHERE wave = ?" + (" AND flags != '[]'" if flagged_only else "")
                          + " ORDER BY submitted_at, response_id", [wave])
        return [decoded(r, "flags") for r in rows]

    def web_draft_counts(self, wave: str) -> list[dict[str, Any]]:
        """Drafts by unit and status (started, ineligible, submitted): the web survey's funnel."""
        return self.query("SELECT unit, status, count(*) AS n FROM web_drafts WHERE wave = ? "
                          "GROUP BY unit, status ORDER BY unit, status", [wave])
