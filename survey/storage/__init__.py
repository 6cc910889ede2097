"""The store: the only package that speaks SQL (SQLAlchemy Core over SQLite or PostgreSQL).

- `engine`: connections, transactions, the one JSON rule, the audit helper;
- `migrations`: the schema as one ordered list, valid on both engines;
- one module per domain: `waves`, `accounts`, `responses`, `cases`, `drafts`, `paper`,
  `web`, `qc`, `scores`, `recordings`; `store.Store` composes them; `copy` moves a store between engines.
"""
