"""Secrets (webhook URLs, signing secrets, the SMTP password) from the environment or Streamlit secrets.

Never from YAML in the repository: a channel names the variable, and its value is looked up as
``os.environ[NAME]``, else ``NAME = "..."`` at the top of ``.streamlit/secrets.toml`` (the project's,
then the user's ``~/.streamlit/secrets.toml``), the files Streamlit's ``st.secrets`` reads, so the
app and ``finlens alerts serve`` share one configuration. Values are never printed.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from finlens_common.settings import PROJECT_ROOT, environment_value


def secrets_files() -> list[Path]:
    return [
        Path.cwd() / ".streamlit" / "secrets.toml",
        PROJECT_ROOT / ".streamlit" / "secrets.toml",
        Path.home() / ".streamlit" / "secrets.toml",
    ]


def secret(name: str) -> str | None:
    """The value of ``name``: the environment first, then Streamlit's secrets files; None when nowhere."""
    value = environment_value(name)
    if value:
        return value
    for path in dict.fromkeys(p.resolve() for p in secrets_files() if p.is_file()):
        try:
            document = tomllib.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        found = document.get(name)
        if isinstance(found, str) and found:
            return found
    return None
