"""`python -m carepath.cli` is the same as `carepath`."""

from carepath.cli.main import run

run()
