"""Hypothesis strategies for hostile input: numbers, text, argv, JSON documents and bytes."""

from __future__ import annotations

import argparse
import copy
import json
from typing import Any

from hypothesis import strategies as st

from engine.cli.main import build_parser

# --- scalars ---------------------------------------------------------------------------------------
NASTY_NUMBERS = [
    "0", "-1", "1", "2", "3", "7", "8", "16", "64", "128", "4096", "65536", "1e4", "1.5", "0.4", "-0", "1e-9",
    "1e400", "-1e400", "inf", "-inf", "nan", "NaN", "1e308", "5e-324", "2147483648", "4294967297",
    "9223372036854775807", "9223372036854775808", "18446744073709551617", "1" * 70, "9" * 5000, "1e9",
    "100000", "1000000", "16384", "16385", "0x10", "1_000", " 8 ", "", "١٢", "８", "+3", "1e", ".5", "5.",
]
NASTY_TEXT = [
    "", " ", "x", "\x1b[31mred\x1b[0m\x1b]0;title\x07", "<b>bold</b><img src=x onerror=alert(1)>", "a" * 300,
    "a" * 100_000, "nul\x00byte", "../../etc/passwd", "/proc/self/status", "名前", "\u202egnp.exe",
    "%s%n{0}", "'", '"', "\\", "\r\n", "\x85\x9b31m", "a,b,c", "--tp", "-", "~nonexistent_user/x", "\udcff\udcfe",
]
SIZES = ["24GiB", "80GB", "0.4", "1", "0", "-5GB", "1e400", "inf", "nan", "16TiB", "17TiB", "1e30", "1TB",
         "85899345920", "999999999999999999999999999999GiB", "GB", "1.5 gib"]


def number_text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(NASTY_NUMBERS), st.integers(-10, 2**70).map(str),
                     st.floats(allow_nan=True, allow_infinity=True).map(repr))


def any_text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=40))


def flag_value() -> st.SearchStrategy[str]:
    return st.one_of(number_text(), any_text(), st.sampled_from(SIZES),
                     st.lists(st.sampled_from(["1", "0", "nan", "3", "-1", "1e400", "1e9"]), min_size=1, max_size=6)
                     .map(",".join))


# --- argv from the real parser ---------------------------------------------------------------------
def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def command_flags(path: tuple[str, ...]) -> list[tuple[str, bool, tuple[str, ...] | None]]:
    """(flag, takes a value, choices) of ``vramplan <path...>``, read from the parser itself."""
    parser = build_parser()
    for name in path:
        parser = _subparsers(parser)[name]
    out = []
    for action in parser._actions:
        for flag in action.option_strings:
            if flag.startswith("--") and flag not in ("--help",):
                takes = action.nargs != 0
                choices = tuple(action.choices) if action.choices else None
                out.append((flag, takes, choices))
    return out


def argv_for(path: tuple[str, ...], base: list[str], max_flags: int = 4) -> st.SearchStrategy[list[str]]:
    """``path + base`` with up to ``max_flags`` flags of the command set to hostile (or valid) values."""
    flags = command_flags(path)

    @st.composite
    def build(draw) -> list[str]:
        argv = list(path) + list(base)
        for _ in range(draw(st.integers(0, max_flags))):
            flag, takes, choices = draw(st.sampled_from(flags))
            if not takes:
                argv.append(flag)
                continue
            if choices and draw(st.booleans()):
                value = draw(st.sampled_from([str(c) for c in choices]))
            else:
                value = draw(flag_value())
            argv += [flag, value] if draw(st.integers(0, 9)) else [f"{flag}={value}"]
        return argv

    return build()


# --- JSON documents --------------------------------------------------------------------------------
def _deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


NASTY_JSON = [
    None, True, False, 0, -1, 1, 2, 8, 1.5, -0.5, 10**70, -(10**70), 2**63, 2**31, 10**9, 16_385, 1e308, 1e-308,
    "", "x", "\x1b[2J", "<script>x</script>", "a" * 5000, "nan", "1e400", [], {}, [1, 2], {"a": 1}, [None] * 50,
    _deep(70), float("nan"), float("inf"),  # deeper nesting: json_bytes writes it as text
]


def json_value() -> st.SearchStrategy[Any]:
    leaves = st.one_of(st.sampled_from(NASTY_JSON), st.integers(-(2**70), 2**70), st.text(max_size=20),
                       st.floats(allow_nan=False, allow_infinity=False))
    return st.recursive(leaves, lambda children: st.one_of(st.lists(children, max_size=4),
                                                           st.dictionaries(st.text(max_size=8), children, max_size=4)),
                        max_leaves=8)


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:6]):
            out += _paths(v, (*prefix, i))
    return out


def _set(doc: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return doc


def _delete(doc: Any, path: tuple) -> Any:
    if not path:
        return doc
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    return doc


@st.composite
def mutated_json(draw, base: Any, max_mutations: int = 3) -> Any:
    """``base`` with a few leaves replaced, keys deleted or added, lists grown."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, max_mutations))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add", "grow"]))
        try:
            if op == "replace":
                doc = _set(doc, path, copy.deepcopy(draw(json_value())))
            elif op == "delete":
                doc = _delete(doc, path)
            elif op == "add":
                target = doc
                for key in path:
                    target = target[key]
                if isinstance(target, dict):
                    target[draw(st.sampled_from(["extra", "\x1b[31m", "a" * 3000, "version", "name"]))] = \
                        copy.deepcopy(draw(json_value()))
                elif isinstance(target, list):
                    target.append(copy.deepcopy(draw(json_value())))
            else:
                target = doc
                for key in path:
                    target = target[key]
                if isinstance(target, list) and target:
                    target.extend(copy.deepcopy(target[:1]) * draw(st.sampled_from([10, 1000, 20000])))
        except (KeyError, IndexError, TypeError):
            continue
    return doc


@st.composite
def json_bytes(draw, base: Any) -> bytes:
    """A mutated document as bytes, sometimes broken below the JSON level (encoding, truncation, nesting)."""
    doc = draw(mutated_json(base))
    text = json.dumps(doc, indent=draw(st.sampled_from([None, 2])))
    data = text.encode("utf-8")
    how = draw(st.integers(0, 12))
    if how == 0:
        data = data[: draw(st.integers(0, len(data)))]
    elif how == 1:
        i = draw(st.integers(0, len(data)))
        data = data[:i] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\x00", b"\xed\xa0\x80"])) + data[i:]
    elif how == 2:
        data = b"\xef\xbb\xbf" + data
    elif how == 3:
        data = b"[" * draw(st.sampled_from([100, 5000, 200_000])) + b"1" + b"]" * 10
    elif how == 4:
        data = data.encode("utf-16") if isinstance(data, str) else text.encode("utf-16")
    elif how == 5:
        data = b'{"version": 1, "x": ' + b"9" * draw(st.sampled_from([40, 5000, 100_000])) + b"}"
    return data
