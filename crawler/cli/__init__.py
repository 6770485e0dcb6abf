"""The ``xxgk`` command line: one click group, one module per area.

Each module defines click commands and is registered here; the library functions they call are
the same ones scripts can import (the sqlite-utils idea: CLI and library do the same things).
"""

from __future__ import annotations

import importlib

import click

# module → attribute names of click commands to add to the group
COMMAND_MODULES: dict[str, list[str]] = {
    "crawler.cli.parse_cmd": ["parse"],
    "crawler.cli.db_cmd": ["db", "verify", "chain", "reparse"],
    "crawler.cli.lookup_cmd": ["agency", "resolve_agencies", "report", "history", "flags", "coverage", "export", "serve"],
    "crawler.cli.simulate_cmd": ["simulate"],
    "crawler.cli.crawl_cmd": ["crawl", "demo", "work"],
    "crawler.cli.status_cmd": ["status"],
}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="xxgk-archive")
def main() -> None:
    """xxgk: archive, parse and serve Chinese government information-disclosure annual reports."""
    from parsers.fuzzing import quiet_third_party_loggers

    quiet_third_party_loggers()


def _register() -> None:
    for module_name, names in COMMAND_MODULES.items():
        module = importlib.import_module(module_name)
        for name in names:
            main.add_command(getattr(module, name))


_register()
