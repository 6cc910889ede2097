"""Fieldwork cases (sealed contacts) and contact attempts."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from survey.storage.engine import (Database, IntegrityError, StoreError, audit, decoded, from_json, now,
                                   placeholders, to_json, where)


class CasesStore(Database):
    CASE_FIELDS = ("wave", "case_id", "unit", "mode", "contact_kind", "contact_enc", "contact_hash", "contact_mask",
                   "strata", "firm")
    ATTEMPT_FIELDS = ("attempt_key", "wave", "case_id", "unit", "mode", "interviewer", "firm", "attempted_at",
                      "disposition", "label", "callback_at", "response_id", "note", "source")

    def add_cases(self, cases: list[dict[str, Any]], actor: str) -> int:
        """Store new cases of a sample in one transaction; a case id already stored is left as it is."""
        cols = ", ".join(self.CASE_FIELDS)
        marks = ", ".join("?" for _ in self.CASE_FIELDS)
        added = 0
        with self.tx() as db:
            stamp = now()
            for case in cases:
                values = {**case, "strata": to_json(case.get("strata") or {})}
                cur = db.execute(f"INSERT INTO cases ({cols}, created_at) VALUES ({marks}, ?) ON CONFLICT DO NOTHING",
                                 [values.get(f) for f in self.CASE_FIELDS] + [stamp])
                added += cur.rowcount
            if added:
                audit(db, actor, "import", "cases", cases[0]["wave"], {"count": added})
        return added

    def cases(self, wave: str, *, pollster: str | None = None, firm: str | None = None,
              case_ids: Iterable[str] | None = None, unit: str | None = None) -> list[dict[str, Any]]:
        """Cases of a wave (one pollster's, one firm's, some ids, one unit), contact still sealed."""
        where, params = ["wave = ?"], [wave]
        for col, val in (("pollster", pollster), ("firm", firm), ("unit", unit)):
            if val is not None:
                where.append(f"{col} = ?")
                params.append(val)
        if case_ids is not None:
            ids = list(case_ids)
            where.append(f"case_id IN ({placeholders(ids)})")
            params.extend(ids)
        rows = self.query(f"SELECT * FROM cases WHERE {' AND '.join(where)} ORDER BY case_id", params)
        return [decoded(r, "strata") for r in rows]

    def contact_tokens(self, limit: int | None = None) -> list[str]:
        """The sealed contact values of every wave (the first `limit`): what a key is checked against."""
        sql = "SELECT contact_enc FROM cases WHERE contact_enc IS NOT NULL AND contact_enc != '' ORDER BY wave, case_id"
        if limit is not None:
            return [r[0] for r in self.db.execute(sql + " LIMIT ?", [limit]).fetchall()]
        return [r[0] for r in self.db.execute(sql).fetchall()]

    def count_cases(self) -> int:
        """Cases of every wave."""
        return self.db.scalar("SELECT count(*) FROM cases")

    def call_queue(self, wave: str, pollster: str, *, mode: str | None = None,
                   not_unit: str | None = None) -> tuple[list[str], list[tuple[str, str, str, str | None]]]:
        """What scheduling needs of a pollster's cases, as plain tuples (next_case on 1,000 cases):
        their ids, and their attempts (case_id, attempted_at, disposition, callback_at) in the order made."""
        cond, params = ["c.wave = ?", "c.pollster = ?"], [wave, pollster]
        if mode is not None:
            cond.append("c.mode = ?")
            params.append(mode)
        if not_unit is not None:
            cond.append("c.unit <> ?")
            params.append(not_unit)
        where = " AND ".join(cond)
        ids = [r[0] for r in self.db.execute(f"SELECT c.case_id FROM cases c WHERE {where} ORDER BY c.case_id",
                                             params).fetchall()]
        # cases first (CROSS JOIN keeps SQLite from scanning the whole wave's attempts)
        rows = self.db.execute(f"""SELECT a.case_id, a.attempted_at, a.disposition, a.callback_at
                                   FROM cases c CROSS JOIN attempts a
                                   WHERE a.wave = c.wave AND a.case_id = c.case_id AND {where}
                                   ORDER BY a.attempted_at, a.id""", params).fetchall()
        return ids, [tuple(r) for r in rows]

    def case_waves(self, case_id: str) -> list[str]:
        return [r["wave"] for r in self.query("SELECT wave FROM cases WHERE case_id = ? ORDER BY wave", [case_id])]

    def claim_case(self, wave: str, pollster: str, firm: str | None, actor: str, *,
                   mode: str | None = None, not_unit: str | None = None) -> str | None:
        """Hand the first unassigned case of a wave (of one mode, not of `not_unit`) to a pollster;
        None when the pool is empty.

        Two pollsters asking at once never get the same case: SQLite serialises writers
        (BEGIN IMMEDIATE), PostgreSQL takes the row with `FOR UPDATE SKIP LOCKED`, so a
        second pollster skips a case being claimed instead of waiting for it.
        """
        cond = ("wave = ? AND pollster IS NULL" + (" AND mode = ?" if mode is not None else "")
                + (" AND unit <> ?" if not_unit is not None else ""))
        params = [wave] + ([mode] if mode is not None else []) + ([not_unit] if not_unit is not None else [])
        with self.tx() as db:
            lock = " FOR UPDATE SKIP LOCKED" if db.pg else ""
            row = db.execute(f"""UPDATE cases SET pollster = ?, firm = ?, assigned_at = ?
                                 WHERE wave = ? AND case_id = (SELECT case_id FROM cases WHERE {cond}
                                                               ORDER BY case_id LIMIT 1{lock})
                                 AND pollster IS NULL RETURNING case_id""",
                             [pollster, firm, now(), wave, *params]).fetchone()
            if row is None:
                return None
            audit(db, actor, "claim", "cases", wave, {"pollster": pollster, "case_id": row[0]})
            return row[0]

    def case_hashes(self, wave: str) -> dict[str, str]:
        """Keyed contact hash -> case id, for duplicate numbers within a wave."""
        return {r["contact_hash"]: r["case_id"]
                for r in self.query("SELECT contact_hash, case_id FROM cases WHERE wave = ?", [wave])}

    def assign_cases(self, wave: str, case_ids: list[str], pollster: str, firm: str | None, actor: str) -> int:
        """Give cases to a pollster (and the pollster's firm); returns how many changed hands."""
        changed = 0
        with self.tx() as db:
            stamp = now()
            for case_id in case_ids:
                cur = db.execute("UPDATE cases SET pollster = ?, firm = ?, assigned_at = ? WHERE wave = ? "
                                 "AND case_id = ? AND (pollster IS DISTINCT FROM ? OR firm IS DISTINCT FROM ?)",
                                 [pollster, firm, stamp, wave, case_id, pollster, firm])
                changed += cur.rowcount
            if changed:
                audit(db, actor, "assign", "cases", wave,
                            {"pollster": pollster, "count": changed, "case_ids": case_ids[:50]})
        return changed

    def add_attempts(self, attempts: list[dict[str, Any]], actor: str) -> int:
        """Store contact attempts in one transaction; an attempt key seen before stores nothing."""
        cols = ", ".join(self.ATTEMPT_FIELDS)
        marks = ", ".join("?" for _ in self.ATTEMPT_FIELDS)
        added = 0
        with self.tx() as db:
            stamp = now()
            added = db.executemany(f"INSERT INTO attempts ({cols}, created_at) VALUES ({marks}, ?) ON CONFLICT DO NOTHING",
                                      [[att.get(f) for f in self.ATTEMPT_FIELDS] + [stamp] for att in attempts])
            if added:
                one = added == 1 and len(attempts) == 1
                audit(db, actor, "attempt" if one else "import", "attempts",
                            f"{attempts[0]['wave']}/{attempts[0]['case_id']}" if one else attempts[0]["wave"],
                            {"disposition": attempts[0]["disposition"]} if one else {"count": added})
        return added

    def attempts(self, wave: str, *, interviewer: str | None = None, firm: str | None = None,
                 case_ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Attempts of a wave in the order they were made."""
        where, params = ["wave = ?"], [wave]
        for col, val in (("interviewer", interviewer), ("firm", firm)):
            if val is not None:
                where.append(f"{col} = ?")
                params.append(val)
        if case_ids is not None:
            ids = list(case_ids)
            where.append(f"case_id IN ({placeholders(ids)})")
            params.extend(ids)
        return self.query(f"SELECT * FROM attempts WHERE {' AND '.join(where)} ORDER BY attempted_at, id", params)

    def attempt_rows(self, wave: str, columns: Iterable[str], *, interviewer: str | None = None,
                     firm: str | None = None) -> list[tuple[Any, ...]]:
        """Attempts of a wave as plain tuples of `columns` (fast path for rate tables of 100,000s)."""
        cols = list(columns)
        bad = [c for c in cols if c not in self.ATTEMPT_FIELDS]
        if bad:
            raise StoreError(f"not an attempts column: {', '.join(bad)}")
        where, params = ["wave = ?"], [wave]
        for col, val in (("interviewer", interviewer), ("firm", firm)):
            if val is not None:
                where.append(f"{col} = ?")
                params.append(val)
        return self.db.execute(f"SELECT {', '.join(cols)} FROM attempts WHERE {' AND '.join(where)} "
                               "ORDER BY attempted_at, id", params).fetchall()

    def attempt_by_key(self, attempt_key: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM attempts WHERE attempt_key = ?", [attempt_key])
        return rows[0] if rows else None

    def log_contact_view(self, case_id: str, actor: str, detail: dict[str, Any]) -> None:
        """Audit one decryption of a case's contact (a back-check call)."""
        with self.tx() as db:
            audit(db, actor, "view_contact", "case", case_id, detail)

    def log_contact_export(self, wave: str, actor: str, count: int) -> None:
        """Audit a decryption of a wave's contacts (an export with contacts)."""
        with self.tx() as db:
            audit(db, actor, "export_contacts", "cases", wave, {"count": count})
