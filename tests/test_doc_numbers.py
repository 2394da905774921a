"""Model numbers quoted in the docs are the ones docs/doc_numbers.py produced (issue 8, item 8)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _numbers_module():
    spec = importlib.util.spec_from_file_location("lasim_doc_numbers", ROOT / "docs" / "doc_numbers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


numbers = _numbers_module()
STORED = json.loads(numbers.NUMBERS.read_text(encoding="utf-8"))


@pytest.mark.parametrize("doc", numbers.DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_quoted_number_is_the_generated_one(doc):
    text = doc.read_text(encoding="utf-8")
    assert text.count("<!-- num:") == text.count("<!-- /num -->") == sum(
        len(v) for v in numbers.markers(text).values()), "an unclosed or malformed num marker"
    for name, quoted in numbers.markers(text).items():
        assert name in STORED["text"], f"{name}: quoted in {doc.name} but not in docs/numbers.json"
        for q in quoted:
            assert q == STORED["text"][name], f"{name} in {doc.name}: {q!r} != numbers.json {STORED['text'][name]!r}"


def test_numbers_file_says_what_made_it():
    assert STORED["generated_by"] == "python docs/doc_numbers.py"
    assert STORED["git_commit"] and STORED["lasim_version"]
    assert set(STORED["data"]) <= set(numbers.SECTIONS)


def test_fill_replaces_only_known_markers():
    text = "a <!-- num:x -->old<!-- /num --> b <!-- num:y -->keep<!-- /num -->"
    assert numbers.fill(text, {"x": "new"}) == "a <!-- num:x -->new<!-- /num --> b <!-- num:y -->keep<!-- /num -->"


@pytest.mark.slow
def test_regenerating_a_cheap_subset_gives_the_stored_numbers(capsys):
    # the Weibull survival (no simulation) and the default scenario over its 200 seeds
    assert numbers.main(["--check", "--only", "fade", "default", "--processes", "1", "--quiet"]) == 0, \
        capsys.readouterr().out
