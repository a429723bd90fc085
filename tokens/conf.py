"""The token manager configured from Django settings (the only Django import here).

Settings (all from the environment, see ``ramis/settings.py``):

* ``PKCS11_MODULE``: the PKCS#11 library (default SoftHSM2).
* ``SOFTHSM_DIR``: SoftHSM's configuration file and ``tokens/`` directory
  (embedded default ``var/softhsm``); ignored for other modules.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from .config import DEFAULT_MODULE, TokenConfig
from .manager import TokenManager


def token_config() -> TokenConfig:
    module = getattr(settings, "PKCS11_MODULE", DEFAULT_MODULE)
    softhsm_dir = Path(getattr(settings, "SOFTHSM_DIR", Path(settings.BASE_DIR) / "var" / "softhsm"))
    return TokenConfig(
        module=module,
        softhsm_conf=softhsm_dir / "softhsm2.conf",
        softhsm_token_dir=softhsm_dir / "tokens",
    )


def get_manager() -> TokenManager:
    """A manager for the configured module (cheap; the sessions are cached per process)."""
    return TokenManager(token_config())
