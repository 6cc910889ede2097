"""Paper keying (double entry) and back-checks."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from survey.storage.engine import (Database, IntegrityError, StoreError, audit, decoded, from_json, now,
                                   placeholders, to_json, where)
from survey.storage.responses import ResponsesStore


class PaperStore(ResponsesStore):
    def paper_form(self, wave: str, paper_id: str) -> dict[str, Any] | None:
        """One paper questionnaire's keying state with its entries (entry 1 first)."""
        rows = self.query("SELECT * FROM paper_forms WHERE wave = ? AND paper_id = ?", [wave, paper_id])
        if not rows:
            return None
        form = rows[0]
        form["entries"] = [decoded(e, "answers") for e in self.query(
            "SELECT * FROM paper_entries WHERE wave = ? AND paper_id = ? ORDER BY entry_no", [wave, paper_id])]
        return form

    def paper_forms(self, wave: str, *, firm: str | None = None,
                    status: str | None = None) -> list[dict[str, Any]]:
        """Paper questionnaires of a wave (one firm's, one status) with their entries."""
        where, params = ["f.wave = ?"], [wave]
        for col, val in (("f.firm", firm), ("f.status", status)):
            if val is not None:
                where.append(f"{col} = ?")
                params.append(val)
        forms = self.query(f"SELECT f.* FROM paper_forms f WHERE {' AND '.join(where)} ORDER BY f.paper_id", params)
        entries: dict[str, list[dict[str, Any]]] = {}
        for e in self.query(f"""SELECT e.* FROM paper_entries e JOIN paper_forms f
                                ON f.wave = e.wave AND f.paper_id = e.paper_id
                                WHERE {' AND '.join(where)} ORDER BY e.paper_id, e.entry_no""", params):
            entries.setdefault(e["paper_id"], []).append(decoded(e, "answers"))
        for form in forms:
            form["entries"] = entries.get(form["paper_id"], [])
        return forms

    def paper_entry_by_key(self, entry_key: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM paper_entries WHERE entry_key = ?", [entry_key])
        return decoded(rows[0], "answers") if rows else None

    def add_paper_entry(self, entry: dict[str, Any], *, firm: str | None, double_entry: bool, status: str,
                        response: dict[str, Any] | None, actor: str) -> tuple[str | None, bool]:
        """Store one keying of a paper form, move the form to `status`, store the response if given.

        All in one transaction. The form's state is re-checked inside it (a second entry
        only while the form awaits one), so two keyers racing for the same form cannot
        both succeed. Returns (response_id, created); a repeated entry key stores nothing.
        """
        with self.tx() as db:
            if db.execute("SELECT 1 FROM paper_entries WHERE entry_key = ?", [entry["entry_key"]]).fetchone():
                row = db.execute("SELECT response_id FROM paper_forms WHERE wave = ? AND paper_id = ?",
                                 [entry["wave"], entry["paper_id"]]).fetchone()
                return (row[0] if row else None), False
            stamp = now()
            key = [entry["wave"], entry["paper_id"]]
            if entry["entry_no"] == 1:
                try:
                    db.execute("INSERT INTO paper_forms (wave, paper_id, firm, double_entry, status, created_at, "
                               "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                               [*key, firm, int(double_entry), status, stamp, stamp])
                except IntegrityError:
                    raise StoreError(f"paper questionnaire {entry['paper_id']} was keyed already") from None
            else:
                cur = db.execute("UPDATE paper_forms SET status = ?, updated_at = ? WHERE wave = ? AND paper_id = ? "
                                 "AND status = 'awaiting_second'", [status, stamp, *key])
                if cur.rowcount != 1:
                    raise StoreError(f"paper questionnaire {entry['paper_id']} does not await a second entry")
            db.execute("INSERT INTO paper_entries (wave, paper_id, entry_no, entry_key, keyer, unit, interviewer, "
                       "answers, started_at, keyed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [*key, entry["entry_no"], entry["entry_key"], entry["keyer"], entry["unit"],
                        entry.get("interviewer"), to_json(entry["answers"]),
                        entry.get("started_at"), stamp])
            response_id, created = None, False
            if response is not None:
                [(response_id, created)] = self.insert_responses([response], actor)
                db.execute("UPDATE paper_forms SET response_id = ? WHERE wave = ? AND paper_id = ?",
                           [response_id, *key])
            audit(db, actor, "key", "paper", f"{entry['wave']}/{entry['paper_id']}",
                        {"entry_no": entry["entry_no"], "status": status, "response_id": response_id})
        return response_id, created

    def resolve_paper_form(self, wave: str, paper_id: str, response: dict[str, Any], actor: str,
                           choices: dict[str, Any]) -> tuple[str, bool]:
        """Store the response of a mismatched form as resolved by a supervisor (once)."""
        with self.tx() as db:
            cur = db.execute("UPDATE paper_forms SET status = 'stored', resolved_by = ?, updated_at = ? "
                             "WHERE wave = ? AND paper_id = ? AND status = 'mismatch'",
                             [actor, now(), wave, paper_id])
            if cur.rowcount != 1:
                row = db.execute("SELECT response_id FROM paper_forms WHERE wave = ? AND paper_id = ?",
                                 [wave, paper_id]).fetchone()
                if row is None or row[0] is None:
                    raise StoreError(f"paper questionnaire {paper_id} has no mismatch to resolve")
                return row[0], False
            [(response_id, created)] = self.insert_responses([response], actor)
            db.execute("UPDATE paper_forms SET response_id = ? WHERE wave = ? AND paper_id = ?",
                       [response_id, wave, paper_id])
            audit(db, actor, "resolve", "paper", f"{wave}/{paper_id}",
                        {"choices": choices, "response_id": response_id})
        return response_id, created

    def backcheck_candidates(self, wave: str, firm: str | None) -> list[dict[str, Any]]:
        """Every pollster's completes of a wave (excluded ones too: an exclusion must not reshuffle the list)."""
        sql, params = self._responses_sql("r.response_id, r.interviewer, r.firm, r.unit, r.mode, r.submitted_at, "
                                          "x.reason AS excluded_reason", wave, None, firm, include_excluded=True,
                                          ordered=False)
        return [row for row in self.db.query(sql, params) if row["interviewer"]]

    def add_backcheck(self, response_id: str, outcome: str, note: str, actor: str) -> bool:
        """Record a back-check outcome; the same outcome and note as the latest one stores nothing."""
        with self.tx() as db:
            if not db.execute("SELECT 1 FROM responses WHERE response_id = ?", [response_id]).fetchone():
                raise StoreError(f"no response `{response_id}`")
            last = db.execute("SELECT outcome, note FROM backchecks WHERE response_id = ? ORDER BY id DESC LIMIT 1",
                              [response_id]).fetchone()
            if last is not None and tuple(last) == (outcome, note):
                return False
            db.execute("INSERT INTO backchecks (response_id, outcome, note, actor, at) VALUES (?, ?, ?, ?, ?)",
                       [response_id, outcome, note, actor, now()])
            audit(db, actor, "backcheck", "response", response_id, {"outcome": outcome, "note": note})
        return True

    def latest_backchecks(self, wave: str, firm: str | None = None) -> dict[str, dict[str, Any]]:
        """The latest back-check outcome of each response of a wave (one firm's), by response id."""
        # CROSS JOIN keeps back-checks as the outer loop: there are few of them, and many responses
        # (PostgreSQL plans the join itself and takes no CROSS JOIN ... ON)
        join = "JOIN" if self.db.pg else "CROSS JOIN"
        sql = f"""SELECT b.* FROM backchecks b {join} responses r ON r.response_id = b.response_id
                 WHERE r.wave = ? AND b.id = (SELECT max(id) FROM backchecks WHERE response_id = b.response_id)"""
        params: list[Any] = [wave]
        if firm is not None:
            sql += " AND r.firm = ?"
            params.append(firm)
        return {r["response_id"]: r for r in self.query(sql, params)}

    def backcheck_history(self, response_id: str) -> list[dict[str, Any]]:
        return self.query("SELECT * FROM backchecks WHERE response_id = ? ORDER BY id", [response_id])
