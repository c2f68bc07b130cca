"""The wheel carries the shipped topic: install it and run in an empty folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_built_wheel_runs_the_sample_in_an_empty_folder(tmp_path):
    if not (ROOT / "pyproject.toml").is_file():
        pytest.skip("not a source checkout")
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels,
                    ROOT], check=True)
    (wheel,) = wheels.glob("sentiment-*.whl")
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", target, wheel], check=True)
    assert (target / "sentiment" / "topics" / "paris_declaration" / "topic.toml").is_file()
    work = tmp_path / "empty"
    work.mkdir()
    env = dict(os.environ, PYTHONPATH=str(target))  # the wheel's copy first; dependencies from this environment
    run = subprocess.run([sys.executable, "-m", "sentiment.cli", "-q", "run"], cwd=work, env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    (folder,) = (work / "reports").iterdir()
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["topic"] == "paris_declaration" and summary["n_posts"] > 0
    # the topic came from the wheel, not from this source tree
    probe = subprocess.run([sys.executable, "-c", "import sentiment.topic as t; print(t._packaged_topics_dir())"],
                           cwd=work, env=env, capture_output=True, text=True, check=True)
    assert probe.stdout.strip().startswith(str(target))
