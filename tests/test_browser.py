"""The page in a real browser: Debian's headless Chromium, driven by Selenium, against a real `khmerdigit serve`.

Digits are written on the pad with pointer strokes (pen, mouse and touch) along the control points of the
project's own pen-stroke model; the screenshot of a read number is docs/images/serve.png
(rewritten with KHMERDIGIT_UPDATE_SCREENSHOT=1).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.actions import interaction
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.actions.pointer_input import PointerInput
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from khmerdigit.data.strokes import DIGIT_STROKES
from tests.live_server import live_server
from tests.test_serve import DIGIT, NOT_AN_IMAGE, number_png

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                reason="no chromium/chromedriver: apt-get install -y chromium chromium-driver")
SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "images" / "serve.png"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with live_server(tmp_path_factory.mktemp("serve") / "serve.log") as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-')}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture
def page(browser, server):
    browser.set_window_size(1200, 960)
    browser.get(server.url + "/")
    WebDriverWait(browser, 30).until(lambda b: b.find_element(By.ID, "version").text.startswith("khmerdigit 0"))
    return browser


def smooth(points: list[tuple[float, float]], rounds: int = 3) -> np.ndarray:
    """Chaikin's corner cutting: a pen-like curve through the stroke model's control points."""
    p = np.asarray(points, float)
    for _ in range(rounds):
        cut = np.empty((2 * len(p) - 2, 2))
        cut[0::2], cut[1::2] = 0.75 * p[:-1] + 0.25 * p[1:], 0.25 * p[:-1] + 0.75 * p[1:]
        p = np.vstack([p[0], cut, p[-1]])
    return p


def write(browser, digits: list[int], pointer: str = interaction.POINTER_PEN) -> None:
    """Write `digits` side by side on the pad with real pointer events (pen strokes carry pressure)."""
    pad = browser.find_element(By.ID, "pad")
    left, top, width, height = browser.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return [r.left, r.top, r.width, r.height];", pad)
    side = min(0.6 * height, 0.8 * width / (1.2 * len(digits)))
    actions = ActionBuilder(browser, mouse=PointerInput(pointer, pointer), duration=0)
    for index, digit in enumerate(digits):
        x0, y0 = left + 0.1 * width + index * 1.2 * side, top + (height - side) / 2
        for stroke in DIGIT_STROKES[digit]:
            points = [(round(x0 + x * side), round(y0 + y * side)) for x, y in smooth(stroke)]
            actions.pointer_action.move_to_location(*points[0])
            actions.pointer_action.pointer_down(pressure=0.6)
            for point in points[1:]:
                actions.pointer_action.move_to_location(*point)
            actions.pointer_action.pointer_up()
    actions.perform()


def choose(browser, mode: str) -> None:
    browser.find_element(By.CSS_SELECTOR, f'input[name="mode"][value="{mode}"]').click()
    browser.find_element(By.ID, "clear").click()


def outcome(browser, start) -> str:
    """Run `start` (what sends the image) and return the status line once the page has the answer."""
    browser.execute_script("document.getElementById('status').textContent = '';")
    start()
    status = browser.find_element(By.ID, "status")
    WebDriverWait(browser, 60).until(lambda b: status.text not in ("", "Reading…"))
    return status.text


def shown(browser) -> dict:
    return {"khmer": browser.find_element(By.ID, "khmer").text, "arabic": browser.find_element(By.ID, "arabic").text,
            "rows": len(browser.find_elements(By.CSS_SELECTOR, "#digits tbody tr")),
            "boxes": browser.execute_script(  # pixels of the box colour drawn over the image
                "const c = document.getElementById('overlay'); const d = c.getContext('2d')"
                ".getImageData(0, 0, c.width, c.height).data; let n = 0;"
                "for (let i = 0; i < d.length; i += 4) if (d[i] === 23 && d[i + 1] === 128 && d[i + 2] === 61) n++;"
                "return n;")}


def blank(browser) -> bool:
    return browser.execute_script(
        "const c = document.getElementById('pad'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height)"
        ".data; return d.every((v) => v === 255);")


def press_read(browser):
    return lambda: browser.find_element(By.ID, "read").click()


def test_write_a_digit_with_a_pen(page):
    choose(page, "digit")
    write(page, [3])
    assert not blank(page)
    assert outcome(page, press_read(page)) == "Read ៣ (3)."
    result = shown(page)
    assert result["khmer"] == "៣" and result["arabic"] == "3" and result["rows"] == 3  # the top 3
    assert page.find_element(By.ID, "overlay").is_displayed()


def test_write_a_number_with_a_mouse_undo_and_copy(page, tmp_path):
    choose(page, "number")
    write(page, [1, 2, 3], interaction.POINTER_MOUSE)
    write(page, [8], interaction.POINTER_MOUSE)  # a stray digit over the first ones, taken back stroke by stroke
    for _ in DIGIT_STROKES[8]:
        page.find_element(By.ID, "undo").click()
    assert outcome(page, press_read(page)) == "Read ១២៣ (123)."
    result = shown(page)
    assert result["arabic"] == "123" and result["rows"] == 3 and result["boxes"] > 100
    screenshot = SCREENSHOT if os.environ.get("KHMERDIGIT_UPDATE_SCREENSHOT") else tmp_path / "serve.png"
    assert page.save_screenshot(str(screenshot)) and screenshot.stat().st_size > 10_000
    assert outcome(page, page.find_element(By.ID, "copy-khmer").click) == "Copied ១២៣."  # the copy is awaited


def test_upload_an_image(page, tmp_path):
    (tmp_path / "number.png").write_bytes(number_png([4, 0, 7]))
    (tmp_path / "notes.png").write_bytes(NOT_AN_IMAGE)
    choose(page, "number")
    upload = page.find_element(By.ID, "upload")
    assert outcome(page, lambda: upload.send_keys(str(tmp_path / "number.png"))) == "Read ៤០៧ (407)."
    assert shown(page)["boxes"] > 100
    status = outcome(page, lambda: upload.send_keys(str(tmp_path / "notes.png")))
    assert status == "Could not read it: notes.png: not an image (unknown or damaged format)."
    assert page.find_element(By.ID, "answer").is_displayed() is False


def test_an_empty_pad_and_the_keyboard(page):
    choose(page, "digit")
    assert outcome(page, press_read(page)) == "Write something on the pad first."
    write(page, [5])
    pad = page.find_element(By.ID, "pad")
    for _ in DIGIT_STROKES[5]:  # undo stroke by stroke from the keyboard
        assert not blank(page)
        pad.send_keys(Keys.CONTROL, "z")
    assert blank(page)
    for control in ("undo", "clear", "read", "upload", "camera"):
        element = page.find_element(By.ID, control)
        label = element.text or page.find_element(By.CSS_SELECTOR, f'label[for="{control}"]').text
        assert label and element.get_attribute("tabindex") != "-1", control


def test_a_phone_screen_and_a_finger(page):
    page.set_window_size(390, 844)
    assert page.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    choose(page, "digit")
    write(page, [7], interaction.POINTER_TOUCH)
    assert outcome(page, press_read(page)) == "Read ៧ (7)."


def test_the_page_asks_for_the_api_key(browser, tmp_path):
    with live_server(tmp_path / "serve.log", "--api-key", "page-key") as secured:
        browser.get(secured.url + "/")
        key = browser.find_element(By.ID, "api-key")
        WebDriverWait(browser, 30).until(lambda b: key.is_displayed())
        assert "API key" in browser.find_element(By.ID, "status").text
        key.send_keys("page-key", Keys.TAB)  # the change event stores it
        (tmp_path / "three.png").write_bytes(DIGIT)
        upload = browser.find_element(By.ID, "upload")
        assert outcome(browser, lambda: upload.send_keys(str(tmp_path / "three.png"))) == "Read ៣ (3)."
