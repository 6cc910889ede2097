"""Which pages exist and which roles see them: one table for navigation and tests."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    path: str           # file under app_pages/ (not pages/: see streamlit_app.py)
    title_key: str      # catalog key of the title
    icon: str
    roles: tuple[str, ...]
    url_path: str
    section: str = "nav.section_work"
    home_for: tuple[str, ...] = ()  # roles that land here after login (else the first page of the menu)


PAGES: tuple[PageSpec, ...] = (
    PageSpec("app_pages/phone_interview.py", "nav.interview", ":material/call:", ("pollster", "supervisor"), "interview"),
    PageSpec("app_pages/door_interview.py", "interview.nav_door", ":material/home_work:", ("pollster", "supervisor"), "door"),
    PageSpec("app_pages/paper_entry.py", "supervision.nav_paper", ":material/edit_note:", ("pollster", "supervisor"), "paper"),
    PageSpec("app_pages/supervisor_progress.py", "supervision.nav_progress", ":material/monitoring:", ("supervisor", "admin"), "supervision",
             home_for=("supervisor",)),
    PageSpec("app_pages/overview.py", "nav.overview", ":material/bar_chart:", ("analyst", "supervisor", "admin"), "overview"),
    PageSpec("app_pages/analysis.py", "nav.analysis", ":material/query_stats:", ("analyst", "admin"), "analysis"),
    PageSpec("app_pages/review.py", "quality.nav_review", ":material/fact_check:", ("supervisor", "analyst", "admin"), "review"),
    PageSpec("app_pages/data_import_export.py", "quality.nav_data", ":material/swap_vert:", ("analyst", "admin"), "data"),
    PageSpec("app_pages/appeals.py", "appeals.nav", ":material/gavel:", ("liaison", "analyst", "admin"), "appeals",
             home_for=("liaison",)),
    PageSpec("app_pages/admin_waves.py", "setup.nav.waves", ":material/event:", ("admin",), "waves", "nav.section_admin"),
    PageSpec("app_pages/admin_settings.py", "setup.nav.settings", ":material/tune:", ("admin",), "wave-settings",
             "nav.section_admin"),
    PageSpec("app_pages/admin_contacts.py", "setup.nav.contacts", ":material/contacts:", ("admin",), "contacts",
             "nav.section_admin"),
    PageSpec("app_pages/admin_population.py", "setup.nav.population", ":material/groups:", ("admin",), "population",
             "nav.section_admin"),
    PageSpec("app_pages/admin_scoring.py", "setup.nav.scoring", ":material/scoreboard:", ("admin",), "scoring",
             "nav.section_admin"),
    PageSpec("app_pages/admin_questionnaires.py", "setup.nav.questionnaires", ":material/quiz:", ("admin",),
             "questionnaires", "nav.section_admin"),
    PageSpec("app_pages/admin_accounts.py", "nav.accounts", ":material/manage_accounts:", ("admin",), "accounts", "nav.section_admin"),
    PageSpec("app_pages/admin_web.py", "web.nav_admin", ":material/qr_code_2:", ("admin",), "web-admin", "nav.section_admin"),
)

# Open to everyone, logged in or not, and never listed in the menu (residents arrive by link).
PUBLIC_PAGES: tuple[PageSpec, ...] = (
    PageSpec("app_pages/web_survey.py", "web.nav_survey", ":material/edit_note:", (), "survey"),
)


def pages_for(role: str | None) -> list[PageSpec]:
    if role is None:
        return []
    return [p for p in PAGES if role in p.roles]


def roles_for_page(page_file: str) -> tuple[str, ...]:
    """The roles that may open a page file (matched by file name); () for unknown files."""
    from pathlib import Path
    name = Path(page_file).name
    return next((p.roles for p in PAGES if Path(p.path).name == name), ())
