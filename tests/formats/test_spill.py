"""Items kept in a temporary file (a whole académie's class record rows, workbook metadata): they read
back as they were put, in any order, and the file goes when the sequence does."""

from __future__ import annotations

import gc
import json

import pytest

from e2docs.formats.spill import Spilled


def test_items_put_in_any_order_read_back_in_order():
    items = [{"n": i, "nom": f"Élodie-{i}", "notes": [i / 2, None]} for i in range(50)]
    with Spilled(len(items)) as kept:
        for i in reversed(range(len(items))):
            kept.put(i, items[i])
        kept.put(3, {"n": "remplacé"})  # put again: replaces
        expected = [*items[:3], {"n": "remplacé"}, *items[4:]]
        assert list(kept) == expected and len(kept) == 50
        assert kept[-1] == items[-1] and kept[10:13] == items[10:13]
        assert kept == expected and kept != expected[:-1]


def test_an_item_not_put_raises_and_an_index_out_of_range_too():
    with Spilled(3) as kept:
        kept.put(0, "a")
        with pytest.raises(LookupError):
            kept[1]
        with pytest.raises(IndexError):
            kept[3]


def test_appended_items_and_items_already_encoded_mix():
    with Spilled(encode=lambda m: json.dumps(m).encode(), decode=json.loads) as kept:
        kept.append({"a": 1})
        kept.append_encoded(b'{"b": 2}\n')
        _ = kept[0]  # reading in between moves the file's position: appending still goes at the end
        kept.append({"c": 3})
        assert list(kept) == [{"a": 1}, {"b": 2}, {"c": 3}]


def test_the_file_is_closed_when_the_sequence_is_collected_or_closed():
    kept = Spilled(1)
    kept.put(0, "x")
    file = kept._file
    del kept
    gc.collect()
    assert file.closed
    with Spilled(1) as other:
        pass
    assert other._file.closed
