"""Intent examples from CSV, YAML or CLINC150 JSON; bad rows are reported by number, all at once."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import yaml

from carepath.errors import InvalidInput

OUT_OF_SCOPE = "oos"
MAX_TEXT_CHARS = 5000
MAX_INTENT_CHARS = 200
MAX_ERRORS_SHOWN = 20
CLINC150_SPLITS = ("train", "val", "test")


class DataFormat(StrEnum):
    CSV = "csv"
    YAML = "yaml"
    CLINC150 = "clinc150"


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    intent: str

    @property
    def in_scope(self) -> bool:
        return self.intent != OUT_OF_SCOPE


@dataclass(frozen=True, slots=True)
class TrainingData:
    """Examples and where they came from; `sha256` is of the file's bytes (plus the split)."""

    examples: tuple[Example, ...]
    source: str
    format: DataFormat
    sha256: str
    split: str | None = None

    @property
    def in_scope(self) -> list[Example]:
        return [e for e in self.examples if e.in_scope]

    @property
    def out_of_scope(self) -> list[Example]:
        return [e for e in self.examples if not e.in_scope]

    def describe(self) -> dict[str, object]:
        return {
            "source": self.source,
            "format": self.format.value,
            "split": self.split,
            "sha256": self.sha256,
            "examples": len(self.examples),
            "oos_examples": len(self.out_of_scope),
            "intents": len({e.intent for e in self.in_scope}),
        }


def guess_format(path: Path) -> DataFormat:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return DataFormat.CSV
    if suffix in {".yaml", ".yml"}:
        return DataFormat.YAML
    if suffix == ".json":
        return DataFormat.CLINC150
    raise InvalidInput(
        f"{path}: cannot tell the format from the name; use .csv, .yaml/.yml or "
        "CLINC150's .json, or name the format explicitly",
        path=str(path),
    )


def load_examples(
    path: Path, *, format: DataFormat | None = None, split: str = "train"
) -> TrainingData:
    """Read examples; `split` applies to CLINC150 only (train/val/test, with its oos_ rows)."""
    fmt = format or guess_format(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read: {exc.strerror}", path=str(path)) from exc
    digest = hashlib.sha256(raw)
    if fmt is DataFormat.CLINC150:
        digest.update(f"\0split={split}".encode())
    text = _decode(path, raw)
    if fmt is DataFormat.CSV:
        rows = _csv_rows(path, text)
    elif fmt is DataFormat.YAML:
        rows = _yaml_rows(path, text)
    else:
        rows = _clinc150_rows(path, text, split)
    examples = _validated(path, rows)
    return TrainingData(
        examples=tuple(examples),
        source=str(path),
        format=fmt,
        sha256=digest.hexdigest(),
        split=split if fmt is DataFormat.CLINC150 else None,
    )


def examples_from_pairs(pairs: Iterable[tuple[str, str]]) -> list[Example]:
    """Examples from (text, intent) pairs made in code, checked like a file's rows."""
    rows = [_Row(f"item {n}", text, intent) for n, (text, intent) in enumerate(pairs, start=1)]
    return _validated(Path("<examples>"), rows)


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8",
            path=str(path),
        ) from exc


@dataclass(frozen=True, slots=True)
class _Row:
    """One example as read, before validation; `problem` is set when its shape is wrong."""

    where: str
    text: object = None
    intent: object = None
    problem: str | None = None


def _csv_rows(path: Path, text: str) -> list[_Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    label = "intent" if "intent" in header else "category" if "category" in header else None
    if "text" not in header or label is None:
        raise InvalidInput(
            f"{path}: the first row must be a header with `text` and `intent` (or Banking77's "
            f"`category`) columns; found {header or 'nothing'}",
            path=str(path),
        )
    text_col, label_col = header.index("text"), header.index(label)
    rows: list[_Row] = []
    # Spreadsheet numbering: the header is row 1, the first example row 2.
    for number, record in enumerate(reader, start=2):
        if not record:
            continue
        if len(record) != len(header):
            problem = f"has {len(record)} fields, not {len(header)}"
            rows.append(_Row(f"row {number}", problem=problem))
            continue
        rows.append(_Row(f"row {number}", record[text_col], record[label_col]))
    return rows


def _yaml_rows(path: Path, text: str) -> list[_Row]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path}: not valid YAML: {exc}", path=str(path)) from exc
    if isinstance(root, yaml.MappingNode):
        return _yaml_mapping_rows(root)
    if isinstance(root, yaml.SequenceNode):
        return _yaml_list_rows(root)
    raise InvalidInput(
        f"{path}: expected a mapping `intent: [examples…]` or a list of `{{text, intent}}` items",
        path=str(path),
    )


def _where(node: yaml.Node) -> str:
    return f"line {node.start_mark.line + 1}"


def _scalar(node: yaml.Node) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _yaml_mapping_rows(root: yaml.MappingNode) -> list[_Row]:
    rows: list[_Row] = []
    for key, value in root.value:
        intent = _scalar(key)
        if not isinstance(value, yaml.SequenceNode):
            problem = f"intent {intent!r} must have a list of examples"
            rows.append(_Row(_where(key), problem=problem))
            continue
        rows.extend(_Row(_where(item), _scalar(item), intent) for item in value.value)
    return rows


def _yaml_list_rows(root: yaml.SequenceNode) -> list[_Row]:
    rows: list[_Row] = []
    for item in root.value:
        if not isinstance(item, yaml.MappingNode):
            problem = "each item must be a mapping with `text` and `intent`"
            rows.append(_Row(_where(item), problem=problem))
            continue
        fields = {_scalar(k): _scalar(v) for k, v in item.value}
        rows.append(_Row(_where(item), fields.get("text"), fields.get("intent")))
    return rows


def _clinc150_rows(path: Path, text: str, split: str) -> list[_Row]:
    if split not in CLINC150_SPLITS:
        raise InvalidInput(
            f"CLINC150 split must be one of {', '.join(CLINC150_SPLITS)}, not {split!r}",
            split=split,
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path}: not valid JSON: {exc}", path=str(path)) from exc
    if not isinstance(data, dict) or split not in data:
        raise InvalidInput(
            f"{path}: not CLINC150's data_full.json (no {split!r} key)", path=str(path)
        )
    rows: list[_Row] = []
    for key in (split, f"oos_{split}"):
        items = data.get(key, [])
        for number, item in enumerate(items if isinstance(items, list) else [], start=1):
            where = f"{key}[{number}]"
            if isinstance(item, list) and len(item) == 2:
                rows.append(_Row(where, item[0], item[1]))
            else:
                rows.append(_Row(where, problem="expected [text, intent]"))
    return rows


def _validated(path: Path, rows: Sequence[_Row]) -> list[Example]:
    examples: list[Example] = []
    errors: list[str] = []
    for row in rows:
        problem = row.problem or _problem(row.text, row.intent)
        if problem:
            errors.append(f"{row.where}: {problem}")
        elif isinstance(row.text, str) and isinstance(row.intent, str):
            examples.append(Example(text=row.text.strip(), intent=row.intent.strip()))
    if errors:
        shown = "\n  ".join(errors[:MAX_ERRORS_SHOWN])
        more = (
            f"\n  … and {len(errors) - MAX_ERRORS_SHOWN} more"
            if len(errors) > MAX_ERRORS_SHOWN
            else ""
        )
        raise InvalidInput(
            f"{path}: {len(errors)} bad example(s), nothing loaded:\n  {shown}{more}",
            path=str(path),
            errors=errors,
        )
    if not examples:
        raise InvalidInput(f"{path}: no examples found", path=str(path))
    return examples


def _problem(text: object, intent: object) -> str | None:
    if not isinstance(text, str) or not text.strip():
        return "empty text"
    if not isinstance(intent, str) or not intent.strip():
        return "empty intent"
    if len(text) > MAX_TEXT_CHARS:
        return f"text longer than {MAX_TEXT_CHARS} characters"
    if len(intent.strip()) > MAX_INTENT_CHARS:
        return f"intent name longer than {MAX_INTENT_CHARS} characters"
    if any(ch.isspace() and ch != " " for ch in intent.strip()):
        return f"intent {intent.strip()!r} contains a tab or line break"
    return None
