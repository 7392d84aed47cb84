"""A business-line board: renders the ``metrics/boards/<name>.yml`` the router picked for this URL."""

from __future__ import annotations

import streamlit as st

from finlens.app import state as app_state
from finlens.app.board import render_board
from finlens.app.filters import current

name = st.session_state.get("finlens_board", "")
boards = app_state.boards()
if name not in boards:
    st.error(f"no board {name!r}; boards: {', '.join(boards)}")
    st.stop()
render_board(boards[name], current())
