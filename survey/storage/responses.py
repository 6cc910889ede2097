"""Responses, exclusions, edits and the counts built on them."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from survey.storage.chain import append
from survey.storage.engine import (Database, IntegrityError, StoreError, audit, decoded, from_json, now,
                                   placeholders, to_json, where)

# the responses excluded now: each response's latest exclusion event, when it says exclude
_CURRENT_EXCLUSIONS = """SELECT e.response_id, e.reason FROM exclusions e
    WHERE e.id = (SELECT max(id) FROM exclusions WHERE response_id = e.response_id) AND e.action = 'exclude'"""


class ResponsesStore(Database):
    RESPONSE_FIELDS = ("response_id", "submit_key", "wave", "questionnaire_id", "unit", "mode", "interviewer",
                       "firm", "case_id", "source", "started_at", "submitted_at", "duration_s", "answers",
                       "created_by", "paradata", "content_hash")

    def insert_responses(self, records: list[dict[str, Any]], actor: str | None) -> list[tuple[str, bool]]:
        """Store responses in one transaction; a submit key seen before stores nothing.

        Returns (response_id, created) per record: a repeated submit key answers with the
        response it stored the first time, so a double-clicked submit is harmless.
        """
        out: list[tuple[str, bool]] = []
        cols = ", ".join(self.RESPONSE_FIELDS)
        marks = ", ".join("?" for _ in self.RESPONSE_FIELDS)
        stamp = now()
        with self.tx() as db:
            for rec in records:
                values = {**rec, "answers": to_json(rec["answers"]),
                          "paradata": to_json(rec.get("paradata") or {})}
                try:
                    # a submit key seen before (double click, resent request, a racing replica) stores nothing
                    row = db.execute(f"INSERT INTO responses ({cols}, created_at) VALUES ({marks}, ?) "
                                     "ON CONFLICT (submit_key) DO NOTHING RETURNING response_id",
                                     [values.get(f) for f in self.RESPONSE_FIELDS] + [stamp]).fetchone()
                except IntegrityError as err:
                    raise StoreError(f"response `{rec['response_id']}` cannot be stored: {err}") from None
                if row is None:
                    first = db.scalar("SELECT response_id FROM responses WHERE submit_key = ?", [rec["submit_key"]])
                    out.append((first, False))
                else:
                    out.append((row[0], True))
            created = [rid for rid, new in out if new]
            if created:
                audit(db, actor, "submit", "response", created[0] if len(created) == 1 else None,
                            {"count": len(created)} if len(created) > 1 else {})
        return out

    def response(self, response_id: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM responses WHERE response_id = ?", [response_id])
        return decoded(rows[0], "answers", "paradata") if rows else None

    @staticmethod
    def _responses_sql(select: str, wave: str | None, interviewer: str | None, firm: str | None,
                       include_excluded: bool, ordered: bool = True) -> tuple[str, list[Any]]:
        """The responses query of one scope (wave, pollster, firm), excluded ones left out or not."""
        where, params = [], []
        for col, val in (("r.wave", wave), ("r.interviewer", interviewer), ("r.firm", firm)):
            if val is not None:
                where.append(f"{col} = ?")
                params.append(val)
        if not include_excluded:
            where.append("x.response_id IS NULL")
        sql = f"""SELECT {select} FROM responses r
                  LEFT JOIN ({_CURRENT_EXCLUSIONS}) x ON x.response_id = r.response_id"""
        if where:
            sql += " WHERE " + " AND ".join(where)
        return sql + (" ORDER BY r.submitted_at, r.response_id" if ordered else ""), params

    def responses(self, wave: str | None = None, *, interviewer: str | None = None, firm: str | None = None,
                  include_excluded: bool = False) -> list[dict[str, Any]]:
        """Responses with their current exclusion state (`excluded_reason`, None if included)."""
        sql, params = self._responses_sql("r.*, x.reason AS excluded_reason", wave, interviewer, firm,
                                          include_excluded)
        return [decoded(r, "answers", "paradata") for r in self.db.query(sql, params)]

    def response_table(self, wave: str, answer_keys: Iterable[str], *, interviewer: str | None = None,
                       firm: str | None = None, include_excluded: bool = False
                       ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Flat rows for analysis: paradata columns plus answers pulled out by SQLite's json_extract.

        Decoding 100,000 JSON documents in Python takes seconds; SQLite does it in C.
        """
        keys = list(answer_keys)
        for key in keys:
            if not key.replace("_", "").isalnum():
                raise StoreError(f"not an answer key: {key!r}")
        base = ["response_id", "wave", "unit", "mode", "interviewer", "submitted_at", "duration_s"]
        select = ", ".join([f"r.{c}" for c in base] + [self.db.json_value("r.answers", k) for k in keys]
                           + ["x.reason"])
        sql, params = self._responses_sql(select, wave, interviewer, firm, include_excluded, ordered=False)
        sql += " ORDER BY r.response_id"  # the same rows in the same order on every engine
        return [*base, *keys, "excluded_reason"], self.db.execute(sql, params).fetchall()

    def count_responses(self, wave: str | None = None) -> int:
        if wave is None:
            return self.db.execute("SELECT count(*) FROM responses").fetchone()[0]
        return self.db.execute("SELECT count(*) FROM responses WHERE wave = ?", [wave]).fetchone()[0]

    def edit_response(self, response_id: str, answers: dict[str, Any], actor: str, reason: str) -> None:
        """Change answers; the audit row keeps the old and new values."""
        with self.tx() as db:
            row = db.execute("SELECT answers FROM responses WHERE response_id = ?", [response_id]).fetchone()
            if row is None:
                raise StoreError(f"no response `{response_id}`")
            old = from_json(row[0])
            changed = {k: {"old": old.get(k), "new": v} for k, v in answers.items() if old.get(k) != v}
            if not changed:
                return
            db.execute("UPDATE responses SET answers = ? WHERE response_id = ?",
                       [to_json({**old, **answers}), response_id])
            audit(db, actor, "edit", "response", response_id, {"reason": reason, "changes": changed})

    def set_exclusion(self, response_id: str, exclude: bool, reason: str, actor: str) -> bool:
        """Exclude or restore a response; returns False when it was already in that state."""
        with self.tx() as db:
            if not db.execute("SELECT 1 FROM responses WHERE response_id = ?", [response_id]).fetchone():
                raise StoreError(f"no response `{response_id}`")
            row = db.execute("SELECT action FROM exclusions WHERE response_id = ? ORDER BY id DESC LIMIT 1",
                             [response_id]).fetchone()
            currently = row is not None and row[0] == "exclude"
            if currently == exclude:
                return False
            action = "exclude" if exclude else "restore"
            append(db, "exclusions", {"response_id": response_id, "action": action, "reason": reason,
                                      "actor": actor, "at": now()})
            audit(db, actor, action, "response", response_id, {"reason": reason})
        return True

    def current_exclusions(self, wave: str) -> list[dict[str, Any]]:
        """Responses of a wave excluded now, with the reason, who and when."""
        return self.query(f"""SELECT e.response_id, e.reason, e.actor, e.at FROM exclusions e
            JOIN responses r ON r.response_id = e.response_id
            WHERE r.wave = ? AND e.id = (SELECT max(id) FROM exclusions WHERE response_id = e.response_id)
              AND e.action = 'exclude' ORDER BY e.response_id""", [wave])

    def exclusions(self, wave: str | None = None) -> list[dict[str, Any]]:
        """Every exclusion and restore event (the history, newest first)."""
        sql = ("SELECT e.* FROM exclusions e JOIN responses r ON r.response_id = e.response_id"
               + (" WHERE r.wave = ?" if wave else "") + " ORDER BY e.id DESC")
        return self.query(sql, [wave] if wave else [])

    def counts_by(self, wave: str, *columns: str) -> list[dict[str, Any]]:
        """Included responses counted by columns of the responses table (e.g. unit, mode)."""
        allowed = {"unit", "mode", "interviewer", "firm", "source"}
        if not columns or set(columns) - allowed:
            raise StoreError(f"can count by {', '.join(sorted(allowed))} only")
        cols = ", ".join(f"r.{c}" for c in columns)
        return self.query(f"""SELECT {cols}, count(*) AS n FROM responses r
                              LEFT JOIN ({_CURRENT_EXCLUSIONS}) x ON x.response_id = r.response_id
                              WHERE r.wave = ? AND x.response_id IS NULL GROUP BY {cols} ORDER BY {cols}""",
                          [wave])


    def count_quota_cell(self, wave: str, unit: str, sex: str | None = None, age_group: str | None = None) -> int:
        """Included responses of a wave and unit (and sex / age group when given): a quota cell's fill."""
        where, params = ["r.wave = ?", "r.unit = ?", "x.response_id IS NULL"], [wave, unit]
        for key, val in (("sex", sex), ("age_group", age_group)):
            if val is not None:
                where.append(f"{self.db.json_text('r.answers', key)} = ?")
                params.append(val)
        return self.db.execute(f"""SELECT count(*) FROM responses r
                                   LEFT JOIN ({_CURRENT_EXCLUSIONS}) x ON x.response_id = r.response_id
                                   WHERE {' AND '.join(where)}""", params).fetchone()[0]


    def progress_counts(self, wave: str, firm: str | None = None) -> list[dict[str, Any]]:
        """Included responses counted by unit, day, pollster and mode (one firm's, or all)."""
        where, params = ["r.wave = ?", "x.response_id IS NULL"], [wave]
        if firm is not None:
            where.append("r.firm = ?")
            params.append(firm)
        return self.query(f"""SELECT r.unit, substr(r.submitted_at, 1, 10) AS day, r.interviewer, r.mode,
                                     count(*) AS n FROM responses r
                              LEFT JOIN ({_CURRENT_EXCLUSIONS}) x ON x.response_id = r.response_id
                              WHERE {' AND '.join(where)} GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4""", params)


    def responses_by_ids(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Stored responses among `ids` (what an import compares a file's rows with)."""
        ids = list(dict.fromkeys(ids))
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            for row in self.db.query(
                    f"SELECT response_id, submit_key, wave, unit, mode, interviewer, answers, content_hash, source, "
                    f"created_at FROM responses WHERE response_id IN ({marks})", chunk):
                out[row["response_id"]] = {**row, "answers": from_json(row["answers"])}
        return out

    def import_responses(self, records: list[dict[str, Any]], actor: str | None, wave: str,
                         detail: dict[str, Any]) -> list[tuple[str, bool]]:
        """A bulk import: every record and one `import` audit row in one transaction."""
        with self.tx() as db:
            out = self.insert_responses(records, actor)
            created = sum(new for _, new in out)
            audit(db, actor, "import", "wave", wave, {**detail, "created": created})
        return out
