"""Student t and beta quantiles for the confidence intervals, in plain numpy.

Why not scipy: `import scipy.special` alone takes about as long as the whole estimate
once pandas is loaded, and `python -m analysis estimate` is timed as a whole process
(bench/estimate.py). These are the textbook algorithms — the regularised incomplete
beta by its continued fraction (modified Lentz), quantiles by safeguarded Newton
steps — and tests/test_distributions.py checks them against scipy to 1e-12.
"""
from __future__ import annotations

import math

import numpy as np

_EPS = 1e-15
_TINY = 1e-300


def _lbeta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta (Numerical Recipes' betacf, Lentz)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        step = d * c
        h *= step
        if abs(step - 1.0) < _EPS:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(a * math.log(x) + b * math.log1p(-x) - _lbeta(a, b))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def _beta_pdf(a: float, b: float, x: float) -> float:
    return math.exp((a - 1) * math.log(x) + (b - 1) * math.log1p(-x) - _lbeta(a, b))


def beta_ppf(p: float, a: float, b: float) -> float:
    """Quantile of Beta(a, b): Newton steps kept inside a shrinking bracket."""
    if not (a > 0 and b > 0) or math.isnan(p):
        return float("nan")
    lo, hi = 0.0, 1.0
    mean = a / (a + b)
    sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    z = math.sqrt(2) * _erfinv(2 * p - 1)
    x = min(max(mean + z * sd, 1e-12), 1 - 1e-12)
    for _ in range(200):
        f = betainc(a, b, x) - p
        if f > 0:
            hi = x
        else:
            lo = x
        dens = _beta_pdf(a, b, x)
        step = f / dens if dens > 0 else float("inf")
        new = x - step
        if not (lo < new < hi):
            new = 0.5 * (lo + hi)
        if abs(new - x) <= 1e-13 * max(x, 1e-300):
            return new
        x = new
    return x


def t_cdf(t: float, df: float) -> float:
    x = df / (df + t * t)
    tail = 0.5 * betainc(df / 2.0, 0.5, x)
    return 1.0 - tail if t > 0 else tail


def t_ppf(p: float, df: float) -> float:
    """Quantile of Student's t with `df` degrees of freedom (p in (0, 1))."""
    if df <= 0 or math.isnan(df):
        return float("nan")
    if p == 0.5:
        return 0.0
    z = math.sqrt(2) * _erfinv(2 * p - 1)
    g1 = (z ** 3 + z) / 4
    g2 = (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96
    t = z + g1 / df + g2 / df ** 2  # Cornish-Fisher start
    c = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)
    for _ in range(30):
        f = t_cdf(t, df) - p
        dens = c * (1 + t * t / df) ** (-(df + 1) / 2)
        step = f / dens
        t -= step
        if abs(step) <= 1e-12 * max(1.0, abs(t)):  # Newton doubles the digits: the next step is ~1e-24
            break
    return t


def _erfinv(y: float) -> float:
    """Inverse error function (start values only; refined by the Newton steps above)."""
    from statistics import NormalDist
    return NormalDist().inv_cdf((y + 1) / 2) / math.sqrt(2)


def t_quantiles(p: float, df: np.ndarray) -> np.ndarray:
    df = np.asarray(df, dtype=float)
    cache: dict[float, float] = {}
    out = np.empty(df.shape)
    for idx, d in np.ndenumerate(df):
        if d not in cache:
            cache[d] = t_ppf(p, float(d))
        out[idx] = cache[d]
    return out


def beta_quantiles(p: float, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    return np.array([beta_ppf(p, float(x), float(y)) if np.isfinite(x) and np.isfinite(y) else np.nan
                     for x, y in zip(a.ravel(), b.ravel())]).reshape(a.shape)


def normal_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2))


def t_sf(t: float, df: float) -> float:
    """Upper tail P(T > t), computed as a tail (not 1 − cdf), so p-values of 1e-300 stay nonzero."""
    x = df / (df + t * t)
    tail = 0.5 * betainc(df / 2.0, 0.5, x)
    return tail if t > 0 else 1.0 - tail
