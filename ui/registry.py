"""Which pages exist and which roles see them: one table for navigation and tests."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    path: str           # file under pages/
    title_key: str      # catalog key of the title
    icon: str
    roles: tuple[str, ...]
    url_path: str
    section: str = "nav.section_work"


PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/phone_interview.py", "nav.interview", ":material/call:", ("pollster", "supervisor"), "interview"),
    PageSpec("pages/overview.py", "nav.overview", ":material/bar_chart:", ("analyst", "supervisor", "admin"), "overview"),
    PageSpec("pages/analysis.py", "nav.analysis", ":material/query_stats:", ("analyst", "admin"), "analysis"),
    PageSpec("pages/review.py", "quality.nav_review", ":material/fact_check:", ("supervisor", "analyst", "admin"), "review"),
    PageSpec("pages/data_import_export.py", "quality.nav_data", ":material/swap_vert:", ("analyst", "admin"), "data"),
    PageSpec("pages/admin_accounts.py", "nav.accounts", ":material/manage_accounts:", ("admin",), "accounts", "nav.section_admin"),
)


def pages_for(role: str | None) -> list[PageSpec]:
    if role is None:
        return []
    return [p for p in PAGES if role in p.roles]
