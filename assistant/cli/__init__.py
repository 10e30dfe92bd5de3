"""The ``journey`` command line. Every command takes ``--workspace`` and most take ``--json``.

Commands live in one module per area; importing a module registers its commands on ``app``.
"""

from __future__ import annotations

import typer

from assistant.cli import committee, content, customers, demo, imports, journey  # noqa: F401  (register their commands)
from assistant.cli._common import CliError, app, err

__all__ = ["CliError", "app", "main"]


def main() -> None:
    try:
        app(standalone_mode=False)
    except CliError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise SystemExit(2) from None
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        raise SystemExit(130) from None
    except Exception as exc:
        # Usage errors (typer vendors its own click) know how to show themselves.
        if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()  # type: ignore[attr-defined]
            raise SystemExit(exc.exit_code) from None  # type: ignore[attr-defined]
        raise
