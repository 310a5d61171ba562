"""The real server on a loopback port: concurrent clients, graceful SIGTERM, and the page in headless Chromium."""

from __future__ import annotations

import asyncio
import shutil
import signal

import httpx
import numpy as np
import pytest

from fineclass.inference.predictor import Predictor
from fineclass.serving.process import start_server
from tests.serving_fixtures import TEXTS, save_classifier

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


def test_sigterm_shuts_down_gracefully(model_dir):
    process, url = start_server(model_dir)
    assert httpx.post(f"{url}/predict", json={"texts": ["sad"]}).status_code == 200
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    # uvicorn answers the requests in flight, runs the app's shutdown, then exits by the signal it caught
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "stopped: requests in flight were answered" in output and "Traceback" not in output
