"""The chat widget in a real browser (Debian's chromium, headless, Playwright; the console tests' set-up) on kefu's
demo store page: a customer writing in Spanish sees the auto-reply with the widget's labels in Spanish; an agent's
*Send* on the console appears in the customer's widget; after the server drops the stream the widget reconnects
and shows what was sent meanwhile, once; in Arabic the widget is right to left. Screenshots go to the test's tmp
folder (printed). No page may log a console error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import wait_until
from tests.webchat.conftest import MANAGER, MANAGER_PASSWORD
from tests.webchat.test_console_browser import BrowserPage, log_in, open_page

SPANISH_FAQ = "¿cuánto tarda el envío a México?"
COMPLAINT = "Your customer service is terrible, nobody ever answers my emails"


async def open_demo(kefu: Any, browser: Any, tmp_path: Path, locale: str, **options: Any) -> BrowserPage:
    tab = await open_page(browser, tmp_path, locale=locale, **options)
    await tab.page.goto(str(kefu.client.make_url("/widget/demo")))
    return tab


async def write(page: Any, label: str, text: str) -> None:
    box = page.get_by_role("textbox", name=label)
    await box.fill(text)
    await box.press("Enter")


async def test_a_spanish_customer_sees_the_auto_reply_in_the_demo_store_widget(
    start_kefu: Any, browser: Any, tmp_path: Path
) -> None:
    kefu = await start_kefu(None)
    tab = await open_demo(kefu, browser, tmp_path, "es-ES")
    page = tab.page

    await page.get_by_role("button", name="Chatea con nosotros").click()
    assert await page.get_by_role("textbox", name="Tu mensaje").evaluate("box => box === box.getRootNode()"
                                                                        ".activeElement")  # focus moved in
    await write(page, "Tu mensaje", SPANISH_FAQ)

    reply = page.locator("li.kefu").filter(has_text="plazos de entrega")
    await reply.wait_for()
    assert "Respuesta automática" in await reply.inner_text()
    assert await page.locator("li.visitor").filter(has_text=SPANISH_FAQ).count() == 1
    await tab.screenshot("widget-spanish-auto-reply")
    assert tab.errors == []

    await page.reload()  # the conversation is kept: the visitor's token and the database
    await page.get_by_role("dialog", name="Atención al cliente").wait_for()
    await reply.wait_for()
    assert await page.locator("li.visitor").count() == 1


async def test_an_agents_send_on_the_console_appears_in_the_customers_widget_and_a_dropped_stream_loses_nothing(
    start_kefu: Any, console_agents: None, browser: Any, tmp_path: Path
) -> None:
    kefu = await start_kefu(None)
    customer = await open_demo(kefu, browser, tmp_path, "en-GB", viewport={"width": 390, "height": 760})
    widget = customer.page
    await widget.get_by_role("button", name="Chat with us").click()
    await write(widget, "Your message", COMPLAINT)
    await widget.locator("li.visitor:not(.pending)").filter(has_text=COMPLAINT).wait_for()

    agent = await open_page(browser, tmp_path)
    base = str(kefu.client.make_url("")).rstrip("/")
    await log_in(agent.page, base, MANAGER, MANAGER_PASSWORD)
    await agent.page.wait_for_url(f"{base}/console")
    card = agent.page.locator("li.card").filter(has_text=COMPLAINT)
    await card.get_by_role("button", name="Send suggested reply").click()

    sent = widget.locator("li.agent")
    await sent.wait_for()
    assert "Our team" in await sent.inner_text()
    await customer.screenshot("widget-agent-reply-mobile")

    assert kefu.kefu.webchat is not None and kefu.kefu.pipeline is not None
    kefu.kefu.webchat.close_feeds()  # the server drops the stream; a reply is sent while the widget is away
    ticket_id = int(await card.get_attribute("data-ticket") or 0)
    await kefu.kefu.pipeline.record_agent_reply(ticket_id, MANAGER, "We have opened a claim with the carrier.")

    await widget.locator("li.agent").filter(has_text="opened a claim").wait_for()
    lines = await widget.locator("li").evaluate_all("items => items.map(item => item.dataset.key)")
    assert len(lines) == len(set(lines)) == 4  # greeting, the complaint, two agent replies: nothing twice
    await wait_until(lambda: kefu.kefu.webchat.open_feeds == 1, "the widget's one reconnected feed")
    assert customer.errors == [] and agent.errors == []


async def test_in_arabic_the_widget_is_right_to_left_with_arabic_labels(
    start_kefu: Any, browser: Any, tmp_path: Path
) -> None:
    kefu = await start_kefu(None, wait=False)
    tab = await open_demo(kefu, browser, tmp_path, "ar-EG")

    await tab.page.get_by_role("button", name="تحدث معنا").focus()
    await tab.page.keyboard.press("Enter")  # keyboard only

    dialog = tab.page.get_by_role("dialog", name="خدمة العملاء")
    await dialog.wait_for()
    assert await tab.page.locator(".w").get_attribute("dir") == "rtl"
    await tab.page.keyboard.press("Escape")
    await dialog.wait_for(state="hidden")
    await tab.screenshot("widget-arabic-closed")
    assert tab.errors == []
