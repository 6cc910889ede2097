"""Login failures and login sessions: the shared state of every app server, in the database.

Failed logins are counted per scope (a client address, an account from one address, an
account from anywhere, everything) in fixed windows with one atomic upsert each, so
two servers counting at once never lose a failure. A login session is a row keyed by a
random id (kept in the server's session state) and by the hash of the browser's cookie
token; the token itself is never stored.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from survey.storage.engine import Database, placeholders


class LoginsStore(Database):
    # -- failed-login throttle -----------------------------------------------------
    def login_failures(self, scopes: Iterable[str], since: str) -> dict[str, dict[str, Any]]:
        """Failures per scope in windows that started after `since` (scopes without any are left out)."""
        scopes = list(scopes)
        rows = self.query(f"SELECT scope, failures, window_start FROM login_throttle WHERE scope IN "
                          f"({placeholders(scopes)}) AND window_start > ?", [*scopes, since])
        return {r["scope"]: r for r in rows}

    def count_login_failure(self, limits: Mapping[str, int], at: str, since: str) -> dict[str, dict[str, Any]]:
        """Count one failure in each scope, atomically; returns each scope's count and window start.

        A window older than `since` starts again at `at`; a count that reaches its limit also
        restarts the window at `at`, so a lockout lasts one whole window from that failure.
        """
        out: dict[str, dict[str, Any]] = {}
        with self.tx() as db:
            for scope, limit in limits.items():
                row = db.execute(
                    """INSERT INTO login_throttle (scope, window_start, failures) VALUES (?, ?, 1)
                       ON CONFLICT (scope) DO UPDATE SET
                         failures = CASE WHEN login_throttle.window_start <= ? THEN 1
                                         ELSE login_throttle.failures + 1 END,
                         window_start = CASE WHEN login_throttle.window_start <= ? THEN excluded.window_start
                                             WHEN login_throttle.failures + 1 = ? THEN excluded.window_start
                                             ELSE login_throttle.window_start END
                       RETURNING failures, window_start""", [scope, at, since, since, limit]).fetchone()
                out[scope] = {"scope": scope, "failures": int(row[0]), "window_start": row[1]}
        return out

    def clear_login_failures(self, scopes: Iterable[str] = (), prefix: str | None = None) -> None:
        """Forget failures of scopes (a successful login, an admin's reset) or of every scope with a prefix."""
        scopes = list(scopes)
        with self.tx() as db:
            if scopes:
                db.execute(f"DELETE FROM login_throttle WHERE scope IN ({placeholders(scopes)})", scopes)
            if prefix:
                db.execute("DELETE FROM login_throttle WHERE substr(scope, 1, ?) = ?", [len(prefix), prefix])

    # -- login sessions ------------------------------------------------------------
    def add_login_session(self, session_id: str, username: str, handoff_hash: str, handoff_expires: str,
                          at: str, expires_at: str) -> None:
        with self.tx() as db:
            db.execute("INSERT INTO login_sessions (id, username, handoff_hash, handoff_expires, created_at, "
                       "last_seen, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [session_id, username, handoff_hash, handoff_expires, at, at, expires_at])

    def redeem_login_handoff(self, handoff_hash: str, token_hash: str, at: str) -> str | None:
        """Bind a cookie token to the session of a one-time handoff code; None if used, expired or unknown."""
        row = self.db.execute(
            "UPDATE login_sessions SET token_hash = ?, handoff_hash = NULL WHERE handoff_hash = ? "
            "AND handoff_expires > ? AND token_hash IS NULL AND revoked_at IS NULL AND expires_at > ? "
            "RETURNING id", [token_hash, handoff_hash, at, at]).fetchone()
        return row[0] if row else None

    def login_session(self, session_id: str | None = None, token_hash: str | None = None) -> dict[str, Any] | None:
        col, value = ("id", session_id) if session_id is not None else ("token_hash", token_hash)
        rows = self.query(f"SELECT * FROM login_sessions WHERE {col} = ?", [value])
        return rows[0] if rows else None

    def touch_login_session(self, session_id: str, at: str) -> None:
        self.db.execute("UPDATE login_sessions SET last_seen = ? WHERE id = ? AND revoked_at IS NULL",
                        [at, session_id])

    def revoke_login_sessions(self, at: str, reason: str, session_id: str | None = None,
                              username: str | None = None) -> int:
        """End one session, or every open session of an account (password reset, deactivation)."""
        col, value = ("id", session_id) if session_id is not None else ("username", username)
        return self.db.execute(f"UPDATE login_sessions SET revoked_at = ?, revoked_reason = ? WHERE {col} = ? "
                               "AND revoked_at IS NULL", [at, reason, value]).rowcount
