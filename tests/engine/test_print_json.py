"""print_json: the same JSON whether a report is small (indented throughout) or has a long card list."""

import json

from engine.cli.output_args import LONG_LIST, print_json


def _printed(capsys, data) -> str:
    print_json(data)
    return capsys.readouterr().out


def test_small_reports_are_indented(capsys):
    data = {"plan": "x", "cards": [{"id": 1}], "nested": {"a": [1, 2]}}
    text = _printed(capsys, data)
    assert json.loads(text) == data and '\n      "id": 1' in text


def test_long_card_lists_print_one_card_per_line(capsys):
    cards = [{"id": i, "breakdown": {"weights": i * 2, "kv": None}, "fits": i % 2 == 0} for i in range(LONG_LIST + 1)]
    data = {"plan": "big", "cards": cards, "warnings": [{"code": "w", "text": 'é "q"'}], "fits": True}
    text = _printed(capsys, data)
    assert json.loads(text) == data
    lines = text.splitlines()
    assert lines[0] == "{" and lines[-1] == "}"
    assert sum(1 for line in lines if line.startswith('    {"id": ')) == LONG_LIST + 1
