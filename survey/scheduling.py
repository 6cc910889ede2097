"""Call scheduling: which case a pollster calls next, and when a case may be called at all.

Pure rules over typed records (no store, no clock of its own: the caller passes the moment),
so each rule is tested with a fixed time. survey.fieldwork.next_case reads a wave's rules and
the attempts, and asks `choose`; record_attempt asks `appointment_problem` and `exhausted`.

The rules of a wave (settings section `schedule`, edited on the wave settings page):
- call windows: one for weekdays (Mon–Fri) and one for weekends (Sat, Sun), e.g. 18:00-21:00
  and 09:00-21:00; outside the day's window no case is offered. No window: any time.
- 调休: dates listed as `workdays` (a Saturday or Sunday that is an official working day) take
  the weekday window, dates listed as `holidays` (a Monday–Friday public holiday) the weekend
  window; the calendar knows no holidays of its own.
- named slots (e.g. 傍晚 18:00-19:30, 晚上 19:30-21:00): a case that was not reached is retried
  in the slot it has been tried in least, so a household out every evening at seven is not
  called at seven six times. A moment outside every slot rotates nothing. Each slot must lie
  within the weekday or the weekend window (a slot no day's window reaches would hold cases
  back for a time nobody may call).
- busy redial: after 忙音 (3.12) the case waits N minutes, then comes back before new cases
  (someone is at home). 0: a busy case is an ordinary retry.
- maximum attempts: a case tried that often and not closed is exhausted; it takes no more
  attempts and keeps the final code METHODS §4 gives its attempts (aapor.final_code).
- appointments outrank everything: a due 约定回访 is offered first, even past the attempt
  limit and whatever its slot; an appointment outside the call window is refused.
Order of what is offered: due appointments (earliest first), due busy redials (earliest),
new cases (case id), retries (fewest tries, longest ago, case id).
"""
from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Callable

from common.errors import Invalid, Problem
from survey import i18n
from survey.aapor import final_code, is_final

Clock = Callable[[], dt.datetime]  # what next_case asks for "now" (tests pass a fixed one)

BUSY = "3.12"
DEFAULT_MAX_ATTEMPTS = 6
MAX_SLOT_NAME = 20
MAX_SLOTS = 12
MAX_DATES = 400  # 调休 dates per list: a year of them and then some
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*(?:-|–|—|~|～|至|到)\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class Window:
    """A span of the day, start included, end excluded (no span across midnight)."""
    start: dt.time
    end: dt.time

    def contains(self, moment: dt.datetime) -> bool:
        return self.start <= moment.time() < self.end

    def __str__(self) -> str:
        end = "24:00" if self.end == dt.time(23, 59, 59) else f"{self.end:%H:%M}"
        return f"{self.start:%H:%M}-{end}"


@dataclass(frozen=True)
class Slot:
    name: str
    hours: Window


@dataclass(frozen=True)
class CallRules:
    """A wave's scheduling rules; the defaults are those of a wave that sets none."""
    weekday: Window | None = None
    weekend: Window | None = None
    slots: tuple[Slot, ...] = ()
    busy_redial_minutes: int = 0
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    workdays: frozenset[dt.date] = frozenset()  # 调休上班: weekend dates that are working days
    holidays: frozenset[dt.date] = frozenset()  # 节假日: weekday dates that are days off

    def is_weekend(self, day: dt.date) -> bool:
        """Whether the day takes the weekend window: Sat/Sun unless a listed workday, or a listed holiday."""
        if day in self.workdays:
            return False
        return day in self.holidays or day.weekday() >= 5

    def window_on(self, day: dt.date) -> Window | None:
        return self.weekend if self.is_weekend(day) else self.weekday

    def callable_at(self, moment: dt.datetime) -> bool:
        """Inside the day's call window (always, for a day type without a window)."""
        window = self.window_on(moment.date())
        return window is None or window.contains(moment)

    def slot_of(self, moment: dt.datetime) -> str | None:
        return next((s.name for s in self.slots if s.hours.contains(moment)), None)

    def to_settings(self) -> dict[str, Any]:
        """The `schedule` section as stored (what `parse_schedule` reads back)."""
        return {"weekday": str(self.weekday) if self.weekday else "",
                "weekend": str(self.weekend) if self.weekend else "",
                "slots": [{"name": s.name, "hours": str(s.hours)} for s in self.slots],
                "busy_redial_minutes": self.busy_redial_minutes, "max_attempts": self.max_attempts,
                "workdays": [d.isoformat() for d in sorted(self.workdays)],
                "holidays": [d.isoformat() for d in sorted(self.holidays)]}


@dataclass(frozen=True)
class Attempt:
    """What scheduling needs of one contact attempt."""
    at: dt.datetime
    code: str
    callback_at: dt.datetime | None = None


@dataclass(frozen=True)
class Offer:
    """A case that may be called now, why, and its place in the queue (`key`, smaller first)."""
    case_id: str
    reason: str  # callback | busy | new | retry
    tries: int
    callback_at: dt.datetime | None
    key: tuple[Any, ...]


_RANK = {"callback": 0, "busy": 1, "new": 2, "retry": 3}


def pending_callback(attempts: Sequence[Attempt]) -> dt.datetime | None:
    """The appointment of the last attempt, if it made one (a later attempt replaces it)."""
    return attempts[-1].callback_at if attempts else None


@functools.lru_cache(maxsize=256)
def _final(code: str) -> bool:
    return is_final(code)


def closed(attempts: Sequence[Attempt]) -> bool:
    """A final code reached (complete, refusal, not eligible …): no more attempts."""
    return any(_final(a.code) for a in attempts)


def exhausted(rules: CallRules, attempts: Sequence[Attempt]) -> bool:
    """Tried `max_attempts` times without a final code and no appointment pending."""
    return (not closed(attempts) and len(attempts) >= rules.max_attempts
            and pending_callback(attempts) is None)


def case_final_code(rules: CallRules, attempts: Sequence[Attempt]) -> str | None:
    """The code a case ends with: METHODS §4 over its attempts (None while it may still be called)."""
    if closed(attempts) or exhausted(rules, attempts):
        return final_code((a.at.isoformat(), a.code) for a in attempts)
    return None


def offer(rules: CallRules, case_id: str, attempts: Sequence[Attempt], moment: dt.datetime) -> Offer | None:
    """Whether the case may be called at `moment` (window aside), and with what priority.

    `attempts` in the order they were made.
    """
    if closed(attempts):
        return None
    n = len(attempts)
    cb = pending_callback(attempts)
    if cb is not None:  # an appointment holds the case until it is due, then outranks everything
        return Offer(case_id, "callback", n, cb, (0, cb, case_id)) if cb <= moment else None
    if n >= rules.max_attempts:
        return None
    if n == 0:
        return Offer(case_id, "new", 0, None, (2, case_id))
    last = attempts[-1]
    if last.code == BUSY and rules.busy_redial_minutes > 0:
        due = last.at + dt.timedelta(minutes=rules.busy_redial_minutes)
        return Offer(case_id, "busy", n, None, (1, due, case_id)) if due <= moment else None
    if rules.slots:
        now_slot = rules.slot_of(moment)
        if now_slot is not None:
            used = Counter(rules.slot_of(a.at) for a in attempts)
            if used[now_slot] > min(used[s.name] for s in rules.slots):
                return None  # another slot has been tried less: wait for it
    return Offer(case_id, "retry", n, None, (3, n, last.at, case_id))


def choose(rules: CallRules, cases: Iterable[tuple[str, Sequence[Attempt]]], moment: dt.datetime) -> Offer | None:
    """The case to call now among `cases` ((case id, attempts) pairs); None outside the window
    or when nothing may be called."""
    if not rules.callable_at(moment):
        return None
    best: Offer | None = None
    for case_id, attempts in cases:
        found = offer(rules, case_id, attempts, moment)
        if found is not None and (best is None or found.key < best.key):
            best = found
    return best


# ======================================================================================
# Reading and checking the settings (the boundary: admin form, stored settings)
# ======================================================================================
def _label(name: str, lang: str) -> str:
    key = f"setup.field.{name}"
    text = i18n.t(key, lang)
    return name if text == key else text


def _problem(field: str, reason: str, lang: str, **values: Any) -> Problem:
    return Problem(i18n.t("setup.problem", lang, field=_label(field, lang),
                          reason=i18n.t(f"schedule.reason.{reason}", lang, **values)), field=field, code=reason)


def _time(h: str, m: str) -> dt.time | None:
    hour, minute = int(h), int(m)
    if hour == 24 and minute == 0:
        return dt.time(23, 59, 59)  # 24:00: to the end of the day
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def parse_hours(text: Any) -> Window | None:
    """"18:00-21:00" (also with –, ~, 至) as a Window; ValueError when it is not one."""
    match = _HOURS.match(str(text)) if isinstance(text, str) else None
    if not match:
        raise ValueError("format")
    start, end = _time(*match.group(1, 2)), _time(*match.group(3, 4))
    if start is None or end is None:
        raise ValueError("format")
    if start >= end:
        raise ValueError("order")
    return Window(start, end)


def _whole(value: Any, field: str, low: int, high: int, lang: str, problems: list[Problem]) -> int | None:
    if isinstance(value, str):
        value = value.strip()
        try:
            value = int(value) if re.fullmatch(r"[+-]?\d{1,9}", value) else float(value)
        except ValueError:
            problems.append(_problem(field, "not_whole", lang))
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            isinstance(value, float) and (not math.isfinite(value) or value != int(value))):
        problems.append(_problem(field, "not_whole", lang))
        return None
    if not low <= int(value) <= high:
        problems.append(_problem(field, "range", lang, low=low, high=high))
        return None
    return int(value)


def _name_problem(name: str) -> bool:
    return not name or len(name) > MAX_SLOT_NAME or any(not ch.isprintable() for ch in name)


def parse_schedule(raw: Mapping[str, Any] | None, lang: str = i18n.DEFAULT_LANG, *,
                   slot_windows: bool = True) -> CallRules:
    """The `schedule` section checked: Invalid with one Chinese line per problem (field named).

    Keys: weekday, weekend ("HH:MM-HH:MM" or blank for no limit), slots ([{name, hours}], each
    within the weekday or the weekend window), busy_redial_minutes (0-1440), max_attempts (1-50),
    workdays / holidays (调休: ISO dates, a list or one string split at commas, spaces or lines;
    a workday must be a Saturday or Sunday, a holiday a Monday–Friday, no date in both).
    Unknown keys are refused. `slot_windows=False` skips the slot-inside-a-window check (reading
    rules stored before it existed).
    """
    raw = dict(raw or {})
    problems: list[Problem] = []
    unknown = sorted(set(raw) - {"weekday", "weekend", "slots", "busy_redial_minutes", "max_attempts",
                                 "workdays", "holidays"})
    for key in unknown:
        problems.append(_problem(f"schedule.{key}", "unknown", lang))
    windows: dict[str, Window | None] = {}
    for part in ("weekday", "weekend"):
        value = raw.get(part)
        if value is None or (isinstance(value, str) and not value.strip()):
            windows[part] = None
            continue
        try:
            windows[part] = parse_hours(value)
        except ValueError as err:
            problems.append(_problem(f"schedule.{part}", f"hours_{err}", lang, value=str(value)[:40]))
    slots: list[Slot] = []
    given = raw.get("slots") or []
    if not isinstance(given, (list, tuple)):
        problems.append(_problem("schedule.slots", "not_list", lang))
        given = []
    if len(given) > MAX_SLOTS:
        problems.append(_problem("schedule.slots", "too_many", lang, n=MAX_SLOTS))
    for i, item in enumerate(given, start=1):
        item = dict(item) if isinstance(item, Mapping) else {}
        name = str(item.get("name") or "").strip()
        field = i18n.t("setup.row_field", lang, row=i, field=_label("schedule.slots", lang))
        if _name_problem(name):
            problems.append(Problem(i18n.t("setup.problem", lang, field=field, reason=i18n.t(
                "schedule.reason.slot_name", lang, n=MAX_SLOT_NAME)), field="schedule.slots", code="slot_name"))
            continue
        try:
            hours = parse_hours(item.get("hours"))
        except ValueError as err:
            problems.append(Problem(i18n.t("setup.problem", lang, field=field, reason=i18n.t(
                f"schedule.reason.hours_{err}", lang, value=str(item.get("hours") or "")[:40])),
                field="schedule.slots", code=f"hours_{err}"))
            continue
        for other in slots:
            if other.name == name:
                problems.append(Problem(i18n.t("setup.problem", lang, field=field, reason=i18n.t(
                    "schedule.reason.slot_twice", lang, name=name)), field="schedule.slots", code="slot_twice"))
            elif hours.start < other.hours.end and other.hours.start < hours.end:
                problems.append(Problem(i18n.t("setup.problem", lang, field=field, reason=i18n.t(
                    "schedule.reason.slot_overlap", lang, name=other.name)), field="schedule.slots",
                    code="slot_overlap"))
        outside = slot_windows and _outside_windows(hours, windows.get("weekday"), windows.get("weekend"),
                                                    {"weekday", "weekend"} - set(windows))
        if outside:
            problems.append(Problem(i18n.t("setup.problem", lang, field=field, reason=i18n.t(
                "schedule.reason.slot_outside", lang, name=name, hours=str(hours), windows=outside)),
                field="schedule.slots", code="slot_outside"))
        slots.append(Slot(name, hours))
    workdays = _dates(raw.get("workdays"), "schedule.workdays", True, lang, problems)
    holidays = _dates(raw.get("holidays"), "schedule.holidays", False, lang, problems)
    for day in sorted(workdays & holidays):
        problems.append(_problem("schedule.holidays", "date_both", lang, date=day.isoformat()))
    busy = raw.get("busy_redial_minutes", 0)
    busy = _whole(busy if busy not in (None, "") else 0, "schedule.busy_redial_minutes", 0, 1440, lang, problems)
    most = raw.get("max_attempts", DEFAULT_MAX_ATTEMPTS)
    most = _whole(most if most not in (None, "") else DEFAULT_MAX_ATTEMPTS, "schedule.max_attempts", 1, 50, lang,
                  problems)
    if problems:
        raise Invalid(problems)
    return CallRules(windows["weekday"], windows["weekend"], tuple(slots), busy or 0,
                     most or DEFAULT_MAX_ATTEMPTS, frozenset(workdays), frozenset(holidays))


def _within(hours: Window, window: Window | None) -> bool:
    return window is None or (window.start <= hours.start and hours.end <= window.end)


def _outside_windows(hours: Window, weekday: Window | None, weekend: Window | None, broken: set[str]) -> str | None:
    """The windows (as text) when a slot lies wholly inside neither; None when it fits one (or a
    window could not be read: that window's own problem is reported)."""
    if broken or _within(hours, weekday) or _within(hours, weekend):
        return None
    return window_text(CallRules(weekday, weekend))


def _dates(value: Any, field: str, weekend: bool, lang: str, problems: list[Problem]) -> set[dt.date]:
    """调休 dates: ISO dates; `weekend` says they must fall on Sat/Sun (workdays) or on Mon–Fri (holidays)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return set()
    if isinstance(value, str):
        items: list[Any] = [v for v in re.split(r"[\s,，、;；]+", value) if v]
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
    else:
        problems.append(_problem(field, "not_dates", lang))
        return set()
    if len(items) > MAX_DATES:
        problems.append(_problem(field, "too_many_dates", lang, n=MAX_DATES))
        return set()
    out: set[dt.date] = set()
    for item in items:
        text = item.isoformat() if isinstance(item, dt.date) else str(item).strip()
        try:
            day = dt.date.fromisoformat(text) if _DATE.match(text) else None
        except ValueError:
            day = None
        if day is None:
            problems.append(_problem(field, "not_a_date", lang, value=text[:20]))
        elif (day.weekday() >= 5) != weekend:
            problems.append(_problem(field, "workday_not_weekend" if weekend else "holiday_not_weekday", lang,
                                     date=text, day=i18n.t(f"schedule.weekday_name.{day.weekday()}", lang)))
        else:
            out.add(day)
    return out


def rules_from_settings(settings: Mapping[str, Any] | None) -> CallRules:
    """A wave's stored rules (checked when they were saved; a wave without them: the defaults).

    A slot outside the windows saved before that check existed does not stop the calling: the
    settings page refuses it at the next save."""
    return parse_schedule((settings or {}).get("schedule"), slot_windows=False)


def window_text(rules: CallRules, lang: str = i18n.DEFAULT_LANG) -> str:
    """The call windows as people read them: 工作日 18:00-21:00，周末 09:00-21:00."""
    parts = [i18n.t(f"schedule.{part}_window", lang, hours=str(w) if w else i18n.t("schedule.any_time", lang))
             for part, w in (("weekday", rules.weekday), ("weekend", rules.weekend))]
    return i18n.t("schedule.windows", lang, weekday=parts[0], weekend=parts[1])


def appointment_problem(rules: CallRules, callback_at: dt.datetime, lang: str = i18n.DEFAULT_LANG) -> str | None:
    """A Chinese refusal when an agreed callback time lies outside the call window, else None."""
    if rules.callable_at(callback_at):
        return None
    return i18n.t("schedule.appointment_outside", lang, at=callback_at.strftime("%Y-%m-%d %H:%M"),
                  windows=window_text(rules, lang))


def closed_message(rules: CallRules, moment: dt.datetime, lang: str = i18n.DEFAULT_LANG) -> str | None:
    """What the calling screen says outside the call window (None inside it)."""
    if rules.callable_at(moment):
        return None
    return i18n.t("schedule.outside_window", lang, now=moment.strftime("%H:%M"), windows=window_text(rules, lang))
