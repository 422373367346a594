"""IN lists padded to a few lengths, so prepared statements are reused across batch sizes."""

from __future__ import annotations

from carepath.storage.repositories.base import in_list


def test_an_in_list_is_deduplicated_and_padded_to_a_power_of_two() -> None:
    assert in_list([]) == []
    assert in_list(["a"]) == ["a"]
    assert in_list(["a", "b", "a", "c"]) == ["a", "b", "c", "c"]
    assert len(in_list(str(n) for n in range(33))) == 64
    assert set(in_list(str(n) for n in range(33))) == {str(n) for n in range(33)}
