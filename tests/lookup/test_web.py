"""``xxgk serve``: Datasette read-only, report pages, archived originals, and a headless Chromium run."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import DOCUMENTS, ROOT
from tests.lookup.dbfill import QIANJIN

ARTIFACTS = ROOT / "test-artifacts" / "lookup"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(lookup_db) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The real command, in its own process: ``xxgk serve --db … --archive … --port N``."""
    port = _free_port()
    log = open(lookup_db.db_file.parent / "serve.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "serve", "--db", str(lookup_db.db_file),
         "--archive", str(lookup_db.archive_dir), "--port", str(port)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if process.poll() is not None:
                pytest.fail(f"xxgk serve exited: {(lookup_db.db_file.parent / 'serve.log').read_text()}")
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def test_archived_original_is_served_read_only_with_safe_headers(server, lookup_db) -> None:  # type: ignore[no-untyped-def]
    data = (DOCUMENTS / "hongzequ_2023.pdf").read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    status, headers, body = get(f"{server}/-/archive/{sha256}")
    assert status == 200 and body == data
    assert headers["content-type"] == "application/pdf"
    assert headers["content-disposition"] == f'attachment; filename="{sha256}.pdf"'
    assert headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in headers["content-security-policy"]
    assert get(f"{server}/-/archive/{'0' * 64}")[0] == 404
    for probe in ("..%2F..%2Fxxgk.sqlite", "%2e%2e/%2e%2e/etc/passwd", sha256.upper()):
        status, _, body = get(f"{server}/-/archive/{probe}")
        assert status != 200 or data not in body


def test_report_page_escapes_report_text(server, lookup_db) -> None:  # type: ignore[no-untyped-def]
    report_id = lookup_db.stored["qianjin_2021.html"].report_id
    status, _, body = get(f"{server}/-/report/{report_id}")
    page = body.decode("utf-8")
    assert status == 200
    # the parser drops markup from titles; whatever text remains is escaped, never executed
    assert "<script>alert(" not in page and "攀枝花市仁和区前进镇人民政府" in page
    assert get(f"{server}/-/report/999999")[0] == 404


def test_database_is_read_only(server, lookup_db) -> None:  # type: ignore[no-untyped-def]
    query = urllib.parse.urlencode({"sql": "delete from reports"})
    status, _, _ = get(f"{server}/xxgk.json?{query}")
    assert status in (400, 403)
    request = urllib.request.Request(f"{server}/xxgk/reports/-/insert", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(request, timeout=10)
    status, _, body = get(f"{server}/xxgk.json?" + urllib.parse.urlencode({"sql": "select count(*) as n from reports"}))
    assert status == 200 and b'"rows": [[' in body.replace(b" ", b" ")


def test_canned_queries(server) -> None:  # type: ignore[no-untyped-def]
    import json

    def rows(name: str, **params: str) -> list[dict]:
        status, _, body = get(f"{server}/xxgk/{name}.json?" + urllib.parse.urlencode({**params, "_shape": "array"}))
        assert status == 200, body[:300]
        return json.loads(body)

    assert rows("agency_search", q="前进镇")[0]["agency_history"] == QIANJIN
    history = rows("agency_history", agency="淮安市洪泽区人民政府")
    assert [h["year"] for h in history] == [2023, 2024] and history[1]["X1"] == "pass"
    assert any(r["check_id"] == "C1" for r in rows("failed_checks"))
    assert [r["agency_history"] for r in rows("modified_reports")] == [QIANJIN]
    assert any(r["agency_history"] == QIANJIN for r in rows("coverage"))
    assert rows("top_agencies_by_requests", year="2024")[0]["new_requests"] >= 95


@pytest.fixture(scope="module")
def browser(tmp_path_factory):  # type: ignore[no-untyped-def]
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip("Debian chromium / chromium-driver not installed (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 "--window-size=1280,1600", f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    downloads = tmp_path_factory.mktemp("downloads")
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads  # type: ignore[attr-defined]
    try:
        yield driver
    finally:
        driver.quit()


def test_browser_search_report_page_and_csv_download(server, browser, lookup_db) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    wait = WebDriverWait(browser, 30)
    # 1. search for an agency with the canned query's form
    browser.get(f"{server}/xxgk/agency_search")
    box = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "input[name=q]")))
    box.clear()
    box.send_keys("前进镇")
    box.submit()
    link = wait.until(ec.element_to_be_clickable((By.LINK_TEXT, QIANJIN)))
    browser.save_screenshot(str(ARTIFACTS / "1-agency-search.png"))
    # 2. its history, then one report page
    link.click()
    report_link = wait.until(ec.element_to_be_clickable((By.PARTIAL_LINK_TEXT, "报告 #")))
    browser.save_screenshot(str(ARTIFACTS / "2-agency-history.png"))
    report_link.click()
    title = wait.until(ec.presence_of_element_located((By.ID, "report-title")))
    assert "前进镇" in title.text
    assert browser.find_element(By.ID, "archived-original").get_attribute("href").startswith(f"{server}/-/archive/")
    assert browser.find_elements(By.CSS_SELECTOR, "table.xxgk-grid")
    browser.save_screenshot(str(ARTIFACTS / "3-report-page.png"))
    # 3. a CSV download of the reports table
    browser.get(f"{server}/xxgk/reports")
    csv_link = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "a[href*='.csv']")))
    browser.save_screenshot(str(ARTIFACTS / "4-reports-table.png"))
    href = csv_link.get_attribute("href")
    browser.get(href + ("&" if "?" in href else "?") + "_dl=1")
    downloaded = _wait_for_download(browser.downloads)  # type: ignore[attr-defined]
    rows = list(csv.DictReader(io.StringIO(downloaded.read_text("utf-8"))))
    assert len(rows) == len(lookup_db.stored) and "title" in rows[0]
    shutil.copy(downloaded, ARTIFACTS / "reports.csv")


def _wait_for_download(folder: Path, timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if p.suffix == ".csv"]
        if done:
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no CSV downloaded into {folder}: {list(folder.iterdir())}")
