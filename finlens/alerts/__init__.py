"""Alerts and subscriptions at run time: storing verdicts, incidents, messages, delivery and the schedule.

The specs come from ``semantic/catalog/notifications.py``, the verdicts from
``semantic/analyses/alert_eval.py``; this package decides what to say, renders it and sends it.
"""

from __future__ import annotations
