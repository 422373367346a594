"""The `carepath` command line (Typer + Rich). Commands call actions, never HTTP routes."""
