"""Shared helpers for the analysis tests: reference files and synthetic data."""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd

ITEMS = ["air", "water", "sea", "noise", "waste", "greenery", "rural", "enforcement", "publicity", "overall"]


def reference_dir() -> Path:
    env = os.environ.get("SURVEY_REFERENCE_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "reference"


PROJECT_REFERENCE = Path(__file__).resolve().parent / "reference"


@functools.cache
def r_available() -> bool:
    """Rscript with the survey package (and MASS, which bounded calibration needs)."""
    if not shutil.which("Rscript"):
        return False
    done = subprocess.run(["Rscript", "-e", "library(survey); library(MASS)"], capture_output=True)
    return done.returncode == 0


def require_r() -> None:
    """Skip a live-R test where R is missing — except under CI=true, where it fails."""
    import pytest
    if r_available():
        return
    message = "Rscript with the survey and MASS packages is not installed"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true: {message}; live comparisons with R must run")
    pytest.skip(message)


def require_shared_reference() -> Path:
    """../shared/reference (not part of a clone): skipped when absent."""
    import pytest
    ref = reference_dir()
    if not (ref / "r_estimates.csv").exists():
        pytest.skip("../shared/reference not found (the project's own vectors are in tests/reference/)")
    return ref


def synthetic(seed: int, sizes: dict[str, int], education: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Responses with unequal unit sizes and skewed demographics, and population margins."""
    rng = np.random.default_rng(seed)
    ages = ["18-29", "30-39", "40-49", "50-59", "60+"]
    edus = ["E1", "E2", "E3", "E4"]
    rows, pop = [], []
    for u, n in sizes.items():
        sex = rng.choice(["M", "F"], n, p=[0.4, 0.6])
        age = rng.choice(ages, n, p=[0.1, 0.15, 0.2, 0.25, 0.3])
        edu = rng.choice(edus, n, p=[0.35, 0.3, 0.2, 0.15])
        base = rng.normal(0.3, 0.5, n) + (age == "60+") * 0.3
        for i in range(n):
            rec = {"response_id": f"{u}-{i:05d}", "unit": u, "mode": rng.choice(["phone", "web"]),
                   "sex": sex[i], "age_group": age[i], "education": edu[i]}
            for k, item in enumerate(ITEMS):
                if rng.random() < 0.06:
                    rec[item] = 9
                elif rng.random() < 0.01:
                    rec[item] = np.nan
                else:
                    rec[item] = int(np.clip(np.round(3.4 + base[i] + 0.1 * k - 0.4 * (item == "noise")
                                                     + rng.normal(0, 0.9)), 1, 5))
            rows.append(rec)
        total = float(rng.integers(200_000, 900_000))
        for var, cats, shares in (("sex", ["M", "F"], [0.51, 0.49]),
                                  ("age_group", ages, [0.22, 0.24, 0.2, 0.17, 0.17]),
                                  ("education", edus, [0.3, 0.3, 0.2, 0.2])):
            if var == "education" and not education:
                continue
            for c, s in zip(cats, shares):
                pop.append({"unit": u, "variable": var, "category": c, "population": total * s})
    return pd.DataFrame(rows), pd.DataFrame(pop)
