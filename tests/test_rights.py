"""The rights model as a table: every role × every action, on own, same-firm and other resources."""
from __future__ import annotations

import pytest

from common.errors import Forbidden
from survey.auth import ACTIONS, RIGHTS, ROLES, Account, Scope, allowed, scope

ACTORS = {
    "admin": Account("adm", "admin"),
    "supervisor": Account("sup", "supervisor", firm="A"),
    "pollster": Account("p1", "pollster", firm="A", waves=("2025",)),
    "analyst": Account("ana", "analyst"),
    "liaison": Account("lia", "liaison", unit="思明区"),
    "reviewer": Account("rev", "reviewer", firm="A"),
}
# the pollster's own case of firm A (in the liaison's unit)
OWN = {"pollster": "p1", "firm": "A", "wave": "2025", "unit": "思明区"}
SAME_FIRM = {"pollster": "p2", "firm": "A", "wave": "2026", "unit": "湖里区"}   # a colleague's case
OTHER = {"pollster": "q9", "firm": "B", "wave": "2026", "unit": "集美区"}       # another firm's case, a wave not assigned
NONE = (0, 0, 0)

# action: role -> (own, same firm, other) — written out by hand from DESIGN's rights, not derived
EXPECTED = {
    "waves.enter": {"admin": (1, 1, 1), "supervisor": (1, 1, 1), "pollster": (1, 0, 0), "analyst": (0, 0, 0), "liaison": NONE, "reviewer": NONE},
    "cases.read": {"admin": (1, 1, 1), "supervisor": (1, 1, 0), "pollster": (1, 0, 0), "analyst": (1, 1, 1), "liaison": NONE, "reviewer": NONE},
    "cases.contact_clear": {"admin": (0, 0, 0), "supervisor": (0, 0, 0), "pollster": (1, 0, 0),
                            "analyst": (0, 0, 0), "liaison": NONE, "reviewer": NONE},
    "cases.assign": {"admin": (1, 1, 1), "supervisor": (1, 1, 0), "pollster": (0, 0, 0), "analyst": (0, 0, 0), "liaison": NONE, "reviewer": NONE},
    "attempts.add": {"admin": (1, 1, 1), "supervisor": (1, 1, 0), "pollster": (1, 0, 0), "analyst": (0, 0, 0), "liaison": NONE, "reviewer": NONE},
    "attempts.read": {"admin": (1, 1, 1), "supervisor": (1, 1, 0), "pollster": (1, 0, 0), "analyst": (1, 1, 1), "liaison": NONE, "reviewer": NONE},
    "attempts.link_response": {"admin": (1, 1, 1), "supervisor": (1, 1, 1), "pollster": (1, 0, 0),
                               "analyst": (0, 0, 0), "liaison": NONE, "reviewer": NONE},
    "paper.key": {"admin": (1, 1, 1), "supervisor": (1, 1, 0), "pollster": (1, 1, 0), "analyst": (0, 0, 0), "liaison": NONE, "reviewer": NONE},
    "responses.exclude": {"admin": (1, 1, 1), "supervisor": (1, 1, 0), "pollster": (0, 0, 0),
                          "analyst": (1, 1, 1), "liaison": NONE, "reviewer": NONE},
    "fieldwork.supervise": {"admin": (1, 1, 1), "supervisor": (1, 1, 0), "pollster": (0, 0, 0),
                            "analyst": (0, 0, 0), "liaison": NONE, "reviewer": NONE},
    # appeals: a liaison reads and contests its own unit only; analysts and the admin decide
    "published.read": {"admin": (1, 1, 1), "supervisor": NONE, "pollster": NONE, "analyst": (1, 1, 1),
                       "liaison": (1, 0, 0), "reviewer": NONE},
    "objections.file": {"admin": NONE, "supervisor": NONE, "pollster": NONE, "analyst": NONE, "liaison": (1, 0, 0), "reviewer": NONE},
    "objections.read": {"admin": (1, 1, 1), "supervisor": NONE, "pollster": NONE, "analyst": (1, 1, 1),
                        "liaison": (1, 0, 0), "reviewer": NONE},
    "objections.decide": {"admin": (1, 1, 1), "supervisor": NONE, "pollster": NONE, "analyst": (1, 1, 1),
                          "liaison": NONE, "reviewer": NONE},
    "appeals.set_deadline": {"admin": (1, 1, 1), "supervisor": NONE, "pollster": NONE, "analyst": (1, 1, 1),
                             "liaison": NONE, "reviewer": NONE},
    # recording review: the firm's supervisor and 复核员 judge their firm's; pollsters attach files to their own
    "recordings.import": {"admin": (1, 1, 1), "supervisor": (1, 1, 0), "pollster": NONE, "analyst": NONE,
                          "liaison": NONE, "reviewer": NONE},
    "recordings.add": {"admin": (1, 1, 1), "supervisor": (1, 1, 0), "pollster": (1, 0, 0), "analyst": NONE,
                       "liaison": NONE, "reviewer": NONE},
    "recordings.review": {"admin": (1, 1, 1), "supervisor": (1, 1, 0), "pollster": NONE, "analyst": NONE,
                          "liaison": NONE, "reviewer": (1, 1, 0)},
    "evidence.map": {"admin": (1, 1, 1), "supervisor": (1, 1, 0), "pollster": NONE, "analyst": (1, 1, 1),
                     "liaison": NONE, "reviewer": NONE},
    # a back-check number in clear: the firm's supervisor only (the admin sees it masked)
    "backcheck.dial": {"admin": NONE, "supervisor": (1, 1, 0), "pollster": NONE, "analyst": NONE,
                       "liaison": NONE, "reviewer": NONE},
    # waves listed on pages: every role, a pollster only those it is assigned to
    "waves.read": {"admin": (1, 1, 1), "supervisor": (1, 1, 1), "pollster": (1, 0, 0), "analyst": (1, 1, 1),
                   "liaison": (1, 1, 1), "reviewer": (1, 1, 1)},
    "accounts.read": {"admin": (1, 1, 1), "supervisor": NONE, "pollster": NONE, "analyst": NONE,
                      "liaison": NONE, "reviewer": NONE},
}


def test_the_table_covers_every_action_and_role():
    assert set(EXPECTED) == set(ACTIONS)
    assert all(set(row) == set(ROLES) for row in EXPECTED.values())


@pytest.mark.parametrize("action,role", [(a, r) for a in EXPECTED for r in ROLES])
def test_allowed(action, role):
    actor = ACTORS[role]
    got = tuple(int(allowed(actor, action, res)) for res in (OWN, SAME_FIRM, OTHER))
    assert got == EXPECTED[action][role]
    assert allowed(actor, action) == any(EXPECTED[action][role])


@pytest.mark.parametrize("action,role", [(a, r) for a in EXPECTED for r in ROLES])
def test_scope_agrees_with_allowed(action, role):
    actor = ACTORS[role]
    if not any(EXPECTED[action][role]):
        with pytest.raises(Forbidden):
            scope(actor, action)
        return
    reach = ACTIONS[action][role]
    got = scope(actor, action)
    assert got == {"all": Scope(), "firm": Scope(firm="A"), "own": Scope(pollster="p1"),
                   "assigned": Scope(waves=("2025",)), "unit": Scope(unit="思明区")}[reach]


def test_scope_refuses_another_firm_and_a_firmless_supervisor():
    with pytest.raises(Forbidden) as err:
        scope(ACTORS["supervisor"], "attempts.read", firm="B")
    assert err.value.code == "other_firm"
    with pytest.raises(Forbidden) as err:
        scope(Account("s0", "supervisor"), "attempts.read")
    assert err.value.code == "no_firm"
    assert scope(ACTORS["admin"], "attempts.read", firm="B") == Scope(firm="B")


@pytest.mark.parametrize("right", sorted(RIGHTS))
def test_every_right_of_every_role(right):
    for role, actor in ACTORS.items():
        assert actor.can(right) == (role == "admin" or role in RIGHTS[right])
