"""Neutral bottom layer shared by `survey/` and `analysis/`: imports nothing of either."""
