"""Interview drafts of phone and door interviews: one open draft per account, form and case."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from survey.storage.engine import (Database, IntegrityError, StoreError, audit, decoded, from_json, now,
                                   placeholders, to_json, where)


class DraftsStore(Database):
    # -- interview drafts (phone and door): one open draft per account, form and case ----------
    def interview_draft(self, draft_id: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM interview_drafts WHERE draft_id = ?", [draft_id])
        return decoded(rows[0], "answers", "paradata") if rows else None

    def open_interview_draft(self, account: str, form: str, case_id: str = "") -> dict[str, Any] | None:
        """The draft this account left open on this form (and case), if any."""
        rows = self.query("SELECT * FROM interview_drafts WHERE account = ? AND form = ? AND case_id = ? "
                          "AND status = 'open'", [account, form, case_id])
        return decoded(rows[0], "answers", "paradata") if rows else None

    def open_interview_drafts(self, account: str, form: str) -> list[dict[str, Any]]:
        """Every draft this account left open on this form (any case), latest first."""
        rows = self.query("SELECT * FROM interview_drafts WHERE account = ? AND form = ? AND status = 'open' "
                          "ORDER BY updated_at DESC", [account, form])
        return [decoded(r, "answers", "paradata") for r in rows]

    def start_interview_draft(self, draft: dict[str, Any]) -> dict[str, Any]:
        """Create an open draft unless one is open for the same account, form and case; return the open one."""
        with self.tx() as db:
            cur = db.execute(
                "INSERT INTO interview_drafts (draft_id, account, form, case_id, wave, unit, mode, answers, paradata, "
                "submit_key, status, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?) "
                "ON CONFLICT DO NOTHING",
                [draft["draft_id"], draft["account"], draft["form"], draft.get("case_id") or "", draft["wave"],
                 draft["unit"], draft["mode"], to_json(draft.get("answers") or {}),
                 to_json(draft.get("paradata") or {}), draft["submit_key"],
                 draft["started_at"], draft["started_at"]])
            if cur.rowcount:
                audit(db, draft["account"], "start", "interview_draft", draft["draft_id"],
                            {"form": draft["form"], "case_id": draft.get("case_id") or "", "wave": draft["wave"]})
        found = self.open_interview_draft(draft["account"], draft["form"], draft.get("case_id") or "")
        if found is None:
            raise StoreError(f"draft {draft['draft_id']} could not be opened")
        return found

    def save_interview_draft(self, draft_id: str, *, wave: str, unit: str, answers: dict[str, Any],
                             paradata: dict[str, Any]) -> bool:
        """Overwrite an open draft's answers (a step of the interview); False when it is closed or unchanged."""
        a = to_json(answers)
        p = to_json(paradata)
        with self.tx() as db:
            cur = db.execute("UPDATE interview_drafts SET wave = ?, unit = ?, answers = ?, paradata = ?, "
                             "updated_at = ?, saves = saves + 1 WHERE draft_id = ? AND status = 'open' "
                             "AND NOT (wave = ? AND unit = ? AND answers = ? AND paradata = ?)",
                             [wave, unit, a, p, now(), draft_id, wave, unit, a, p])
            return cur.rowcount > 0

    def close_interview_draft(self, draft_id: str, status: str, actor: str,
                              response_id: str | None = None, reason: str = "") -> bool:
        """Mark an open draft done (with its response) or abandoned; kept, never deleted."""
        if status not in ("done", "abandoned"):
            raise StoreError(f"a draft closes as done or abandoned, not {status}")
        with self.tx() as db:
            cur = db.execute("UPDATE interview_drafts SET status = ?, response_id = ?, updated_at = ? "
                             "WHERE draft_id = ? AND status = 'open'", [status, response_id, now(), draft_id])
            if cur.rowcount:
                audit(db, actor, status, "interview_draft", draft_id,
                            {"response_id": response_id, "reason": reason})
            return cur.rowcount > 0
