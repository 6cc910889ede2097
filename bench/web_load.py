"""Load test of the resident web survey: N residents fill in and submit at the same time.

    python bench/web_load.py [--n 50] [--mode ws|browser] [--think 0] [--concurrency 50] [--port 0]

Starts `streamlit run` on a fresh store, generates N invitation tokens, then takes N
residents through the whole survey at once: consent, screening, the ten items two per
screen, follow-up, demographics, comment, submit. Two kinds of resident:

- `ws` (default): Streamlit WebSocket clients sending what the browser sends (widget
  values, button triggers) and waiting for each script run to finish. This loads the
  server as phones do, without rendering N pages on the measured machine.
- `browser`: N phone-sized contexts of one chromium (Playwright, async). On 2 cores the
  figures are then dominated by chromium rendering N pages, which each resident's phone
  does by itself in the field.

Prints

    submitted  residents that clicked Submit and got the thank-you page
    stored     web responses in the store for those tokens
    lost       submitted but not stored (target 0)
    time to submit: click on Submit until the thank-you page (target p95 < 2 s)
    whole survey:   page open until the thank-you page
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools import web_driver as wd  # noqa: E402

READY_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app && app.getAttribute('data-test-script-state') === 'notRunning'
           && document.querySelector('[data-testid="stMainBlockContainer"] [data-testid="stButton"]')
           && !document.querySelector('[data-stale="true"]');
}"""
TIMEOUT = 120_000


async def ready(page) -> None:
    await page.wait_for_function(READY_JS, timeout=TIMEOUT)


async def resident(browser, base: str, token: str, questions: list[tuple[str, str]], sem: asyncio.Semaphore) -> dict:
    """One resident's whole survey; returns timings or the error."""
    async with sem:
        ctx = await browser.new_context(viewport=wd.PHONE, user_agent=wd.PHONE_UA, is_mobile=True, has_touch=True,
                                        locale="zh-CN")
        ctx.set_default_timeout(TIMEOUT)
        page = await ctx.new_page()
        out: dict = {"token": token, "submitted": False}
        t_open = time.perf_counter()
        try:
            await page.goto(f"{base}/survey?t={token}", timeout=TIMEOUT)
            await ready(page)
            await page.get_by_text("我已了解以上说明").click()
            await ready(page)
            await page.get_by_role("button", name="开始答题").click()
            await page.get_by_text("请问您是否年满18周岁？").wait_for(timeout=TIMEOUT)
            await ready(page)
            while await page.get_by_role("button", name="提交问卷").count() == 0:
                for text, label in questions:
                    widget = page.locator('[data-testid="stRadio"]').filter(has_text=text)
                    if await widget.count():
                        await widget.first.get_by_text(label, exact=True).first.click()
                        await ready(page)
                before = await page.locator('[data-testid="stProgress"]').inner_text()
                await page.get_by_role("button", name="下一页").click()
                await page.wait_for_function(
                    "b => { const p = document.querySelector('[data-testid=\"stProgress\"]');"
                    " return p && p.innerText !== b; }", arg=before, timeout=TIMEOUT)
                await ready(page)
            await page.get_by_role("textbox").first.fill("负载测试")
            t_click = time.perf_counter()
            await page.get_by_role("button", name="提交问卷").click()
            await page.get_by_text("提交成功").wait_for(timeout=TIMEOUT)
            done = time.perf_counter()
            out.update(submitted=True, submit_s=done - t_click, total_s=done - t_open)
        except Exception as err:  # counted and printed, never hidden
            out["error"] = f"{type(err).__name__}: {str(err).splitlines()[0][:160]}"
        finally:
            await ctx.close()
        return out



# ----------------------------------------------------------------------------------------
# Streamlit WebSocket clients: what the browser sends, without a browser
# ----------------------------------------------------------------------------------------
class StreamlitClient:
    """Speaks Streamlit's own protocol over /_stcore/stream, as the frontend does.

    Each rerun sends the values of the widgets on screen (radios by their option label,
    the checkbox, the text box) plus the clicked button as a trigger, then reads the
    ForwardMsgs until the script run finishes. This loads the server exactly as phones
    do, while the phones' rendering stays off the measured machine.
    """

    def __init__(self, ws, query: str, page_name: str = "survey") -> None:
        self.ws, self.query, self.page_name = ws, query, page_name
        self.page_hash = ""
        self.elements: dict[str, object] = {}   # widget id -> element proto of the last run
        self.values: dict[str, object] = {}     # widget id -> WidgetState to send

    async def rerun(self, trigger: str | None = None) -> list:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        from streamlit.proto.WidgetStates_pb2 import WidgetState
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string, cs.page_name, cs.page_script_hash = self.query, self.page_name, self.page_hash
        states = [v for k, v in self.values.items() if k in self.elements]
        if trigger is not None:
            states.append(WidgetState(id=trigger, trigger_value=True))
        cs.widget_states.widgets.extend(states)
        await self.ws.send(msg.SerializeToString())
        shown = []
        while True:
            fm = ForwardMsg()
            fm.ParseFromString(await self.ws.recv())
            kind = fm.WhichOneof("type")
            if kind == "navigation":
                self.page_hash = fm.navigation.page_script_hash
            elif kind == "page_not_found":
                raise RuntimeError("page not found")
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                shown.append(fm.delta.new_element)
            elif kind == "script_finished" and fm.script_finished == 2:
                shown = []  # st.rerun(): the server runs the script again, its elements replace these
            elif kind == "script_finished" and fm.script_finished in (0, 3):
                break
        self.elements = {}
        for el in shown:
            which = el.WhichOneof("type")
            if which in ("radio", "checkbox", "button", "text_input", "selectbox", "button_group"):
                self.elements[getattr(el, which).id] = el
        return shown

    def widget(self, kind: str, key_or_label: str):
        for wid, el in self.elements.items():
            proto = getattr(el, kind) if el.WhichOneof("type") == kind else None
            if proto is not None and (wid.endswith("-" + key_or_label) or proto.label == key_or_label):
                return wid, proto
        return None, None

    def set(self, wid: str, **value) -> None:
        from streamlit.proto.WidgetStates_pb2 import WidgetState
        self.values[wid] = WidgetState(id=wid, **value)

    async def click(self, key: str) -> list:
        wid, _ = self.widget("button", key)
        if wid is None:
            raise RuntimeError(f"no button {key} on screen")
        return await self.rerun(trigger=wid)


async def ws_resident(base: str, token: str, questions: list[tuple[str, str]], sem: asyncio.Semaphore,
                      think: float = 0.0, *, query: str | None = None, ip: str | None = None) -> dict:
    """One resident over the WebSocket: by invitation `token`, or by the survey `query` (`l=CODE`).

    `ip` is sent as X-Forwarded-For, as a load balancer does (the server trusts it with
    SURVEY_TRUST_PROXY=1); a refused start (rate limit, device done) is counted, not failed.
    """
    import random

    import websockets

    async def pause() -> None:  # a person reads and taps; 0 = as fast as the server answers
        if think:
            await asyncio.sleep(random.uniform(0.5, 1.5) * think)

    async with sem:
        out: dict = {"token": token, "submitted": False}
        t_open = time.perf_counter()
        try:
            async with websockets.connect(base.replace("http", "ws", 1) + "/_stcore/stream",
                                          subprotocols=["streamlit"], max_size=None, open_timeout=60,
                                          additional_headers={"X-Forwarded-For": ip} if ip else None) as ws:
                client = StreamlitClient(ws, query or f"t={token}")
                shown = await client.rerun()
                wid, _ = client.widget("checkbox", "web_consent")
                if wid is None:  # the refusal page (rate limit, closed link, …): no survey to fill in
                    out["refused"] = " ".join(el.heading.body for el in shown if el.WhichOneof("type") == "heading")
                    return out
                client.set(wid, bool_value=True)
                await client.rerun()
                await client.click("web_next")
                while client.widget("button", "web_submit")[0] is None:
                    for text, label in questions:
                        wid, proto = client.widget("radio", text)
                        if wid is not None:
                            await pause()
                            client.set(wid, string_value=label)
                            await client.rerun()  # a tap on a radio reruns the page, as in the browser
                    await pause()
                    await client.click("web_next")
                wid, _ = client.widget("text_input", "q_web_comment")
                if wid is not None:
                    client.set(wid, string_value="负载测试")
                t_click = time.perf_counter()
                shown = await client.click("web_submit")
                done = time.perf_counter()
                texts = " ".join(el.heading.body for el in shown if el.WhichOneof("type") == "heading")
                if "提交成功" not in texts:
                    raise RuntimeError(f"no thank-you page after submit: {texts[:80]}")
                out.update(submitted=True, submit_s=done - t_click, total_s=done - t_open)
        except Exception as err:
            out["error"] = f"{type(err).__name__}: {str(err).splitlines()[0][:160] if str(err) else ''}"
        return out


async def run_ws(base: str, tokens: list[str], concurrency: int, think: float = 0.0) -> list[dict]:
    from survey.questionnaire import load_shipped
    qn = load_shipped("default-2025")
    questions = [(q.text, wd.ANSWERS[q.id]) for q in qn.questions if q.id in wd.ANSWERS]
    sem = asyncio.Semaphore(concurrency)
    return await asyncio.gather(*(ws_resident(base, t, questions, sem, think) for t in tokens))


async def run_all(base: str, tokens: list[str], concurrency: int, think: float = 0.0) -> list[dict]:
    from playwright.async_api import async_playwright

    from survey.questionnaire import load_shipped
    qn = load_shipped("default-2025")
    questions = [(q.text, wd.ANSWERS[q.id]) for q in qn.questions if q.id in wd.ANSWERS]
    sem = asyncio.Semaphore(concurrency)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=wd.CHROMIUM, args=wd.CHROMIUM_ARGS)
        try:
            return await asyncio.gather(*(resident(browser, base, t, questions, sem) for t in tokens))
        finally:
            await browser.close()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50, help="residents")
    ap.add_argument("--concurrency", type=int, default=0, help="at most this many at once (default: all)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--mode", choices=("ws", "browser"), default="ws",
                    help="ws: Streamlit WebSocket clients (server load only); browser: chromium pages")
    ap.add_argument("--think", type=float, default=0.0,
                    help="ws mode: mean seconds a resident takes per tap (0: no pause, the hardest case)")
    args = ap.parse_args()

    from survey import webform
    from survey.auth import SYSTEM
    from survey.bootstrap import init_store
    from survey.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "load.db"
        store = init_store(db).store
        _, tokens = webform.generate_tokens(store, SYSTEM, "2025", "思明区", args.n)
        store.close()
        with wd.server(db, port=args.port or None) as base:
            t0 = time.perf_counter()
            runner = run_ws if args.mode == "ws" else run_all
            results = asyncio.run(runner(base, tokens, args.concurrency or args.n, args.think))
            wall = time.perf_counter() - t0
        check = Store(db)
        stored_tokens = {r["token"] for r in check.query("SELECT token FROM web_tokens WHERE response_id IS NOT NULL")}
        submitted = [r for r in results if r["submitted"]]
        stored = [r for r in results if r["token"] in stored_tokens]
        lost = [r for r in submitted if r["token"] not in stored_tokens]
        failed = [r for r in results if not r["submitted"]]
        submit_s = [r["submit_s"] for r in submitted]
        total_s = [r["total_s"] for r in submitted]
        print(f"mode {args.mode}: residents {args.n}, at once {args.concurrency or args.n}, "
              f"think {args.think:g} s per tap, wall {wall:.1f} s")
        print(f"submitted {len(submitted)}  stored {len(stored)}  lost {len(lost)}  "
              f"failed before submit {len(failed)}  web responses in store {check.count_responses('2025')}")
        print(f"time to submit (click -> thank-you): p50 {pct(submit_s, 0.5):.2f} s  p95 {pct(submit_s, 0.95):.2f} s  "
              f"max {max(submit_s, default=float('nan')):.2f} s")
        print(f"whole survey (open -> thank-you):     p50 {pct(total_s, 0.5):.1f} s  p95 {pct(total_s, 0.95):.1f} s")
        if submit_s:
            print(f"mean time to submit {statistics.mean(submit_s):.2f} s")
        for r in failed[:5]:
            print(f"  failed {r['token']}: {r.get('error')}")
        return 0 if not lost else 1


if __name__ == "__main__":
    sys.exit(main())
