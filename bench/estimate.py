"""Whole-process speed of `python -m analysis estimate` against R's survey package.

    python bench/estimate.py [--rows 12000]
    python bench/estimate.py --by mode --cluster interviewer --rows 12000,200000 --repeat 1

With --by/--cluster both sides estimate every unit × mode and 全市 × mode domain of every
item on the clustered design (R: svydesign(ids = ~interviewer, strata = ~unit,
nest = TRUE), rake, then svyby(..., svyciprop, method = "logit") per item — the fast
way an R analyst would write it), and the CIs are compared.

Both read the same responses file (demo data for the six Xiamen districts) and the
shipped population, rake by sex and age_group within unit, and compute rate, SE and
logit CI per unit and 全市 for every item (R: svymean + svyciprop on a subset per
unit × item). Each side is timed as a whole process, start to exit.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from survey.config import XIAMEN_UNITS  # noqa: E402
from survey.demo import generate  # noqa: E402
from survey.questionnaire import ITEM_IDS  # noqa: E402

POPULATION = ROOT / "data" / "population" / "xiamen-2020.csv"

R_SCRIPT = """suppressMessages(library(survey))
d <- read.csv("responses.csv", stringsAsFactors = FALSE, encoding = "UTF-8")
pop <- read.csv("population.csv", stringsAsFactors = FALSE, encoding = "UTF-8")
des <- svydesign(ids = ~1, strata = ~unit, weights = ~1, data = d)
ps <- list(); fs <- list()
for (v in c("sex", "age_group")) { p <- pop[pop$variable == v, c("unit", "category", "population")];
  names(p) <- c("unit", v, "Freq"); ps[[v]] <- p; fs[[v]] <- as.formula(paste("~unit +", v)) }
r <- rake(des, fs, ps, control = list(epsilon = 1e-6, maxit = 100))
out <- NULL
for (it in strsplit("ITEMS", ",")[[1]]) {
  r <- update(r, y = as.numeric(get(it) %in% c(4, 5)), v = get(it) %in% 1:5)
  for (u in c(unique(d$unit), "ALL")) {
    s <- if (u == "ALL") subset(r, v) else subset(r, v & unit == u)
    m <- svymean(~y, s); ci <- svyciprop(~y, s, method = "logit")
    out <- rbind(out, data.frame(unit = u, item = it, rate = coef(m)[[1]], se = SE(m)[[1]],
                                 low = confint(ci)[1], high = confint(ci)[2]))
  }
}
write.csv(out, "r_out.csv", row.names = FALSE)
"""


R_DOMAINS = """suppressMessages(library(survey))
d <- read.csv("responses.csv", stringsAsFactors = FALSE, encoding = "UTF-8", colClasses = c(interviewer = "character"))
pop <- read.csv("population.csv", stringsAsFactors = FALSE, encoding = "UTF-8")
d$interviewer[is.na(d$interviewer)] <- ""
d$psu <- ifelse(d$interviewer == "", paste0("own:", d$response_id), d$interviewer)
des <- svydesign(ids = ~psu, strata = ~unit, nest = TRUE, weights = ~1, data = d)
ps <- list(); fs <- list()
for (v in c("sex", "age_group")) { p <- pop[pop$variable == v, c("unit", "category", "population")];
  names(p) <- c("unit", v, "Freq"); ps[[v]] <- p; fs[[v]] <- as.formula(paste("~unit +", v)) }
r <- rake(des, fs, ps, control = list(epsilon = 1e-6, maxit = 100))
out <- NULL
for (it in strsplit("ITEMS", ",")[[1]]) {
  r <- update(r, y = as.numeric(get(it) %in% c(4, 5)), v = get(it) %in% 1:5)
  s <- subset(r, v)
  a <- svyby(~y, ~unit + mode, s, svyciprop, vartype = c("se", "ci"), method = "logit")
  b <- svyby(~y, ~mode, s, svyciprop, vartype = c("se", "ci"), method = "logit")
  out <- rbind(out, data.frame(unit = a$unit, mode = a$mode, item = it, low = a$ci_l, high = a$ci_u),
               data.frame(unit = "ALL", mode = b$mode, item = it, low = b$ci_l, high = b$ci_u))
}
write.csv(out, "r_out.csv", row.names = FALSE)
"""


def responses_file(rows: int, path: Path) -> None:
    wave = {"id": "2025", "units": list(XIAMEN_UNITS)}
    records = []
    for i, g in enumerate(generate(rows, 11, wave)):
        a = g["answers"]
        records.append({"response_id": f"B{i:06d}", "wave": "2025", "unit": g["unit"], "mode": g["mode"],
                        "interviewer": g["interviewer"], "submitted_at": g["submitted_at"],
                        "duration_s": g["duration_s"], "sex": a["sex"], "age_group": a["age_group"],
                        "education": a["education"], **{k: a[k] for k in ITEM_IDS}})
    pd.DataFrame(records).to_csv(path, index=False)


def timed(cmd: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed: {done.stderr[-800:]}")
    return elapsed


def run_size(rows: int, repeat: int, by: str | None, cluster: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        responses_file(rows, tmp_path / "responses.csv")
        shutil.copy(POPULATION, tmp_path / "population.csv")
        extra = [*(["--by", by] if by else []), *(["--cluster", cluster] if cluster else [])]
        ours = min(timed([sys.executable, "-m", "analysis", "estimate", str(tmp_path / "responses.csv"),
                          "--population", str(tmp_path / "population.csv"), *extra,
                          "--out", str(tmp_path / "ours.csv")], ROOT) for _ in range(repeat))
        what = f" x {by}" if by else ""
        design = f", PSU = {cluster} within unit" if cluster else ""
        print(f"{rows:,} responses, (6 units + 全市){what} x 10 items{design}")
        print(f"project (python -m analysis estimate {' '.join(extra)}, whole process): {ours:.2f} s")
        if not shutil.which("Rscript"):
            print("R not available: no ratio")
            return
        script = R_DOMAINS if (by or cluster) else R_SCRIPT
        (tmp_path / "b.R").write_text(script.replace("ITEMS", ",".join(ITEM_IDS)), encoding="utf-8")
        r_time = timed(["Rscript", "b.R"], tmp_path)
        mine = pd.read_csv(tmp_path / "ours.csv")
        theirs = pd.read_csv(tmp_path / "r_out.csv").replace({"ALL": "全市"})
        keys = ["unit", "mode", "item"] if (by or cluster) else ["unit", "item"]
        both = theirs.merge(mine, on=keys)
        gap = max((both["rate_low"] / both["low"] - 1).abs().max(), (both["rate_high"] / both["high"] - 1).abs().max())
        baseline = "svyby + svyciprop per item, clustered design" if (by or cluster) else \
            "svymean + svyciprop per unit x item"
        print(f"R survey ({baseline}, whole process): {r_time:.2f} s")
        print(f"project vs R: {r_time / ours:.1f}x faster (target >= 40x); CIs agree to {gap:.1e} over {len(both)} rows")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default="12000", help="comma-separated sizes, e.g. 12000,200000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--by", help="subgroup column (e.g. mode)")
    ap.add_argument("--cluster", help="PSU column (e.g. interviewer)")
    args = ap.parse_args()
    for rows in (int(r) for r in args.rows.split(",")):
        run_size(rows, args.repeat, args.by, args.cluster)


if __name__ == "__main__":
    main()
