"""Accounts, login outcomes and wave assignments."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from survey.storage.engine import (Database, IntegrityError, StoreError, audit, decoded, from_json, now,
                                   placeholders, to_json, where)


class AccountsStore(Database):
    def add_account(self, username: str, role: str, password_hash: str, actor: str | None,
                    firm: str | None = None, display_name: str | None = None) -> None:
        with self.tx() as db:
            if db.execute("SELECT 1 FROM accounts WHERE username = ?", [username]).fetchone():
                raise StoreError(f"account `{username}` exists already")
            db.execute("INSERT INTO accounts (username, display_name, role, firm, password_hash, created_at) "
                       "VALUES (?, ?, ?, ?, ?, ?)", [username, display_name, role, firm, password_hash, now()])
            audit(db, actor, "create", "account", username, {"role": role, "firm": firm})

    def account(self, username: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM accounts WHERE username = ?", [username])
        return rows[0] if rows else None

    def accounts(self) -> list[dict[str, Any]]:
        return self.query("SELECT username, display_name, role, firm, active, locked_until, created_at "
                          "FROM accounts ORDER BY role, username")

    def count_accounts(self) -> int:
        return self.db.execute("SELECT count(*) FROM accounts").fetchone()[0]

    def update_account(self, username: str, actor: str | None, audit_action: str | None = "update",
                       **fields: Any) -> None:
        allowed = {"password_hash", "failed_logins", "locked_until", "active", "firm", "role", "display_name"}
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

    def record_login(self, username: str) -> None:
        """A successful login: the failure count starts again; stored with its audit row."""
        with self.tx() as db:
            db.execute("UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE username = ?", [username])
            audit(db, username, "login", "account", username, {})

    def record_failed_login(self, username: str, max_failed: int, lock_until: str) -> bool:
        """Count one wrong password; the `max_failed`-th in a row locks the account until `lock_until`.

        One UPDATE adds to the count the row holds at that moment (never a value read
        earlier), so failures arriving together on several app servers are all counted.
        Returns whether this failure locked the account (its count then starts again).
        """
        with self.tx() as db:
            row = db.execute(
                "UPDATE accounts SET "
                "failed_logins = CASE WHEN failed_logins + 1 >= ? THEN 0 ELSE failed_logins + 1 END, "
                "locked_until = CASE WHEN failed_logins + 1 >= ? THEN ? ELSE locked_until END "
                "WHERE username = ? RETURNING failed_logins",
                [max_failed, max_failed, lock_until, username]).fetchone()
            if row is None:
                raise StoreError(f"no account `{username}`")
            locked = row[0] == 0
            audit(db, username, "login_failed", "account", username, {"locked_until": lock_until} if locked else {})
        return locked

    def assign(self, username: str, wave: str, actor: str) -> None:
        with self.tx() as db:
            db.execute("INSERT INTO assignments VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", [username, wave, now(), actor])
            audit(db, actor, "assign", "account", username, {"wave": wave})

    def assigned_waves(self, username: str) -> list[str]:
        return [r["wave"] for r in self.query("SELECT wave FROM assignments WHERE username = ? ORDER BY wave",
                                              [username])]
