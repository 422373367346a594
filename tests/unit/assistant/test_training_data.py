"""Reading intent examples: CSV, YAML, CLINC150 JSON, and row-numbered errors for bad rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from carepath.assistant import OUT_OF_SCOPE, DataFormat, Example, load_examples
from carepath.errors import InvalidInput


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def test_csv_with_text_and_intent(tmp_path: Path) -> None:
    # given a CSV with a quoted field that spans two lines
    path = write(
        tmp_path, "train.csv",
        'text,intent\nwhere is my card,card_arrival\n"refund,\nplease",refund\nhi there,oos\n',
    )  # fmt: skip
    # when loaded
    data = load_examples(path)
    # then each row is an example, and `oos` rows are the out-of-scope ones
    assert data.format is DataFormat.CSV
    assert data.examples == (
        Example("where is my card", "card_arrival"),
        Example("refund,\nplease", "refund"),
        Example("hi there", OUT_OF_SCOPE),
    )
    assert [e.text for e in data.out_of_scope] == ["hi there"]
    assert len(data.sha256) == 64
    assert data.describe()["intents"] == 2


def test_banking77_header_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "b.csv", "text,category\nI am still waiting on my card?,card_arrival\n")
    expected = Example("I am still waiting on my card?", "card_arrival")
    assert load_examples(path).examples == (expected,)


def test_bad_csv_rows_are_all_reported_by_row_number(tmp_path: Path) -> None:
    # given rows with an empty text, an empty intent and a missing field (row 1 is the header)
    path = write(
        tmp_path, "bad.csv",
        "text,intent\nfine,ok\n,empty_text\nno intent,\njust one field\nalso fine,ok\n",
    )  # fmt: skip
    # when loaded
    with pytest.raises(InvalidInput) as caught:
        load_examples(path)
    # then every bad row is named, and nothing is loaded
    assert caught.value.data["errors"] == [
        "row 3: empty text",
        "row 4: empty intent",
        "row 5: has 1 fields, not 2",
    ]
    assert "3 bad example(s), nothing loaded" in caught.value.message


def test_a_csv_without_the_right_header_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", "utterance,label\nhello,greet\n")
    with pytest.raises(InvalidInput, match="header with `text` and `intent`"):
        load_examples(path)


def test_yaml_mapping_of_intents_to_examples(tmp_path: Path) -> None:
    # given the mapping form, where a bare `yes` must stay text
    path = write(
        tmp_path, "ex.yaml",
        "card_arrival:\n  - where is my card\n  - yes\noos:\n  - tell me a joke\n",
    )  # fmt: skip
    data = load_examples(path)
    assert data.examples == (
        Example("where is my card", "card_arrival"),
        Example("yes", "card_arrival"),
        Example("tell me a joke", OUT_OF_SCOPE),
    )


def test_yaml_list_of_items(tmp_path: Path) -> None:
    path = write(tmp_path, "ex.yml", "- text: where is my card\n  intent: card_arrival\n")
    assert load_examples(path).examples == (Example("where is my card", "card_arrival"),)


def test_bad_yaml_items_are_reported_by_line(tmp_path: Path) -> None:
    # given an empty example on line 3 and an intent whose examples are not a list on line 4
    path = write(tmp_path, "bad.yaml", "card_arrival:\n  - where is my card\n  - ''\nrefund: x\n")
    with pytest.raises(InvalidInput) as caught:
        load_examples(path)
    assert caught.value.data["errors"] == [
        "line 3: empty text",
        "line 4: intent 'refund' must have a list of examples",
    ]


def test_yaml_list_items_without_intent_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "- text: a\n  intent: x\n- text: b\n- plain string\n")
    with pytest.raises(InvalidInput) as caught:
        load_examples(path)
    assert caught.value.data["errors"] == [
        "line 3: empty intent",
        "line 4: each item must be a mapping with `text` and `intent`",
    ]


def test_clinc150_split_includes_its_out_of_scope_rows(tmp_path: Path) -> None:
    # given a file shaped like CLINC150's data_full.json
    content = {
        "train": [["what's my balance", "balance"]],
        "oos_train": [["how tall is everest", "oos"]],
        "val": [["balance please", "balance"]],
        "oos_val": [],
        "test": [],
        "oos_test": [],
    }
    path = write(tmp_path, "data_full.json", json.dumps(content))
    # when a split is loaded
    train = load_examples(path, split="train")
    val = load_examples(path, split="val")
    # then it holds the split and its oos_ rows, and each split has its own fingerprint
    assert train.format is DataFormat.CLINC150
    assert train.examples == (
        Example("what's my balance", "balance"),
        Example("how tall is everest", OUT_OF_SCOPE),
    )
    assert val.examples == (Example("balance please", "balance"),)
    assert train.sha256 != val.sha256


def test_clinc150_unknown_split_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "data_full.json", json.dumps({"train": []}))
    with pytest.raises(InvalidInput, match="split must be one of train, val, test"):
        load_examples(path, split="dev")


def test_an_unknown_extension_needs_an_explicit_format(tmp_path: Path) -> None:
    path = write(tmp_path, "examples.txt", "text,intent\na,b\n")
    with pytest.raises(InvalidInput, match="cannot tell the format"):
        load_examples(path)
    assert load_examples(path, format=DataFormat.CSV).examples == (Example("a", "b"),)


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("text,intent\ncafé,order\n".encode("latin-1"))
    with pytest.raises(InvalidInput, match="not UTF-8"):
        load_examples(path)


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read"):
        load_examples(tmp_path / "nope.csv")


def test_examples_made_in_code_are_checked_like_rows() -> None:
    from carepath.assistant import examples_from_pairs

    assert examples_from_pairs([(" hi ", "greet")]) == [Example("hi", "greet")]
    with pytest.raises(InvalidInput, match="item 2: empty intent"):
        examples_from_pairs([("hi", "greet"), ("bye", " ")])
