"""Two app servers on one PostgreSQL: residents and pollsters across both, nothing lost or doubled.

    python bench/replicas.py --pg "postgresql://postgres@/survey?host=/tmp/pg" \
        [--tokens 40] [--link 30 --limit 20] [--pollsters 4 --cases 6]

Each run builds a fresh schema `bench_replicas_<servers>` in that database and starts `streamlit
run server.py` on it: twice for the replicas, once for the named baseline (the same load
against one server). The load, all at once, through Streamlit's own WebSocket protocol
(bench/web_load.py's client), each client pinned to one server as a load balancer with
session affinity pins it:

- residents with an invitation token, alternating between the servers, each from its
  own address (X-Forwarded-For, trusted with SURVEY_TRUST_PROXY=1 as behind a proxy);
- residents of one open link, alternating, all behind one carrier address, with the
  wave's limit of new starts per address and hour set to `--limit`: exactly that many
  may start across both servers, the rest are refused;
- pollsters on the CATI page (login, next case, record a refusal, next case …), each on
  one server, over cases assigned to them.

Then counts in the database, not in the clients:
`lost` (a thank-you page or a recorded call without its row), `doubled` (a token, device
or case stored twice), open-link starts against the limit, p95 time to submit (click on
Submit until the thank-you page) and stored submissions per second of the run.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tools import web_driver as wd  # noqa: E402
from web_load import StreamlitClient, pct, ws_resident  # noqa: E402

SCHEMA = "bench_replicas"      # + the number of servers: each run a schema of its own
CARRIER_IP = "10.200.0.1"      # one mobile carrier's NAT: every open-link resident behind it
PASSWORD = "bench-pass-123"
REFUSAL = "拒访"               # a final outcome: the case takes no further call


def pg_admin(url: str, sql: str) -> None:
    import sqlalchemy as sa
    eng = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1),
                           poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.exec_driver_sql(sql)
    eng.dispose()


def schema_url(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def prepare(url: str, schema: str, args: argparse.Namespace, key_dir: str) -> tuple[list[str], str]:
    """A fresh store: tokens, one open link with its start limit, pollsters with their cases."""
    from survey import fieldwork, webform
    from survey.auth import SYSTEM, assign, create_account
    from survey.bootstrap import init_store

    pg_admin(args.pg, f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    pg_admin(args.pg, f"CREATE SCHEMA {schema}")
    os.environ["SURVEY_KEY_DIR"] = key_dir
    store = init_store(url).store
    _, tokens = webform.generate_tokens(store, SYSTEM, "2025", "思明区", args.tokens)
    link = webform.create_link(store, SYSTEM, "2025", "湖里区")
    store.update_wave("2025", "admin", settings={"web": {"starts_per_ip_hour": args.limit}})
    csv = Path(key_dir) / "cases.csv"
    rows = [(f"P{k:02d}C{i:03d}", f"1380013{k:02d}{i:02d}") for k in range(args.pollsters) for i in range(args.cases)]
    csv.write_text("case_id,unit,mode,phone\n" + "".join(f"{c},思明区,phone,{p}\n" for c, p in rows), encoding="utf-8")
    fieldwork.import_cases(store, SYSTEM, csv, "2025")
    for k in range(args.pollsters):
        name = f"bench{k:02d}"
        create_account(store, SYSTEM, name, "pollster", PASSWORD, firm="A")
        assign(store, SYSTEM, name, wave="2025")
        fieldwork.assign_cases(store, SYSTEM, "2025", name, case_ids=[c for c, _ in rows if c.startswith(f"P{k:02d}")])
    store.close()
    return tokens, link


async def pollster(base: str, name: str, sem: asyncio.Semaphore) -> dict:
    """One pollster on the CATI page: log in, then record a refusal on each case until none is left."""
    import websockets

    from streamlit.proto.Common_pb2 import StringArray

    from survey.i18n import t
    out: dict = {"pollster": name, "recorded": [], "record_s": []}
    async with sem:
        try:
            async with websockets.connect(base.replace("http", "ws", 1) + "/_stcore/stream",
                                          subprotocols=["streamlit"], max_size=None, open_timeout=60) as ws:
                client = StreamlitClient(ws, "", page_name="")
                await client.rerun()
                for label, value in ((t("login.username"), name), (t("login.password"), PASSWORD)):
                    wid, _ = client.widget("text_input", label)
                    client.set(wid, string_value=value)
                wid, _ = client.widget("button", t("login.submit"))
                out["stage"] = "login"
                shown = await client.rerun(trigger=wid)  # a pollster lands on the phone interview page
                out["stage"] = "calls"
                while client.widget("button", "cati_record")[0] is not None:
                    case_id = next(m.group(0) for el in shown if el.WhichOneof("type") == "heading"
                                   for m in [re.search(r"P\d\dC\d{3}", el.heading.body)] if m)
                    if case_id in out["recorded"]:  # the call was not stored: stop rather than loop
                        raise RuntimeError(f"case {case_id} offered again after its refusal was recorded")
                    # the outcome buttons of one group (st.pills): the refusal is picked like a tap on it
                    wid = next((w for w, el in client.elements.items() if el.WhichOneof("type") == "button_group"
                                and any(o.content == REFUSAL for o in el.button_group.options)), None)
                    if wid is None:
                        raise RuntimeError(f"no outcome button {REFUSAL} on the CATI screen")
                    client.set(wid, string_array_value=StringArray(data=[REFUSAL]))
                    await client.rerun()
                    t0 = time.perf_counter()
                    shown = await client.click("cati_record")
                    out["record_s"].append(time.perf_counter() - t0)
                    out["recorded"].append(case_id)
        except Exception as err:  # counted and printed, never hidden
            out["error"] = (f"{out.get('stage')}: {type(err).__name__}: "
                            f"{str(err).splitlines()[0][:160] if str(err) else ''}")
    return out


async def drive(bases: list[str], tokens: list[str], link: str, args: argparse.Namespace) -> list[dict]:
    from survey.questionnaire import load_shipped
    qn = load_shipped("default-2025")
    questions = [(q.text, wd.ANSWERS[q.id]) for q in qn.questions if q.id in wd.ANSWERS]
    sem = asyncio.Semaphore(args.concurrency or 10_000)
    work = [ws_resident(bases[i % len(bases)], tok, questions, sem, args.think, ip=f"10.1.{i // 250}.{i % 250 + 1}")
            for i, tok in enumerate(tokens)]
    work += [ws_resident(bases[i % len(bases)], f"link-{i}", questions, sem, args.think, query=f"l={link}",
                         ip=CARRIER_IP) for i in range(args.link)]
    work += [pollster(bases[k % len(bases)], f"bench{k:02d}", sem) for k in range(args.pollsters)]
    return await asyncio.gather(*work)


def count(url: str, link: str) -> dict:
    """What the database holds, the only ground truth."""
    from survey.store import Store
    s = Store(url, migrate=False)
    one = lambda sql, p=(): s.query(sql, list(p))[0]["n"]  # noqa: E731
    got = {
        "token_rows": {r["token"] for r in s.query("SELECT token FROM web_tokens WHERE response_id IS NOT NULL")},
        "web_responses": one("SELECT count(*) AS n FROM responses WHERE mode = 'web'"),
        "token_doubled": one("SELECT count(*) AS n FROM (SELECT token FROM web_submissions WHERE token IS NOT NULL "
                             "GROUP BY token HAVING count(*) > 1) d"),
        "link_starts": one("SELECT count(*) AS n FROM web_drafts WHERE link = ?", [link]),
        "link_stored": one("SELECT count(*) AS n FROM web_submissions WHERE link = ?", [link]),
        "link_doubled": one("SELECT count(*) AS n FROM (SELECT device_id FROM web_submissions WHERE link = ? "
                            "GROUP BY device_id HAVING count(*) > 1) d", [link]),
        "attempts": {r["case_id"]: r["n"] for r in s.query("SELECT case_id, count(*) AS n FROM attempts GROUP BY case_id")},
    }
    s.close()
    return got


def run(label: str, servers: int, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        schema = f"{SCHEMA}_{servers}"
        url = schema_url(args.pg, schema)
        tokens, link = prepare(url, schema, args, tmp)
        env = {"SURVEY_TRUST_PROXY": "1", "SURVEY_KEY_DIR": tmp}
        with contextlib.ExitStack() as stack:
            bases = [stack.enter_context(wd.server(url, script="server.py", env=env)) for _ in range(servers)]
            t0 = time.perf_counter()
            results = asyncio.run(drive(bases, tokens, link, args))
            wall = time.perf_counter() - t0
        db = count(url, link)
        pg_admin(args.pg, f"DROP SCHEMA {schema} CASCADE")
    residents = [r for r in results if "token" in r]
    by_token = [r for r in residents if not r["token"].startswith("link-")]
    by_link = [r for r in residents if r["token"].startswith("link-")]
    pollsters = [r for r in results if "pollster" in r]
    done_tok = [r for r in by_token if r["submitted"]]
    done_link = [r for r in by_link if r["submitted"]]
    refused = [r for r in by_link if "refused" in r]
    recorded = [c for p in pollsters for c in p["recorded"]]
    lost = (sum(r["token"] not in db["token_rows"] for r in done_tok) + max(0, len(done_link) - db["link_stored"])
            + sum(c not in db["attempts"] for c in recorded))
    doubled = (db["token_doubled"] + db["link_doubled"] + sum(n > 1 for n in db["attempts"].values())
               + max(0, db["link_stored"] - len(done_link)) + max(0, len(db["attempts"]) - len(recorded)))
    submit_s = [r["submit_s"] for r in done_tok + done_link]
    stored = db["web_responses"] + sum(db["attempts"].values())
    print(f"{label}: {servers} server(s), {len(by_token)} token residents + {len(by_link)} open-link residents + "
          f"{len(pollsters)} pollsters x {args.cases} cases, wall {wall:.1f} s")
    print(f"  lost {lost}  doubled {doubled}  web responses stored {db['web_responses']} "
          f"(token {len(db['token_rows'])}/{len(by_token)}, link {db['link_stored']})  "
          f"calls recorded {sum(db['attempts'].values())}/{args.pollsters * args.cases}")
    print(f"  open link: limit {args.limit}, started {db['link_starts']}, refused {len(refused)}, "
          f"submitted {len(done_link)}")
    print(f"  time to submit p50 {pct(submit_s, 0.5):.2f} s  p95 {pct(submit_s, 0.95):.2f} s  "
          f"max {max(submit_s, default=float('nan')):.2f} s;  record a call p95 "
          f"{pct([x for p in pollsters for x in p['record_s']], 0.95):.2f} s;  {stored / wall:.2f} submissions/s")
    failed = [r for r in by_token if not r["submitted"]] + [r for r in by_link if not r["submitted"] and "refused" not in r]
    for r in failed[:5] + [p for p in pollsters if "error" in p][:5]:
        print(f"  failed {r.get('token') or r.get('pollster')}: {r.get('error')}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg", default=os.environ.get("SURVEY_TEST_DB", ""), help="postgresql:// URL of a database")
    ap.add_argument("--tokens", type=int, default=40, help="residents with an invitation token")
    ap.add_argument("--link", type=int, default=30, help="residents of one open link, behind one address")
    ap.add_argument("--limit", type=int, default=20, help="new starts per address and hour of that link's wave")
    ap.add_argument("--pollsters", type=int, default=4)
    ap.add_argument("--cases", type=int, default=6, help="cases assigned to each pollster")
    ap.add_argument("--concurrency", type=int, default=0, help="at most this many clients at once (default: all)")
    ap.add_argument("--think", type=float, default=0.0, help="mean seconds per tap of a resident")
    args = ap.parse_args()
    if not args.pg.startswith("postgresql://"):
        ap.error("--pg postgresql://… (or SURVEY_TEST_DB) names the one database both servers share")
    run("baseline, one server", 1, args)
    run("replicas", 2, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
