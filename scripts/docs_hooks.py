"""MkDocs hooks for the documentation site (`make docs`, mkdocs.yml ``hooks:``).

* Two reference pages are generated at build time, never committed:
  ``operator/configuration.md`` from ``ramis/settings.py`` and the files it star-imports
  (``ramis/settings_enamad.py``): every ``env_*("NAME", default)`` call
  with its default and the comment directly above it, grouped by the file's
  ``# --- Section ---`` headings) and ``operator/commands.md`` from the management commands'
  own argparse parsers (and the Celery beat schedule from the settings).
* Pages under ``user/`` (the Persian user guide), and any page whose front matter says
  ``lang: fa``, are rendered right-to-left in Persian; the rest is English, left-to-right.

The functions that read the settings and the commands import nothing from MkDocs, so the tests
use them directly (``tests/docs/``).
"""

from __future__ import annotations

import ast
import operator
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE = ROOT / "ramis" / "settings.py"
# The pages this file writes, relative to docs/ (links to them are valid though no file exists).
GENERATED_PAGES = ("operator/configuration.md", "operator/commands.md")
# The readers of ramis/env.py; any other env_<kind>() added there is read too, as <kind>.
READERS = {"env_str": "text", "env_int": "integer", "env_bool": "boolean", "env_list": "list",
           "env_float": "number"}
READER = re.compile(r"^env_[a-z]+$")
READER_DEFAULTS = {"env_str": '""', "env_bool": "False"}
HEADING = re.compile(r"^#\s*---\s*(?P<title>.+?)\s*-*\s*$")
RTL_SECTIONS = ("user/",)


# --- The configuration reference ---------------------------------------------------------------

def section_title(heading: str) -> str:
    """A settings heading as a page heading: without the parentheses that only name files."""
    return re.sub(r"\s*\([^()]*/[^()]*\)", "", heading).strip()


@dataclass
class EnvSetting:
    name: str  # the environment variable
    kind: str  # text, integer, boolean, list, pairs
    default: str  # the default as written in settings.py (a Python expression)
    target: str  # the Django setting it feeds, e.g. SESSION_COOKIE_AGE or CA_ROOT["pin"]
    section: str
    comment: str
    line: int
    also: list[str] = field(default_factory=list)  # further settings fed by the same variable


def _comment_above(lines: list[str], lineno: int) -> list[str]:
    """The contiguous ``#`` lines directly above line ``lineno`` (1-based), headings excluded."""
    out: list[str] = []
    i = lineno - 2
    while i >= 0:
        text = lines[i].strip()
        if not text.startswith("#") or HEADING.match(text):
            break
        out.append(text.lstrip("#").strip())
        i -= 1
    return list(reversed(out))


def _inline_comment(line: str) -> str:
    """A trailing ``# comment`` on a line of code (not one inside a string)."""
    try:
        import io
        import tokenize

        for tok in tokenize.generate_tokens(io.StringIO(line).readline):
            if tok.type == tokenize.COMMENT:
                return tok.string.lstrip("#").strip()
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return ""
    return ""


def _subscript_path(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> tuple[str, ast.AST | None]:
    """The assignment target a call feeds (``CA_ROOT["pin"]``) and the statement it is in."""
    keys: list[str] = []
    child, parent = node, parents.get(node)
    while parent is not None and not isinstance(child, ast.stmt):
        if isinstance(parent, ast.Dict) and child in parent.values:
            key = parent.keys[parent.values.index(child)]
            keys.append(f'["{key.value}"]' if isinstance(key, ast.Constant) else "[…]")
        child, parent = parent, parents.get(parent)
    stmt = child if isinstance(child, ast.stmt) else None
    target = ""
    if isinstance(stmt, ast.Assign):
        target = ast.unparse(stmt.targets[0])
    elif isinstance(stmt, ast.AnnAssign | ast.AugAssign):
        target = ast.unparse(stmt.target)
    if target and keys:
        target += "".join(reversed(keys))
    return target, stmt


def _local_readers(tree: ast.Module) -> dict[str, str]:
    """Helper functions in settings.py that pass their first parameter to an ``env_*`` reader."""
    found: dict[str, str] = {}
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef) or not fn.args.args:
            continue
        param = fn.args.args[0].arg
        for call in ast.walk(fn):
            if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and READER.match(call.func.id)
                    and call.args and isinstance(call.args[0], ast.Name) and call.args[0].id == param):
                found[fn.name] = "pairs" if "pairs" in fn.name else READERS.get(call.func.id, "text")
    return found


_ARITH = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv}


def _number(node: ast.AST) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        left, right = _number(node.left), _number(node.right)
        if left is not None and right is not None:
            return _ARITH[type(node.op)](left, right)
    return None


def read_settings(path: Path = SETTINGS_FILE) -> list[EnvSetting]:
    """Every environment variable ``ramis/settings.py`` reads, in file order, one entry per name;
    where it imports every name of a sibling file (``from .settings_enamad import *``), that file's
    are read there."""
    found: dict[str, EnvSetting] = {}
    for setting in _read_file(path, "General"):
        seen = found.get(setting.name)
        if seen is None:
            found[setting.name] = setting
        elif (setting.target and not setting.target.startswith("_")  # a file's own helper, not a setting
              and setting.target not in seen.also and setting.target != seen.target):
            seen.also.append(setting.target)
    return list(found.values())


def _star_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, module) of each ``from .<module> import *`` at the top level."""
    return [(node.lineno, node.module) for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module
            and [a.name for a in node.names] == ["*"]]


def _read_file(path: Path, section_before: str) -> list[EnvSetting]:
    """The readers' calls of one settings file in file order (a name may come more than once), the
    files it star-imports read where they stand; before the file's first heading, ``section_before``."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    readers = {name: READERS.get(name, name.removeprefix("env_"))
               for name in {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and READER.match(n.id)}}
    readers |= _local_readers(tree)
    headings = [(i + 1, section_title(m["title"])) for i, text in enumerate(lines)
                if (m := HEADING.match(text.strip()))]
    local_fns = {fn for fn in tree.body if isinstance(fn, ast.FunctionDef)}

    def section_at(lineno: int) -> str:
        return next((title for line, title in reversed(headings) if line < lineno), section_before)

    out: list[EnvSetting] = []
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
             and n.func.id in readers and n.args and isinstance(n.args[0], ast.Constant)
             and isinstance(n.args[0].value, str)]
    items = [(c.lineno, c.col_offset, c) for c in calls] + [(line, 0, module) for line, module in _star_imports(tree)]
    for lineno, _col, call in sorted(items, key=lambda item: item[:2]):
        if isinstance(call, str):  # a sibling file's settings, read here
            out += _read_file(path.parent / f"{call}.py", section_at(lineno))
            continue
        if any(fn.lineno <= call.lineno <= (fn.end_lineno or fn.lineno) for fn in local_fns):
            continue
        name = call.args[0].value
        reader = call.func.id
        if len(call.args) > 1:
            default_node = call.args[1]
        else:
            default_node = next((k.value for k in call.keywords if k.arg == "default"), None)
        default = ast.get_source_segment(source, default_node) if default_node is not None else None
        if default is None:
            default = READER_DEFAULTS.get(reader, "{}" if readers[reader] == "pairs" else "[]")
        elif (value := _number(default_node)) is not None and not isinstance(default_node, ast.Constant):
            default = f"{value}  # {default}"
        target, stmt = _subscript_path(call, parents)
        comment = _comment_above(lines, call.lineno)
        if not comment and isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.lineno != call.lineno:
            # an entry of a multi-line statement (a dict of settings) without a comment of its own:
            # the comment above the statement describes it
            comment = _comment_above(lines, stmt.lineno)
        inline = _inline_comment(lines[call.lineno - 1])
        text = " ".join(comment + ([inline] if inline else []))
        out.append(EnvSetting(name=name, kind=readers[reader], default=default, target=target,
                              section=section_at(call.lineno), comment=text, line=call.lineno))
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _default_cell(default: str) -> str:
    m = re.fullmatch(r'(?P<prod>.+?) if _?PRODUCTION else (?P<dev>.+)', default)
    if m:
        return f"`{_cell(m['dev'])}` (development), `{_cell(m['prod'])}` (production)"
    m = re.fullmatch(r"(?P<value>-?\d+)  # (?P<expr>.+)", default)
    if m:
        return f"`{m['value']}` (`{_cell(m['expr'])}`)"
    return f"`{_cell(default)}`"


def configuration_markdown(settings: list[EnvSetting] | None = None) -> str:
    settings = read_settings() if settings is None else settings
    out = [
        "# Configuration reference",
        "",
        "<!-- Generated by scripts/docs_hooks.py from ramis/settings.py (and ramis/settings_enamad.py) at "
        "build time: edit the settings' "
        "comments, not this page. -->",
        "",
        "Every setting comes from the environment (12-factor); the default is the embedded development "
        "setup that `make run` needs, so a development machine needs none of them. Booleans are "
        "`1`/`0`, `true`/`false`, `yes`/`no` or `on`/`off` (anything else stops the start with one line); "
        "lists are comma-separated; *pairs* are `KEY=VALUE` items, comma-separated. "
        "`RAMIS_ENV=production` changes the defaults marked *(production)* below and turns on HTTPS-only "
        "cookies, HSTS and the SSL redirect; `manage.py check --deploy` checks what a production start "
        "needs.",
        "",
        f"This page lists the {len(settings)} variables `ramis/settings.py` reads (e-Namad's in "
        "`ramis/settings_enamad.py`, which it imports), grouped as in that file, each with its default "
        "(as written there) and the comment above it.",
        "",
    ]
    by_section: dict[str, list[EnvSetting]] = {}
    for s in settings:
        by_section.setdefault(s.section, []).append(s)
    for section, items in by_section.items():
        out += [f"## {section}", "", "| variable | default | meaning |", "|---|---|---|"]
        for s in items:
            meaning = _cell(s.comment) if s.comment else "*(no comment in settings.py)*"
            feeds = [t for t in [s.target, *s.also] if t and t != s.name]
            if feeds:
                meaning += " — sets " + ", ".join(f"`{_cell(t)}`" for t in feeds)
            kind = "" if s.kind == "text" else f" *({s.kind})*"
            out.append(f"| `{s.name}`{kind} | {_default_cell(s.default)} | {meaning} |")
        out.append("")
    return "\n".join(out)


# --- The commands reference --------------------------------------------------------------------

PROJECT_APPS = ("ramis", "certauth", "tokens", "enamad")
DJANGO_COMMON_OPTIONS = {"--version", "--verbosity", "--settings", "--pythonpath", "--traceback",
                         "--no-color", "--force-color", "--skip-checks", "--help"}


def _django_setup() -> None:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ramis.settings")
    django.setup()


def project_commands() -> dict[str, str]:
    """``{command name: app}`` for the management commands the project's own apps define."""
    from django.core.management import get_commands

    _django_setup()
    return {name: app for name, app in sorted(get_commands().items())
            if app.split(".")[0] in PROJECT_APPS}


def _arguments_table(parser) -> list[str]:
    import argparse

    rows = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
            continue
        if set(action.option_strings) & DJANGO_COMMON_OPTIONS:
            continue
        name = ", ".join(action.option_strings) or action.dest
        if action.metavar or action.option_strings and action.nargs != 0:
            name += " " + (action.metavar or action.dest.upper())
        help_text = (action.help or "").replace("%(default)s", str(action.default))
        extras = []
        if action.choices:
            extras.append("one of " + ", ".join(f"`{c}`" for c in action.choices))
        if action.required and action.option_strings:
            extras.append("required")
        if action.default not in (None, False, argparse.SUPPRESS, "", []) and action.nargs != 0:
            extras.append(f"default `{action.default}`")
        if action.nargs in ("*", "+"):
            extras.append("repeatable")
        detail = "; ".join(x for x in [help_text, *extras] if x)
        rows.append(f"| `{_cell(name)}` | {_cell(detail) or '—'} |")
    if not rows:
        return []
    return ["| argument | meaning |", "|---|---|", *rows, ""]


def _command_sections(prog: str, parser, level: int) -> list[str]:
    import argparse

    out = []
    usage = parser.format_usage().strip().removeprefix("usage: ")
    usage = re.sub(r"\s+", " ", usage)
    # Django's common options are left out (see the page's introduction).
    usage = re.sub(r" \[(-h|-v \{0,1,2,3\}|--[a-z-]+(?: [A-Z_]+)?)\]",
                   lambda m: "" if m[1].split()[0] in DJANGO_COMMON_OPTIONS | {"-h", "-v"} else m[0], usage)
    out += ["```sh", usage, "```", ""]
    out += _arguments_table(parser)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for sub_name, sub_parser in action.choices.items():
                out += [f"{'#' * (level + 1)} `{prog} {sub_name}`", ""]
                if helps.get(sub_name):
                    out += [helps[sub_name][0].upper() + helps[sub_name][1:] + ".", ""]
                out += _command_sections(f"{prog} {sub_name}", sub_parser, level + 1)
    return out


def commands_markdown() -> str:
    from django.conf import settings
    from django.core.management import load_command_class

    commands = project_commands()
    out = [
        "# Commands reference",
        "",
        "<!-- Generated by scripts/docs_hooks.py from the commands' argparse parsers at build time: edit "
        "the commands' help texts, not this page. -->",
        "",
        "The project's own `manage.py` commands (run them as `.venv/bin/python manage.py NAME` in a "
        "checkout, or `docker compose run --rm SERVICE python manage.py NAME` in production — the "
        "`signing` service for the commands that need the CA's PINs). Each prints what it did; a failure "
        "is one line on stderr and a non-zero exit. Django's own options (`--verbosity`, `--settings`, "
        "`--traceback` …) are left out.",
        "",
        "| command | app | what it does |",
        "|---|---|---|",
    ]
    parsers = {}
    for name, app in commands.items():
        command = load_command_class(app, name)
        parsers[name] = (command, command.create_parser("manage.py", name))
        summary = (command.help or "").strip().split("\n")[0]
        out.append(f"| [`{name}`](#{name.replace('_', '-')}) | `{app}` | {_cell(summary)} |")
    out.append("")
    for name, (command, parser) in parsers.items():
        out += [f"## `{name}` {{ #{name.replace('_', '-')} }}", ""]
        if command.help:
            out += [re.sub(r"\s+", " ", command.help.strip()), ""]
        out += _command_sections(f"manage.py {name}", parser, 2)
    out += [
        "## Scheduled tasks (Celery beat)",
        "",
        "`celery -A ramis beat` queues these; tasks named `ramis.ca.*` (and the desk's `ca_sign`) go to "
        f"the `{settings.CELERY_TASK_ROUTES.get('ramis.ca.tasks.*', {}).get('queue', 'signing')}` queue, "
        "whose worker alone holds the CA tokens' PINs; the rest to `default`.",
        "",
        "| entry | task | every |",
        "|---|---|---|",
    ]
    for entry, spec in settings.CELERY_BEAT_SCHEDULE.items():
        every = spec.get("schedule")
        if isinstance(every, int | float):
            seconds = int(every)
            every = (f"{seconds // 3600} h" if seconds % 3600 == 0 else
                     f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s")
        out.append(f"| `{entry}` | `{spec['task']}` | {every} |")
    out.append("")
    return "\n".join(out)


# --- MkDocs events -----------------------------------------------------------------------------

def on_files(files, config):
    from mkdocs.structure.files import File

    pages = {"operator/configuration.md": configuration_markdown, "operator/commands.md": commands_markdown}
    for src_uri, render in pages.items():
        existing = files.get_file_from_path(src_uri)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, src_uri, content=render()))
    return files


def is_rtl(src_uri: str, meta: dict) -> bool:
    lang = (meta or {}).get("lang")
    if lang:
        return lang == "fa"
    return src_uri.startswith(RTL_SECTIONS)


def on_post_page(output: str, page, config) -> str:
    if not is_rtl(page.file.src_uri, page.meta):
        return output
    output = re.sub(r'<html lang="[^"]*"', '<html lang="fa" dir="rtl"', output, count=1)
    return re.sub(r'<body dir="ltr"', '<body dir="rtl"', output, count=1)
