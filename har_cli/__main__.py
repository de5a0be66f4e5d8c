"""``python -m har_cli``: the same as the ``har`` console script."""

from har_cli.app import run

run()
