from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import sentiment
from sentiment.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"
MODULES = sorted(m.name for m in pkgutil.iter_modules(sentiment.__path__, "sentiment.") if m.name != "sentiment.topics")


def test_all_matches_the_public_namespace():
    public = {name for name in dir(sentiment) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(sentiment, name)).__name__ == "module"}
    assert set(sentiment.__all__) - {"__version__"} == public - modules


@pytest.mark.parametrize("module", ["sentiment", *MODULES])
def test_docstring_examples_run(module, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_every_command_is_documented_in_the_readme():
    readme = README.read_text(encoding="utf-8")
    for name in main.commands:
        assert f"sentiment {name}" in readme, name


def test_the_readme_quick_start_is_two_commands_that_install_and_run():
    readme = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)\n```", readme, re.S)
    assert blocks[0].endswith("pip install . && sentiment run")
    assert blocks[1].endswith('pip install ".[test]" && pytest')
    ci = (README.parent / ".ci" / "run").read_text()
    assert 'pip install ".[test]" && pytest' in ci


def test_library_imports_no_cli_or_progress_bar_code():
    import subprocess
    import sys

    code = "import sys, sentiment; sentiment.load_topic(); print(sorted(m for m in sys.modules if m in ('click', 'tqdm')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_version_option():
    assert sentiment.__version__ in CliRunner().invoke(main, ["--version"]).output
