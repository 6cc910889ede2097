"""Keyboard-first entry: Enter in a text field moves on to the next field, as keyers expect.

Streamlit has no focus API, so a zero-height component adds one keydown listener to the
app's document (its iframe is same-origin). The listener acts only on fields whose label
the page names, so other pages keep Streamlit's own Enter.
"""
from __future__ import annotations

import json

import streamlit as st

_SCRIPT = """
<script>
const doc = window.parent.document;
doc.__enterNextLabels = %s;
if (!doc.__enterNextInstalled) {
  doc.__enterNextInstalled = true;
  doc.addEventListener('keydown', (event) => {
    const el = event.target;
    if (event.key !== 'Enter' || event.isComposing || !el || el.tagName !== 'INPUT') return;
    if (!(doc.__enterNextLabels || []).includes(el.getAttribute('aria-label'))) return;
    const main = doc.querySelector('[data-testid="stMain"]') || doc.body;
    const label = el.getAttribute('aria-label');
    // after Streamlit's rerun, the fields of this run may have changed: look them up again
    setTimeout(() => {
      const fields = Array.from(main.querySelectorAll(
        'input[type="text"], input[type="number"], textarea, button[data-testid="stBaseButton-primary"]'))
        .filter((f) => !f.disabled && f.offsetParent !== null);
      const at = fields.findIndex((f) => f.getAttribute('aria-label') === label);
      const next = at >= 0 ? fields[at + 1] : null;
      if (next) { next.focus(); if (next.select) next.select(); }
    }, 120);
  }, true);
}
</script>
"""


def enter_moves_on(labels: list[str]) -> None:
    """Enter in any of the fields labelled `labels` focuses the next field (or the primary button)."""
    names = json.dumps(labels, ensure_ascii=False).replace("<", "\\u003c")  # no "</script>" from a label
    st.iframe(_SCRIPT % names, height=1)
