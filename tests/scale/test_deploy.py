"""The cron line and the systemd units of deploy/ work as written: their commands are run here
(with the variables pointed at a temporary data folder and the portal simulator as registry),
and the units pass ``systemd-analyze verify`` when systemd is installed."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from crawler.simulator.simulator import Simulator
from tests.scale.services import small_world
from xxgk_testing import ROOT

DEPLOY = ROOT / "deploy"


def deploy_env(tmp_path: Path, sim: Simulator) -> dict[str, str]:
    registry = tmp_path / "registry.json"
    registry.write_text(json.dumps({"sources": sim.registry_entries()}, ensure_ascii=False), encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith("XXGK_")}
    env.update(XXGK_HOME=str(ROOT), XXGK_DB=str(tmp_path / "data" / "xxgk.sqlite"),
               XXGK_ARCHIVE=str(tmp_path / "data" / "archive"), XXGK_JOBDIR=str(tmp_path / "data" / "jobdir"),
               XXGK_REGISTRY=str(registry), XXGK_ALLOW_PRIVATE_NETWORKS="127.0.0.0/8",
               # the simulator is ours: no politeness delay (the deployed default keeps it)
               XXGK_CRAWL_ARGS="-s DOWNLOAD_DELAY=0 -s AUTOTHROTTLE_ENABLED=False -s CONCURRENT_REQUESTS_PER_DOMAIN=8",
               XXGK_LOG_LEVEL="WARNING", PATH="/usr/bin:/bin")  # cron's PATH
    return env


def reports_stored(tmp_path: Path) -> int:
    db = sqlite3.connect(tmp_path / "data" / "xxgk.sqlite")
    return db.execute("select count(*) from reports where is_current and status = 'ok'").fetchone()[0]


def test_cron_line_crawls_and_parses(tmp_path: Path) -> None:
    cron = (DEPLOY / "xxgk.cron").read_text(encoding="utf-8")
    line = next(line for line in cron.splitlines() if re.match(r"^\d+ \d+ \* \* \* ", line))
    command = line.split(" ", 5)[5].replace("/var/log/xxgk/crawl.log", str(tmp_path / "crawl.log"))
    with Simulator(seed=21, sites=small_world(docs=6)) as sim:
        env = deploy_env(tmp_path, sim)
        done = subprocess.run(["/bin/sh", "-c", command], env=env, capture_output=True, text=True, timeout=300)
        expected = len({(e["agency"], e["year"]) for e in sim.expected_reports()})
    assert done.returncode == 0, (done.stdout + done.stderr)[-2000:] + (tmp_path / "crawl.log").read_text()[-2000:]
    assert reports_stored(tmp_path) == expected


def exec_start(unit: str) -> str:
    text = (DEPLOY / unit).read_text(encoding="utf-8")
    command = re.search(r"^ExecStart=/bin/sh -c '(.*)'$", text, re.M)
    assert command, f"{unit}: ExecStart is not the documented /bin/sh -c '…' form"
    return command.group(1)


def test_systemd_service_command_crawls(tmp_path: Path) -> None:
    with Simulator(seed=22, sites=small_world(docs=6)) as sim:
        env = deploy_env(tmp_path, sim)
        done = subprocess.run(["/bin/sh", "-c", exec_start("xxgk-crawl.service")], env=env, capture_output=True,
                              text=True, timeout=300)
        expected = len({(e["agency"], e["year"]) for e in sim.expected_reports()})
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert reports_stored(tmp_path) == expected
    assert not (tmp_path / "data" / "jobdir" / "requests.seen").exists()  # a finished crawl leaves no state


def test_systemd_units_verify() -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    units = [str(DEPLOY / name) for name in ("xxgk-crawl.service", "xxgk-crawl.timer", "xxgk-work.service")]
    done = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=60)
    problems = [line for line in (done.stdout + done.stderr).splitlines()
                if "xxgk" in line and "Failed to resolve user" not in line]
    assert done.returncode == 0 or not problems, problems
