"""Hypothesis tests on interviews as clusters, used by QC's pollster-outlier check.

They live in analysis/ (pure functions on arrays) so survey/quality.py calls them rather than
holding statistics of its own. Holm's adjustment is the one of analysis.ranking.
"""
from __future__ import annotations

import numpy as np

from analysis.ranking import holm

__all__ = ["cluster_chi2", "holm", "share_and_cov"]


def share_and_cov(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Answer shares of a group of interviews and their covariance, interviews as clusters.

    Ratio linearization (as for a rate in METHODS §2): z_i = (y_i − p·m_i) / Σm, and
    V = n/(n−1) · Σ z_i z_iᵀ, so correlated answers of one respondent are not taken for
    independent observations.
    """
    m = counts.sum(axis=1)
    total = m.sum()
    p = counts.sum(axis=0) / total
    z = (counts - np.outer(m, p)) / total
    n = len(counts)
    return p, z.T @ z * n / (n - 1)


def cluster_chi2(mine: np.ndarray, rest: np.ndarray) -> float:
    """p-value of the Wald chi-square test that two groups of interviews share one answer distribution."""
    from scipy.stats import chi2
    keep = (mine.sum(axis=0) + rest.sum(axis=0)) > 0
    mine, rest = mine[:, keep], rest[:, keep]
    k = mine.shape[1]
    if k < 2:
        return 1.0
    p1, v1 = share_and_cov(mine)
    p2, v2 = share_and_cov(rest)
    d = (p1 - p2)[:-1]            # shares sum to one: drop the last bin
    v = (v1 + v2)[:-1, :-1]
    stat = float(d @ np.linalg.pinv(v) @ d)
    return float(chi2.sf(stat, np.linalg.matrix_rank(v)))
