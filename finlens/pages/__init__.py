"""The app's pages: one Streamlit script per page, with the queries and words only that page uses (see README.md)."""

from __future__ import annotations
