"""The configuration reference is generated from ramis/settings.py: every environment variable the
settings read is on the page, with its default and the comment directly above it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

from .conftest import ROOT

# Imports the settings with os.environ replaced by a mapping that records every name asked for,
# whichever way it is read (env_*() helpers, os.environ.get, [], in).
SPY = textwrap.dedent("""
    import json, os, sys
    asked = set()
    OURS = (os.path.join("ramis", "settings.py"), os.path.join("ramis", "settings_enamad.py"),
            os.path.join("ramis", "env.py"))
    def note(key):
        # only what the settings (directly or through ramis/env.py) ask for, not the libraries they import
        if sys._getframe(2).f_code.co_filename.endswith(OURS):
            asked.add(key)
    class Spy(dict):
        def get(self, key, default=None):
            note(key); return super().get(key, default)
        def __getitem__(self, key):
            note(key); return super().__getitem__(key)
        def __contains__(self, key):
            note(key); return super().__contains__(key)
    os.environ = Spy(os.environ)
    import ramis.settings
    print(json.dumps(sorted(asked)))
""")


def variables_read_at_import(**env) -> set[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("RAMIS_", "DJANGO_"))}
    run = subprocess.run([sys.executable, "-c", SPY], capture_output=True, text=True, cwd=ROOT,
                         env={**clean, **env}, timeout=120)
    assert run.returncode == 0, run.stderr
    return set(json.loads(run.stdout.strip().splitlines()[-1]))


def test_every_variable_the_settings_read_is_on_the_generated_page(docs_hooks):
    page = docs_hooks.configuration_markdown()
    listed = set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)`", page, re.MULTILINE))
    source = "".join((ROOT / "ramis" / name).read_text(encoding="utf-8")
                     for name in ("settings.py", "settings_enamad.py"))
    named_in_source = set(re.findall(r"\benv_[a-z]+\(\s*\"([A-Z][A-Z0-9_]*)\"", source))
    read = (variables_read_at_import()  # the development defaults
            | variables_read_at_import(RAMIS_ENV="production", SECRET_KEY="x" * 50)
            | named_in_source)
    read -= {"DJANGO_SETTINGS_MODULE"}  # names the settings module; not a setting of ours
    assert len(read) > 100
    assert not read - listed, f"read by ramis/settings.py but not on the page: {sorted(read - listed)}"
    assert not listed - read, f"on the page but never read: {sorted(listed - read)}"


def test_every_setting_has_a_comment_and_each_section_its_heading(docs_hooks):
    settings = docs_hooks.read_settings()
    uncommented = [s.name for s in settings if not s.comment]
    assert not uncommented, ("give these settings a one-line comment directly above them in "
                             f"ramis/settings.py (it becomes their documentation): {uncommented}")
    page = docs_hooks.configuration_markdown(settings)
    headings = re.findall(r"^## (.+)$", page, re.MULTILINE)
    source = (ROOT / "ramis" / "settings.py").read_text(encoding="utf-8")
    in_file = [docs_hooks.section_title(m.group(1))
               for m in re.finditer(r"^# --- (.+?) -*$", source, re.MULTILINE)]
    assert headings == [h for h in ["General", *in_file] if h in headings]
    assert {"Database", "e-Namad (trust seal)", "PKI: tokens (PKCS#11) and the CA", "RAMIS requests"} <= set(headings)
    # a value a reader can check against settings.py
    row = next(line for line in page.splitlines() if line.startswith("| `SESSION_IDLE_SECONDS`"))
    assert "`1800` (`30 * 60`)" in row and "without a request" in row and "`SESSION_COOKIE_AGE`" in row


def test_the_reader_takes_defaults_comments_and_targets_as_written(tmp_path, docs_hooks):
    settings_file = tmp_path / "settings.py"
    settings_file.write_text(textwrap.dedent('''
        from .env import env_bool, env_float, env_int, env_list, env_str

        def _env_pairs(name):
            return dict(item.split("=") for item in env_list(name, []))

        # Where things live.
        VAR_DIR = env_str("RAMIS_VAR_DIR", "var")
        PRODUCTION = False

        # --- Tokens ---------------------------------------------------------------
        # User PIN of the CA token: the signing worker only.
        PIN = env_str("CA_PIN", "" if PRODUCTION else "1234")
        # The CA's token and its key.
        CA = {
            # Label of the CA's token.
            "token": env_str("CA_TOKEN", "ramis"),
            "key_type": env_str("CA_KEY_TYPE", "rsa2048"),
        }
        TIMEOUT = env_int("TIMEOUT_SECONDS", 5 * 60)  # per call
        # Seconds, a float.
        WAIT = env_float("WAIT_SECONDS", 0.5)
        MODULES = _env_pairs("MODULES")
        FLAG = env_bool("FLAG")
        if PRODUCTION:
            REDIRECT = env_bool("SSL_REDIRECT", True)
    '''), encoding="utf-8")
    found = {s.name: s for s in docs_hooks.read_settings(settings_file)}
    assert list(found) == ["RAMIS_VAR_DIR", "CA_PIN", "CA_TOKEN", "CA_KEY_TYPE", "TIMEOUT_SECONDS", "WAIT_SECONDS", "MODULES",
                           "FLAG", "SSL_REDIRECT"]
    assert (found["WAIT_SECONDS"].kind, found["WAIT_SECONDS"].default) == ("number", "0.5")
    assert found["RAMIS_VAR_DIR"].section == "General" and found["RAMIS_VAR_DIR"].comment == "Where things live."
    assert found["RAMIS_VAR_DIR"].target == "VAR_DIR"
    pin = found["CA_PIN"]
    assert (pin.section, pin.comment, pin.default) == ("Tokens", "User PIN of the CA token: the signing worker only.",
                                                        '"" if PRODUCTION else "1234"')
    assert found["CA_TOKEN"].target == 'CA["token"]' and found["CA_TOKEN"].comment == "Label of the CA's token."
    # an entry without a comment of its own takes the comment above its statement
    assert found["CA_KEY_TYPE"].comment == "The CA's token and its key."
    assert (found["TIMEOUT_SECONDS"].default, found["TIMEOUT_SECONDS"].comment) == ("300  # 5 * 60", "per call")
    assert (found["MODULES"].kind, found["MODULES"].default) == ("pairs", "{}")
    assert (found["FLAG"].kind, found["FLAG"].default, found["FLAG"].comment) == ("boolean", "False", "")
    page = docs_hooks.configuration_markdown(list(found.values()))
    assert '| `CA_PIN` | `"1234"` (development), `""` (production) | User PIN' in page
    assert "| `FLAG` *(boolean)* | `False` | *(no comment in settings.py)* |" in page



def test_a_sibling_settings_file_is_read_where_it_is_imported(tmp_path, docs_hooks):
    """ramis/settings.py keeps e-Namad's section in ramis/settings_enamad.py and imports every name
    of it: its settings are on the page where the import stands, under the section they are in."""
    (tmp_path / "settings_part.py").write_text(textwrap.dedent('''
        from .env import env_int, env_str

        _PRODUCTION = env_str("RAMIS_ENV", "development") == "production"
        # Secret of the part's callbacks.
        PART_SECRET = env_str("PART_SECRET", "" if _PRODUCTION else "dev")

        # --- The part's own heading ---------------------------------------------------
        # How many.
        PART_COUNT = env_int("PART_COUNT", 3)
    '''), encoding="utf-8")
    settings_file = tmp_path / "settings.py"
    settings_file.write_text(textwrap.dedent('''
        from .env import env_str

        # Which environment.
        RAMIS_ENV = env_str("RAMIS_ENV", "development")

        # --- The part -----------------------------------------------------------------
        from .settings_part import *

        # --- After ------------------------------------------------------------------------
        # Last.
        LAST = env_str("LAST", "z")
    '''), encoding="utf-8")
    found = {s.name: s for s in docs_hooks.read_settings(settings_file)}
    assert list(found) == ["RAMIS_ENV", "PART_SECRET", "PART_COUNT", "LAST"]
    assert [found[n].section for n in found] == ["General", "The part", "The part's own heading", "After"]
    assert found["RAMIS_ENV"].also == []  # the part's private helper is not a setting it feeds
    page = docs_hooks.configuration_markdown(list(found.values()))
    assert '| `PART_SECRET` | `"dev"` (development), `""` (production) | Secret of the part\'s callbacks. |' in page


def test_the_commands_reference_lists_every_project_command(docs_hooks):
    from django.core.management import get_commands

    page = docs_hooks.commands_markdown()
    ours = {name for name, app in get_commands().items() if app.split(".")[0] in docs_hooks.PROJECT_APPS}
    assert {"ca", "token", "seed_demo", "enamad_seals", "workstation", "audit"} <= ours
    for name in ours:
        assert f"## `{name}`" in page, name
    assert "### `manage.py ca revoke`" in page and "`--serial SERIAL` | hexadecimal serial; required" in page
    assert "| `ca-ocsp-refresh` | `ramis.ca.tasks.ocsp_refresh_due` | 15 min |" in page
    assert "--verbosity" not in page.split("left out.", 1)[1]  # Django's own options are left out
