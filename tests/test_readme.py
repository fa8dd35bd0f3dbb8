"""The README's commands, run as written on generated inputs (paths like path/to/fields are
created here; the app commands get --quit-after so they end)."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import cv2
import pytest
from readme_commands import ROOT, allscope_commands, readme_commands, run_allscope

from allscope.core.sources import enumerate_cameras
from allscope.core.sources.demo.slide import render_field


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A folder holding the placeholder paths the README names."""
    root = tmp_path_factory.mktemp("readme")
    for folder in ("path/to/fields", "path/to/folder/of/fields"):
        (root / folder).mkdir(parents=True)
        for seed in range(3):
            cv2.imwrite(
                str(root / folder / f"field{seed}.png"),
                render_field(320, 240, seed=seed, n_wbc=2)[0],
            )
    frame = render_field(320, 240, seed=5, n_wbc=2)[0]
    writer = cv2.VideoWriter(
        str(root / "path/to/scan.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 10, (320, 240)
    )
    for _ in range(6):
        writer.write(frame)
    writer.release()
    return root


def test_the_first_two_commands_install_and_run_the_app_and_the_tests():
    install_run, install_test = readme_commands()[:2]
    assert install_run.endswith(".venv/bin/allscope") and "pip install -e ." in install_run
    assert install_test in (ROOT / ".ci" / "run").read_text()


def test_analyze_and_sessions_commands_run_as_written(workspace):
    env = {"ALLSCOPE_DATA_DIR": str(workspace / "data")}
    for command in allscope_commands(" analyze ") + allscope_commands(" sessions "):
        done = run_allscope(command, workspace, env=env)
        assert done.returncode == 0, f"{command}\n{done.stderr}"
    document = json.loads((workspace / "results.json").read_text())
    assert len(document["fields"]) == 3 + 6
    assert (workspace / "results.csv").is_file() and len(list((workspace / "masks").iterdir())) == 9
    assert (workspace / "report.pdf").is_file() and (workspace / "report (2).pdf").is_file()
    assert (workspace / "fields.csv").is_file() and (workspace / "session.json").is_file()


def test_app_commands_start_and_show_frames(workspace, tmp_path):
    commands = [c for c in readme_commands() if c.startswith(".venv/bin/allscope") and "--" in c
                and " analyze " not in c and " sessions " not in c and " train" not in c]
    assert len(commands) == 3
    shown = {}
    for command in commands:
        done = run_allscope(
            command, workspace, "--quit-after", "2", "--settings-dir", str(tmp_path / "settings"),
            env={"ALLSCOPE_DATA_DIR": str(tmp_path / "data")},
        )
        assert done.returncode == 0, f"{command}\n{done.stderr}"
        shown[command.split("allscope ", 1)[1]] = json.loads(done.stdout.strip().splitlines()[-1])
    for args, source in (("--demo", "demo slide"),
                         ("--source slide:path/to/folder/of/fields", "virtual slide")):
        assert shown[args]["display_fps"] > 0 and shown[args]["source"].startswith(source)
    camera = shown["--source camera:0"]
    if any(c.index == 0 for c in enumerate_cameras()):
        assert camera["display_fps"] > 0 and camera["source"] == "camera 0"
    else:  # no camera here: the app says so and shows the demo (once it is painted)
        assert camera["source"] is None or camera["source"].startswith("demo slide")
        assert any(
            m.startswith("Could not open camera:0: camera 0 could not be opened")
            and "The demo slide is shown meanwhile." in m
            for m in camera["messages"]
        ), camera["messages"]


def test_workstation_unpack_command_runs_the_bundle_self_test(tmp_path):
    archives = sorted((ROOT / "dist").glob("allscope-*-linux-*.tar.gz"))
    if not archives:
        pytest.skip("no bundle archive in dist/ (run installer/build.sh)")
    command = next(c for c in readme_commands() if c.startswith("mkdir -p ~/apps"))
    shutil.copy(archives[-1], tmp_path / "allscope-0.1.0-linux-x86_64.tar.gz")
    env = {**os.environ, "HOME": str(tmp_path / "home"), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "self-test passed" in done.stdout
    assert list(Path(env["HOME"]).rglob("allscope.desktop"))
