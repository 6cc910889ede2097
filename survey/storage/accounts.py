"""Accounts, login outcomes and wave assignments."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from survey.storage.engine import (Database, IntegrityError, StoreError, audit, decoded, from_json, now,
                                   placeholders, to_json, where)


class AccountsStore(Database):
    def add_account(self, username: str, role: str, password_hash: str, actor: str | None,
                    firm: str | None = None, display_name: str | None = None,
                    home_district: str | None = None, unit: str | None = None) -> None:
        with self.tx() as db:
            if db.execute("SELECT 1 FROM accounts WHERE username = ?", [username]).fetchone():
                raise StoreError(f"account `{username}` exists already")
            db.execute("INSERT INTO accounts (username, display_name, role, firm, password_hash, created_at, "
                       "home_district, unit) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [username, display_name, role, firm, password_hash, now(), home_district, unit])
            audit(db, actor, "create", "account", username,
                  {"role": role, "firm": firm, **({"home_district": home_district} if home_district else {}),
                   **({"unit": unit} if unit else {})})

    def account(self, username: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM accounts WHERE username = ?", [username])
        return rows[0] if rows else None

    def accounts(self) -> list[dict[str, Any]]:
        return self.query("SELECT username, display_name, role, firm, home_district, unit, active, locked_until, "
                          "created_at "
                          "FROM accounts ORDER BY role, username")

    def count_accounts(self) -> int:
        return self.db.execute("SELECT count(*) FROM accounts").fetchone()[0]

    def update_account(self, username: str, actor: str | None, audit_action: str | None = "update",
                       **fields: Any) -> None:
        allowed = {"password_hash", "failed_logins", "locked_until", "active", "firm", "role", "display_name",
                   "home_district", "unit"}
        bad = set(fields) - allowed
        if bad:
            raise StoreError(f"cannot change {', '.join(sorted(bad))} of an account")
        with self.tx() as db:
            sets = ", ".join(f"{k} = ?" for k in fields)
            cur = db.execute(f"UPDATE accounts SET {sets} WHERE username = ?", [*fields.values(), username])
            if cur.rowcount == 0:
                raise StoreError(f"no account `{username}`")
            if audit_action:
                shown = {k: v for k, v in fields.items() if k != "password_hash"}
                if "password_hash" in fields:
                    shown["password"] = "changed"
                audit(db, actor, audit_action, "account", username, shown)

    def record_login(self, username: str, ok: bool, failed_logins: int, locked_until: str | None,
                     detail: dict[str, Any] | None = None) -> None:
        """Store the outcome of a login attempt and its audit row together."""
        with self.tx() as db:
            db.execute("UPDATE accounts SET failed_logins = ?, locked_until = ? WHERE username = ?",
                       [failed_logins, locked_until, username])
            audit(db, username, "login" if ok else "login_failed", "account", username,
                  {**({"locked_until": locked_until} if locked_until else {}), **(detail or {})})

    def assign(self, username: str, wave: str, actor: str) -> None:
        with self.tx() as db:
            db.execute("INSERT INTO assignments VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", [username, wave, now(), actor])
            audit(db, actor, "assign", "account", username, {"wave": wave})

    def assigned_waves(self, username: str) -> list[str]:
        return [r["wave"] for r in self.query("SELECT wave FROM assignments WHERE username = ? ORDER BY wave",
                                              [username])]
