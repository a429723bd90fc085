"""Where the PKCS#11 module and (for SoftHSM) its token store live.

The embedded default is SoftHSM2 with its configuration file and token
directory under ``var/softhsm`` of the project root. SoftHSM reads
``SOFTHSM2_CONF`` when the module is *loaded* (C_Initialize), so
:func:`prepare_softhsm` must run before the first PKCS#11 call of the process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODULE = "/usr/lib/softhsm/libsofthsm2.so"


@dataclass(frozen=True)
class TokenConfig:
    """PKCS#11 settings: the module, and SoftHSM's files when it is SoftHSM."""

    module: str = DEFAULT_MODULE
    softhsm_conf: Path | None = None
    softhsm_token_dir: Path | None = None

    @classmethod
    def embedded(cls, project_root: Path | str, module: str = DEFAULT_MODULE) -> TokenConfig:
        root = Path(project_root)
        return cls(
            module=module,
            softhsm_conf=root / "var" / "softhsm" / "softhsm2.conf",
            softhsm_token_dir=root / "var" / "softhsm" / "tokens",
        )

    @property
    def is_softhsm(self) -> bool:
        return "softhsm" in Path(self.module).name.lower()


def prepare_softhsm(conf: Path | str, token_dir: Path | str) -> Path:
    """Write SoftHSM's configuration (if it differs) and point SOFTHSM2_CONF at it.

    Idempotent. Returns the configuration path. The token directory is
    created with mode 0700: it holds the (PIN-encrypted) key material.
    """
    conf = Path(conf).resolve()
    token_dir = Path(token_dir).resolve()
    token_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    conf.parent.mkdir(parents=True, exist_ok=True)
    text = (
        "# Written by tokens.config.prepare_softhsm\n"
        f"directories.tokendir = {token_dir}\n"
        "objectstore.backend = file\n"
        "log.level = ERROR\n"
        "slots.removable = false\n"
    )
    if not conf.exists() or conf.read_text() != text:
        # Atomically: a process starting meanwhile reads the old file or the new one, never a
        # half-written one (SoftHSM would fall back to its default token directory).
        tmp = conf.with_name(f".{conf.name}.{os.getpid()}")
        tmp.write_text(text)
        os.replace(tmp, conf)
    os.environ["SOFTHSM2_CONF"] = str(conf)
    return conf


def apply(config: TokenConfig) -> None:
    """Prepare the environment for ``config`` (SoftHSM only; no-op otherwise)."""
    if config.softhsm_conf is not None and config.softhsm_token_dir is not None:
        prepare_softhsm(config.softhsm_conf, config.softhsm_token_dir)
