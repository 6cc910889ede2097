"""Demo data: reproducible, skewed like a phone sample, districts that differ."""
from __future__ import annotations

from survey.demo import generate
from survey.config import XIAMEN_UNITS

WAVE = {"id": "2025", "units": list(XIAMEN_UNITS)}


def test_same_seed_same_data_and_another_seed_differs():
    assert generate(200, 7, WAVE) == generate(200, 7, WAVE)
    assert generate(200, 7, WAVE) != generate(200, 8, WAVE)


def test_sample_shape_is_realistic():
    rows = generate(3000, 1, WAVE)
    women = sum(r["answers"]["sex"] == "女" for r in rows) / len(rows)
    older = sum(r["answers"]["age_group"] == "60+" for r in rows) / len(rows)
    assert 0.54 < women < 0.62 and older > 0.25
    assert {r["mode"] for r in rows} == {"phone", "door", "paper", "web"}
    assert len({r["interviewer"] for r in rows if r["interviewer"]}) == 24
    assert all(r["interviewer"] is None for r in rows if r["mode"] == "web")

    def rate(unit):
        vals = [r["answers"]["overall"] for r in rows if r["unit"] == unit and r["answers"]["overall"] != 9]
        return sum(v >= 4 for v in vals) / len(vals)
    assert rate("思明区") - rate("翔安区") > 0.08  # districts differ


def test_demo_accounts_include_a_reviewer_of_the_demo_firm_who_can_review(store):
    """The 复核员 of the demo firm logs in with the demo password and works the firm's queue."""
    from survey.auth import load_account, login
    from survey.demo import DEMO_FIRM, ensure_demo_accounts, store_demo
    from survey.recordings import record_review, review_queue
    created = ensure_demo_accounts(store, "2025", "demo-2025")
    assert "reviewer" in created
    assert ensure_demo_accounts(store, "2025", "demo-2025") == []  # once
    reviewer = load_account(store, "reviewer")
    assert (reviewer.role, reviewer.firm) == ("reviewer", DEMO_FIRM)
    assert login(store, "reviewer", "demo-2025").username == "reviewer"
    store_demo(store, "2025", 60, 1)
    queue = review_queue(store, reviewer, "2025", flagged=[])
    assert queue and queue == review_queue(store, load_account(store, "supervisor"), "2025", flagged=[])
    assert record_review(store, reviewer, queue[0].response_id, "pass")
