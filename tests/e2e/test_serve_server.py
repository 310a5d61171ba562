"""The real server on a loopback port: concurrent clients, graceful SIGTERM, keys from the environment, a
slow client's deadline, the access log, and the page in headless Chromium."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import socket
import time

import httpx
import numpy as np
import pytest

from fineclass.inference.predictor import Predictor
from fineclass.serving.process import start_server
from tests.serving_fixtures import KEY, TEXTS, save_classifier

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def model_dir(tiny_model_dir, tmp_path_factory):
    return save_classifier(tiny_model_dir, tmp_path_factory.mktemp("served") / "model", multi_label=False)


@pytest.fixture(scope="module")
def server(model_dir):
    process, url = start_server(model_dir, "--max-wait-ms", "10")
    yield url
    if process.poll() is None:
        process.kill()
        process.wait()


def test_concurrent_clients_get_the_predictors_answers(server, model_dir):
    texts = [f"{TEXTS[i % len(TEXTS)]} {'very ' * (i % 7)}".strip() for i in range(48)]

    async def send_all():
        async with httpx.AsyncClient(base_url=server, timeout=30) as client:
            responses = await asyncio.gather(*(client.post("/predict", json={"texts": [t], "top_k": 3}) for t in texts))
            return responses, (await client.get("/metrics")).text

    responses, metrics = asyncio.run(send_all())
    assert [r.status_code for r in responses] == [200] * len(texts)
    expected = Predictor.from_dir(model_dir).predict(texts, top_k=3)
    for response, want in zip(responses, expected):
        got = response.json()["predictions"][0]
        assert got["text"] == want.text and got["labels"] == want.labels
        np.testing.assert_allclose([s["score"] for s in got["top_k"]], [s for _, s in want.top_k], atol=1e-5)
    # 48 requests at once shared forward passes: fewer batches than requests
    batches = float(next(line.split()[-1] for line in metrics.splitlines() if line.startswith("fineclass_batch_texts_count")))
    assert batches < len(texts)


@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                    reason="Debian's chromium and chromium-driver are not installed (make test installs them)")
def test_page_classifies_typed_text_in_a_browser(server, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=900,700", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        driver.get(f"{server}/")
        WebDriverWait(driver, 20).until(expected_conditions.text_to_be_present_in_element((By.ID, "model"), "multi-class"))
        driver.find_element(By.ID, "text").send_keys("i feel so happy today")
        driver.find_element(By.ID, "classify").click()
        rows = WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#results .row"))
        assert sorted(row.get_attribute("data-label") for row in rows) == ["anger", "joy", "sadness"]
        assert len(driver.find_elements(By.CSS_SELECTOR, "#results .row.chosen")) == 1
        assert driver.find_element(By.ID, "error").text == ""
        assert driver.save_screenshot(str(tmp_path / "serve-page.png"))
    finally:
        driver.quit()


def test_sigterm_shuts_down_gracefully(model_dir, tmp_path):
    process, url = start_server(model_dir, log=tmp_path / "server.log")
    assert httpx.post(f"{url}/predict", json={"texts": ["sad"]}).status_code == 200
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    output = (tmp_path / "server.log").read_text()
    # uvicorn answers the requests in flight, runs the app's shutdown, then exits by the signal it caught
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "stopped: requests in flight were answered" in output and "Traceback" not in output


def test_keys_from_the_environment_slow_headers_and_the_access_log(model_dir, tmp_path):
    """One real server: FINECLASS_API_KEYS, a client that sends its headers a byte at a time (408 and closed
    after --header-timeout-s while others are answered), and the JSON access log on stderr."""
    log = tmp_path / "server.log"
    process, url = start_server(model_dir, "--header-timeout-s", "1", log=log, env={"FINECLASS_API_KEYS": f"other-key-0123456789,{KEY}"})
    try:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as slow:
            slow.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            started = time.monotonic()
            answered = [httpx.post(f"{url}/predict", json={"texts": ["sad"]}, headers={"Authorization": f"Bearer {KEY}"}).status_code,
                        httpx.post(f"{url}/predict", json={"texts": ["sad"]}).status_code]
            slow.settimeout(5)
            reply = slow.recv(4096)
            waited = time.monotonic() - started
            assert slow.recv(4096) == b""  # closed
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert answered == [200, 401]
    assert reply.startswith(b"HTTP/1.1 408 Request Timeout") and 0.5 < waited < 3
    assert reply.endswith(b'{"error": "request headers took over 1 s to arrive; the connection is closed"}')
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith('{"time"')]
    assert [(line["path"], line["status"], line["texts"]) for line in lines][-2:] == [("/predict", 200, 1), ("/predict", 401, None)]
    assert KEY not in log.read_text() and "sad" not in log.read_text()
