"""Load a YAML file into a pydantic model, refusing it whole with every error listed by line and
key (e.g. `line 12: arrivals.0.rate_per_hour: Input should be greater than or equal to 0`).

Used by every config-as-code file: simulations, tenant configuration and strategy maps."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, SequenceNode

from carepath.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)
Loc = tuple[int | str, ...]
# Cross-field rules a schema cannot express (a name used before it is declared): each problem
# as (path, message), reported with its line like any schema error.
Checks = Callable[[M], list[tuple[Loc, str]]]


def load_yaml(path: Path | str, model: type[M], *, checks: Checks[M] | None = None) -> M:
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(
            f"cannot read {source}: {exc.strerror or exc}", path=str(source)
        ) from exc
    return parse_yaml(text, model, source=str(source), checks=checks)


def parse_yaml(
    text: str, model: type[M], *, source: str = "<yaml>", checks: Checks[M] | None = None
) -> M:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = None if mark is None else mark.line + 1
        problem = exc.problem or "not valid YAML"
        error = {"loc": "", "line": line, "message": problem}
        raise InvalidInput(f"{source}: line {line}: {problem}", errors=[error]) from exc
    try:
        parsed = model.model_validate({} if data is None else data)
    except ValidationError as exc:
        problems = [(tuple(error["loc"]), str(error["msg"])) for error in exc.errors()]
        raise _refusal(source, root, problems) from None
    problems = checks(parsed) if checks else []
    if problems:
        raise _refusal(source, root, problems)
    return parsed


def _refusal(source: str, root: Node | None, problems: list[tuple[Loc, str]]) -> InvalidInput:
    errors = [
        {"loc": ".".join(str(part) for part in loc), "line": _line(root, loc), "message": msg}
        for loc, msg in problems
    ]
    lines = [f"  line {e['line'] or '?'}: {e['loc'] or '(top)'}: {e['message']}" for e in errors]
    message = f"{source} is not valid ({len(errors)} errors):\n" + "\n".join(lines)
    return InvalidInput(message, errors=errors)


def _line(root: Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The line of the deepest node on the error's path (the parent when a key is missing)."""
    if root is None:
        return None
    node = root
    for part in loc:
        child = None
        if isinstance(node, MappingNode):
            child = next((v for k, v in node.value if str(k.value) == str(part)), None)
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node = child
    return int(node.start_mark.line) + 1
