"""The console in a real browser: Debian's chromium, headless, driven by Playwright against kefu in process on a
real TCP port. A wrong password is refused; an agent sees a complaint's card arrive live, presses *Send* and the
customer's callback gets the reply while the card shows who sent it; `/metrics 7d chart` shows an image; a reload
keeps the feed. Screenshots go to the test's tmp folder (printed). No page may log a console error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import wait_until
from tests.fakes.callback_server import CallbackServer
from tests.webchat.conftest import CHROMIUM, MANAGER, MANAGER_PASSWORD

playwright_api = pytest.importorskip("playwright.async_api", reason="Playwright is not installed: run make install-dev")
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium, which `make test` tries): "
                "the console's browser tests are skipped", allow_module_level=True)

COMPLAINT = "My parcel never arrived and it has been three weeks"


class BrowserPage:
    """A Chromium page that records console errors and uncaught exceptions."""

    def __init__(self, page: Any, artifacts: Path) -> None:
        self.page = page
        self.artifacts = artifacts
        self.errors: list[str] = []
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    async def screenshot(self, name: str) -> Path:
        path = self.artifacts / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
        return path


async def open_page(browser: Any, tmp_path: Path, **options: Any) -> BrowserPage:
    """A new page in its own browser context (`options`: Playwright's context options, e.g. locale="es-ES")."""
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir(exist_ok=True)
    context = await browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **options})
    return BrowserPage(await context.new_page(), artifacts)


async def log_in(page: Any, base: str, name: str, password: str) -> None:
    await page.goto(f"{base}/console/login")
    await page.get_by_label("Name").fill(name)
    await page.get_by_label("Password").fill(password)
    await page.get_by_label("Password").press("Enter")


async def test_a_wrong_password_is_refused(start_kefu: Any, console_agents: None, browser: Any,
                                           tmp_path: Path) -> None:
    kefu = await start_kefu(None, wait=False)
    base = str(kefu.client.make_url("")).rstrip("/")
    tab = await open_page(browser, tmp_path)

    await log_in(tab.page, base, MANAGER, "not my password")

    await tab.page.get_by_role("alert").wait_for()
    assert await tab.page.get_by_role("alert").inner_text() == "Wrong name or password."
    assert tab.page.url.endswith("/console/login")
    await tab.page.goto(f"{base}/console")
    assert tab.page.url.endswith("/console/login")  # still not in
    await tab.screenshot("console-login-refused")
    # Chromium logs the refused login's 401 answer itself; nothing else may be logged.
    assert [error for error in tab.errors if "status of 401" not in error] == []


async def test_an_agent_sends_a_complaint_reply_runs_a_chart_and_the_feed_survives_a_reload(
    start_kefu: Any, callback_server: CallbackServer, console_agents: None, browser: Any, tmp_path: Path
) -> None:
    kefu = await start_kefu(callback_server.url)
    base = str(kefu.client.make_url("")).rstrip("/")
    tab = await open_page(browser, tmp_path)
    page = tab.page
    await log_in(page, base, MANAGER, MANAGER_PASSWORD)
    await page.wait_for_url(f"{base}/console")
    await page.get_by_text("live", exact=True).wait_for()

    answer = await (await kefu.post({"channel_message_id": "browser-1", "customer": {"id": "ana-9", "name": "Ana"},
                                     "text": COMPLAINT, "order_id": "B-2002"})).json()
    card = page.locator(f'li.card[data-ticket="{answer["ticket_id"]}"]')
    await card.get_by_text(COMPLAINT).wait_for()
    assert "B-2002" in await card.locator(".suggested").inner_text()
    await tab.screenshot("console-card")

    await card.get_by_role("button", name="Send suggested reply").click()

    [reply] = await wait_until(lambda: callback_server.received, "the reply at the customer's callback")
    assert reply["ticket_id"] == answer["ticket_id"] and "B-2002" in reply["text"]
    await card.get_by_text(f"Suggested reply sent by {MANAGER}").wait_for()  # the card's update, from the feed
    assert await card.get_by_role("button", name="Send suggested reply").count() == 0

    command = page.get_by_role("textbox", name="Command")
    await command.fill("/metrics 7d chart")
    await command.press("Enter")
    chart = page.locator("img.chart")
    await chart.wait_for()
    assert await chart.evaluate("image => image.complete && image.naturalWidth > 0")
    assert "Tickets: 1" in await page.locator(".answer-text").inner_text()
    await tab.screenshot("console-chart")

    await page.reload()
    await page.get_by_text("live", exact=True).wait_for()
    card = page.locator(f'li.card[data-ticket="{answer["ticket_id"]}"]')
    await card.get_by_text(f"Suggested reply sent by {MANAGER}").wait_for()
    assert await page.locator("li.card").count() == 1  # one card, in its newest state
    await tab.screenshot("console-after-reload")
    assert tab.errors == []


async def test_the_ticket_view_shows_the_facts_and_the_conversation(
    start_kefu: Any, callback_server: CallbackServer, console_agents: None, browser: Any, tmp_path: Path
) -> None:
    kefu = await start_kefu(callback_server.url)
    base = str(kefu.client.make_url("")).rstrip("/")
    tab = await open_page(browser, tmp_path)
    page = tab.page
    await log_in(page, base, MANAGER, MANAGER_PASSWORD)
    await page.wait_for_url(f"{base}/console")
    answer = await (await kefu.post({"channel_message_id": "browser-2", "customer": {"id": "ana-7", "name": "Ana"},
                                     "text": COMPLAINT, "order_id": "B-3003"})).json()
    card = page.locator(f'li.card[data-ticket="{answer["ticket_id"]}"]')
    await card.get_by_role("button", name="Send suggested reply").click()
    await card.get_by_text(f"Suggested reply sent by {MANAGER}").wait_for()

    await card.get_by_role("link", name=f"Ticket #{answer['ticket_id']}").click()

    await page.wait_for_url(f"{base}/console/tickets/{answer['ticket_id']}")
    facts = page.locator("dl.ticket-fields")
    assert "item_not_received" in await facts.inner_text() and "B-3003" in await facts.inner_text()
    messages = page.locator("ol.conversation > li.message")
    assert await messages.count() == 2
    customer, agent = messages.nth(0), messages.nth(1)
    assert await customer.get_attribute("class") == "message in by-customer"
    assert COMPLAINT in await customer.locator(".message-text").inner_text()
    assert await agent.get_attribute("class") == "message out by-agent"
    assert MANAGER in await agent.locator(".message-meta").inner_text()
    assert "B-3003" in await agent.locator(".message-text").inner_text()
    await tab.screenshot("console-ticket")
    await page.get_by_role("link", name="Back to the feed").click()
    await page.wait_for_url(f"{base}/console")
    assert tab.errors == []
