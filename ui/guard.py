"""The one place where errors of a page end: a Chinese message with a reference id, never a traceback.

Streamlit's own error box is switched off (`client.showErrorDetails = "none"` in
.streamlit/config.toml) because it shows residents server paths. Instead every page runs
inside `run_guarded` (streamlit_app.py wraps the navigation, which includes /survey): the
traceback goes to the server log under a short reference id, and the screen shows the id
so a supervisor can quote it to the operator.
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

from survey import i18n
from survey.contacts import KeyProblem

log = logging.getLogger("survey.app")


def new_reference() -> str:
    """A short id that names one error in the server log (not guessable, not a counter)."""
    return secrets.token_hex(4).upper()


def run_guarded(body: Callable[[], object]) -> None:
    """Run a page; st.stop / st.rerun pass through, any other error becomes a message + log line."""
    try:
        body()
    except ScriptControlException:
        raise
    except KeyProblem as err:  # the operator's problem, named in the log; residents see the generic text
        ref = new_reference()
        log.error("page error %s: %s", ref, err)
        st.error(i18n.t("security.page_error", lang=st.session_state.get("lang", i18n.DEFAULT_LANG), ref=ref))
    except Exception:  # noqa: BLE001 - the last line of defence of a page
        ref = new_reference()
        log.exception("page error %s", ref)
        st.error(i18n.t("security.page_error", lang=st.session_state.get("lang", i18n.DEFAULT_LANG), ref=ref))
