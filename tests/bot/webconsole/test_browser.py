"""The console in a real browser: Debian's headless Chromium, driven by Selenium, against the bot
on the in-memory platform and the scripted OpenAI server.

Selenium's calls block, so they run in a thread while the bot serves on the test's event loop.
Screenshots of the main pages go to ``$THREADCREW_TEST_ARTIFACTS/console/<test>`` (else the
test's temporary directory).
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.bot.crew import QUESTION, Crew, crew_bot, in_thread
from tests.bot.test_vision import models, people_content
from tests.bot.webconsole.console import TOKEN, console_bot, console_url, oidc_settings, tiny_png, web_thread_bot
from tests.conftest import require
from tests.fakes.oidc import FakeOIDCProvider
from tests.fakes.openai_server import ScriptedOpenAI

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
T = TypeVar("T")

pytestmark = pytest.mark.slow


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Headless Chromium with a fresh profile; Selenium uses the system's driver (it downloads nothing)."""
    require(
        os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK),
        "Chromium and chromedriver are not installed (.ci/browser.sh installs them)",
    )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def artefacts(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """This test's screenshot folder, emptied (one folder a test: one test never wipes another's)."""
    root = Path(os.environ.get("THREADCREW_TEST_ARTIFACTS") or tmp_path) / "console" / request.node.name
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    return root


async def blocking(call: Callable[[], T]) -> T:
    """A Selenium call, off the event loop (the bot under test runs on it)."""
    return await asyncio.to_thread(call)


async def until(driver: Any, condition: Callable[[Any], Any], within: float = 20) -> Any:
    return await blocking(lambda: WebDriverWait(driver, within, poll_frequency=0.1).until(condition))


def text_of(driver: Any, css: str) -> str:
    """The visible text of what ``css`` selects, read in one step (live updates replace the panel)."""
    script = "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText).join(' ');"
    return str(driver.execute_script(script, css))


def coding_task(model: Crew, image: bytes) -> None:
    """The coder writes code that saves ``image`` as square.png; the runner runs it once approved."""
    code = (
        "```python\nimport base64\n"
        f"open('square.png', 'wb').write(base64.b64decode('{base64.b64encode(image).decode()}'))\n"
        "print('drew a square')\n```"
    )
    model.after.update({"coder": "runner", "runner": "reviewer"})
    model.say("coder", f"Here it is:\n{code}")


async def test_an_operator_signs_in_watches_a_run_live_approves_its_code_and_stops_it(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, browser: Any, artefacts: Path
) -> None:
    model, server = crew
    coding_task(model, tiny_png())
    held = model.hold("planner")
    async with console_bot(server, tmp_path, approvers=["console:ops"]) as bot:
        base = console_url(bot)
        await bot.platform.mention("t1", "draw a square")
        await model.arrived("planner")  # the run is under way, the planner's reply held back

        # Signing in: any page sends you to sign in first, then back to it.
        await blocking(lambda: browser.get(f"{base}/"))
        assert "/console/sign-in" in browser.current_url
        await blocking(lambda: browser.save_screenshot(str(artefacts / "1-sign-in.png")))
        browser.find_element(By.ID, "name").send_keys("ops")
        browser.find_element(By.ID, "token").send_keys(TOKEN)
        await blocking(lambda: browser.find_element(By.ID, "sign-in-button").click())
        await until(browser, lambda d: d.find_elements(By.ID, "conversations"))
        assert browser.find_element(By.ID, "operator").text == "ops"
        rows = browser.find_elements(By.CSS_SELECTOR, "#conversations tbody tr")
        assert len(rows) == 1
        assert "running" in rows[0].text
        await blocking(lambda: browser.save_screenshot(str(artefacts / "2-conversations.png")))

        # The running conversation: the planner's message arrives live, without a reload.
        await blocking(lambda: browser.find_element(By.CSS_SELECTOR, "#conversations a.open").click())
        await until(browser, lambda d: d.find_elements(By.ID, "messages"))
        assert text_of(browser, "#status") == "running"
        assert "planner" not in text_of(browser, "#messages .author")
        browser.execute_script("window.loadedOnce = true;")
        held.set()
        await until(browser, lambda d: "planner on 'draw a square'" in text_of(d, "#messages"))
        assert browser.execute_script("return window.loadedOnce === true;")  # the same page: it came by SSE

        # The code waits for approval: the panel offers it (live), the operator approves.
        await until(browser, lambda d: d.find_elements(By.ID, "approve"))
        assert "runner wants to run the code above" in text_of(browser, "#open-wait")
        await blocking(lambda: browser.save_screenshot(str(artefacts / "3-approval.png")))
        await blocking(lambda: browser.find_element(By.ID, "approve").click())
        await until(browser, lambda d: "Exit code 0" in text_of(d, "#messages"))
        await until(browser, lambda d: QUESTION in text_of(d, "#messages"))
        assert "drew a square" in text_of(browser, "#messages .output")
        width = "return document.querySelector('#messages .file img').naturalWidth;"
        await until(browser, lambda d: d.execute_script(width) == 40)  # the image, shown inline
        await until(browser, lambda d: text_of(d, "#status") == "waiting for people")
        waits = text_of(browser, "#waits")
        assert "approve" in waits
        assert "console:ops" in waits
        await blocking(lambda: browser.save_screenshot(str(artefacts / "4-transcript.png")))
        posts = bot.platform.in_thread("t1")
        assert any(p.text.endswith("Approved by ops (console).") for p in posts)
        await bot.platform.wait_for(in_thread("t1"))

        # Stopping the run from the console: the thread says who stopped it.
        await blocking(lambda: browser.find_element(By.ID, "stop").click())
        await until(browser, lambda d: text_of(d, "#status") == "finished")
        await bot.platform.wait_for(lambda p: any(x.text == "Stopped by ops (console)." for x in p))
        assert (await bot.conversation("t1")).status == "finished"
        assert "Stopped by ops (console)." in text_of(browser, "#messages")
        await blocking(lambda: browser.save_screenshot(str(artefacts / "5-stopped.png")))

        # The other pages, from the header's links.
        for page, shows in (("Usage", "usage-by-team"), ("Teams", "team-crew"), ("Schedules", "schedules")):
            await blocking(lambda page=page: browser.find_element(By.LINK_TEXT, page).click())
            await until(browser, lambda d, shows=shows: d.find_elements(By.ID, shows))
            await blocking(lambda page=page: browser.save_screenshot(str(artefacts / f"6-{page.lower()}.png")))
        assert "No schedules." in text_of(browser, "#schedules")
    assert sorted(p.name for p in artefacts.iterdir()) == [
        "1-sign-in.png",
        "2-conversations.png",
        "3-approval.png",
        "4-transcript.png",
        "5-stopped.png",
        "6-schedules.png",
        "6-teams.png",
        "6-usage.png",
    ]


async def test_a_newcomer_runs_a_team_in_the_web_thread(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, browser: Any, artefacts: Path
) -> None:
    """The whole flow in a browser: a mention, personas, an approval, a file, a question answered."""
    model, server = crew
    coding_task(model, tiny_png())
    async with web_thread_bot(server, tmp_path) as bot:
        base = console_url(bot)
        await web_threads_signed_in(browser, base, "newcomer")
        browser.find_element(By.ID, "task").send_keys("draw a square")
        await blocking(lambda: browser.find_element(By.ID, "start").click())

        # The mention, then the agents in their personas; the code waits for an approval.
        await until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#thread .button-approve"))
        authors = text_of(browser, "#thread .author")
        assert authors.startswith("newcomer (console) Plan Bot coder threadcrew")
        assert "draw a square" in text_of(browser, "#thread .by-human")
        await blocking(lambda: browser.find_element(By.CSS_SELECTOR, "#thread .button-approve").click())

        # The code ran: its output and its image; then the reviewer asks the people.
        await until(browser, lambda d: QUESTION in text_of(d, "#thread"))
        assert "drew a square" in text_of(browser, "#thread")
        width = "return document.querySelector('#thread .file img').naturalWidth;"
        await until(browser, lambda d: d.execute_script(width) == 40)
        assert "Approved by newcomer (console)." in text_of(browser, "#thread")
        await blocking(lambda: browser.save_screenshot(str(artefacts / "7-web-thread.png")))

        browser.find_element(By.ID, "say").send_keys("yes, that is right")
        await blocking(lambda: browser.find_element(By.ID, "send").click())
        await until(browser, lambda d: "Looks complete." in text_of(d, "#thread"))
        assert "yes, that is right" in text_of(browser, "#thread .by-human")
        await bot.idle()
        [record] = await bot.db.stores.conversations.listing(platform="web")
        assert record.status == "finished"


async def web_threads_signed_in(browser: Any, base: str, name: str) -> None:
    """The web threads' page, once ``name`` signed in on the way."""
    await blocking(lambda: browser.get(f"{base}/web"))
    browser.find_element(By.ID, "name").send_keys(name)
    browser.find_element(By.ID, "token").send_keys(TOKEN)
    await blocking(lambda: browser.find_element(By.ID, "sign-in-button").click())
    await until(browser, lambda d: d.find_elements(By.ID, "task"))


async def test_a_person_attaches_images_in_the_web_thread_and_a_vision_model_sees_them(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, browser: Any, artefacts: Path
) -> None:
    model, server = crew
    chart, notes = tmp_path / "chart.png", tmp_path / "notes.txt"
    chart.write_bytes(tiny_png())
    notes.write_text("not an image")
    async with web_thread_bot(server, tmp_path, models=models(server.base_url, vision=True)) as bot:
        await web_threads_signed_in(browser, console_url(bot), "newcomer")
        browser.find_element(By.ID, "task").send_keys("explain my chart")
        browser.find_element(By.CSS_SELECTOR, "#start-form .images").send_keys(f"{chart}\n{notes}")
        await blocking(lambda: browser.find_element(By.ID, "start").click())

        await until(browser, lambda d: "does not see every file" in text_of(d, "#thread"))
        width = "return document.querySelector('#thread .by-human .file img').naturalWidth;"
        await until(browser, lambda d: d.execute_script(width) == 40)  # the person's image, on the page
        assert "- notes.txt: only images reach the team" in text_of(browser, "#thread")
        await blocking(lambda: browser.save_screenshot(str(artefacts / "8-web-thread-images.png")))
        await model.arrived("planner")

    [task] = people_content(model, "planner")[:1]
    url = f"data:image/png;base64,{base64.b64encode(tiny_png()).decode()}"
    assert [p["image_url"]["url"] for p in task if p["type"] == "image_url"] == [url]


async def test_an_operator_signs_in_with_openid_connect(
    crew: tuple[Crew, ScriptedOpenAI], tmp_path: Path, browser: Any, artefacts: Path
) -> None:
    """The code flow in the browser: the console's button, the provider's redirect, back signed in."""
    _, server = crew
    async with FakeOIDCProvider() as idp, crew_bot(server, tmp_path, settings=oidc_settings(idp)) as bot:
        await blocking(lambda: browser.get(f"{console_url(bot)}/usage"))
        assert "/console/sign-in" in browser.current_url
        assert browser.find_element(By.ID, "sign-in-oidc").text == "Sign in with Example SSO"
        await blocking(lambda: browser.save_screenshot(str(artefacts / "8-sign-in-providers.png")))
        await blocking(lambda: browser.find_element(By.ID, "sign-in-oidc").click())
        await until(browser, lambda d: d.find_elements(By.ID, "usage-by-team"))
        assert browser.current_url.endswith("/console/usage")  # back where the operator was going
        assert browser.find_element(By.ID, "operator").text == "ada@example.com"
        assert len(idp.authorizations) == 1
