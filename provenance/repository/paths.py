"""Where the default repository lives."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DEFAULT_FILENAME", "default_repository_path"]

DEFAULT_FILENAME = "manifests.sqlite3"


def default_repository_path() -> Path:
    """``$PROVCHECK_DATA_DIR/manifests.sqlite3``, else the platform's user data dir."""
    env = os.environ.get("PROVCHECK_DATA_DIR")
    if env:
        return Path(env) / DEFAULT_FILENAME
    from platformdirs import user_data_dir

    return Path(user_data_dir("provcheck")) / DEFAULT_FILENAME
