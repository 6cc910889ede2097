"""Synthetic appraisal waves for the tests: many rated units, most respondents unaware of most."""
from __future__ import annotations

import numpy as np
import pandas as pd

AGES = ["18-29", "30-39", "40-49", "50-59", "60+"]
UNITS = pd.DataFrame({
    "id": ["eco", "garden", "hydro", "planning", "transport", "prov_tax", "prov_sea", "soe_water", "soe_metro"],
    "name": ["市生态环境局", "市市政园林局", "市水利局", "市资源规划局", "市交通运输局", "省税务局驻厦单位",
             "省海事局驻厦单位", "市水务集团", "市地铁集团"],
    "type": ["department"] * 5 + ["provincial"] * 2 + ["soe"] * 2,
})


def synthetic_appraisal(seed: int, n: int, districts: tuple[str, ...] = ("D1", "D2", "D3"),
                        units: pd.DataFrame = UNITS) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Responses, city (全市) margins and district margins; skewed sample so raking matters."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["男", "女"], n, p=[0.4, 0.6])
    age = rng.choice(AGES, n, p=[0.1, 0.15, 0.2, 0.25, 0.3])
    district = rng.choice(districts, n, p=np.arange(1, len(districts) + 1) / sum(range(1, len(districts) + 1)))
    frame = pd.DataFrame({"response_id": [f"A{seed % 1000:03d}{i:05d}" for i in range(n)], "wave": "2025A",
                          "unit": district, "mode": rng.choice(["phone", "web"], n), "sex": sex, "age_group": age})
    lean = rng.normal(0.2, 0.6, n) + 0.35 * (age == "60+") - 0.2 * (sex == "男")
    for k, uid in enumerate(units["id"]):
        p_aware = [0.7, 0.45, 0.3, 0.25, 0.55, 0.12, 0.08, 0.5, 0.6][k % 9]
        aware = np.where(rng.random(n) < p_aware + 0.1 * (age == "60+"), 1, 2)
        aware = np.where(rng.random(n) < 0.01, np.nan, aware)  # an odd missing awareness answer
        latent = 3.3 + lean + 0.15 * (k % 4) - 0.3 * (k == 3) + rng.normal(0, 0.8, n)
        rating = np.clip(np.round(latent), 1, 5)
        rating = np.where(rng.random(n) < 0.07, 9, rating)
        frame[f"{uid}_aware"] = aware
        frame[uid] = np.where(aware == 1, rating, np.nan)
    shares_sex = {"男": 0.51, "女": 0.49}
    shares_age = dict(zip(AGES, [0.2, 0.24, 0.22, 0.17, 0.17]))
    city_total, rows, city = 3_500_000, [], []
    for d_i, d in enumerate(districts):
        total = 300_000 + 150_000 * d_i
        men = round(total * (shares_sex["男"] + 0.01 * (d_i - 1)))
        rows += [(d, "sex", "男", men), (d, "sex", "女", total - men)]
        rows += [(d, "age_group", a, total * p) for a, p in shares_age.items()]
    for s, p in shares_sex.items():
        city.append(("全市", "sex", s, city_total * p))
    for a, p in shares_age.items():
        city.append(("全市", "age_group", a, city_total * p))
    cols = ["unit", "variable", "category", "population"]
    return frame, pd.DataFrame(city, columns=cols), pd.DataFrame(rows, columns=cols)
