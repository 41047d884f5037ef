"""The ``netstrata`` command line (click). Each command lives in its own module and is loaded lazily."""
from __future__ import annotations

from importlib import import_module

import click

# command name -> "module:attribute"; add one line per command.
COMMANDS: dict[str, str] = {
    "demo": "netstrata.cli.demo:demo",
    "validate": "netstrata.cli.validate:validate",
    "compare-extractions": "netstrata.cli.extraction:compare_extractions_cmd",
    "verify-log": "netstrata.cli.extraction:verify_log_cmd",
    "adjudicate": "netstrata.cli.extraction:adjudicate_cmd",
    "run": "netstrata.cli.run:run",
    "report": "netstrata.cli.report:report",
    "simulate": "netstrata.cli.simulate:simulate",
    "init": "netstrata.cli.init:init",
    "vocab": "netstrata.cli.vocab:vocab",
    "template": "netstrata.cli.template:template",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx, name):
        if name in self.commands:
            return self.commands[name]
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name].split(":")
        return getattr(import_module(module), attr)


class _BidiSafe:
    """A text stream that shows bidirectional controls in user strings as ``<U+202E>``
    (netstrata._text.visible_bidi), so a study name cannot reorder what the terminal shows."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("text only")
        from .._text import visible_bidi
        return self._stream.write(visible_bidi(text))

    def __getattr__(self, name):
        if name == "buffer":        # click must write text through write(), not to the bytes below
            raise AttributeError(name)
        return getattr(self._stream, name)


def _guard_bidi(ctx: click.Context) -> None:
    import sys
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _BidiSafe(saved[0]), _BidiSafe(saved[1])

    def restore():
        sys.stdout, sys.stderr = saved
    ctx.call_on_close(restore)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="netstrata")
@click.pass_context
def main(ctx):
    """netstrata: clinically stratified network meta-analysis."""
    _guard_bidi(ctx)


if __name__ == "__main__":  # pragma: no cover
    main()
