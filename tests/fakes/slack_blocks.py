"""Block Kit checks for the fake Slack: the limits Slack enforces on message blocks and modal views, reported the way
Slack reports them (`"[ERROR] <what> [json-pointer:/blocks/0/text/text]"` in `response_metadata.messages`).

Loose on purpose: unknown optional fields pass, only the rules a bot meets in practice are checked (block types,
text lengths, element counts, button text/value, action_id uniqueness, modal title lengths). The limits are those of
Slack's Block Kit reference (header 150, section text 3000, 10 fields of 2000, 25 actions elements, button text 75
and value 2000, action_id and block_id 255, 50 blocks in a message and 100 in a view, view title 24).
"""

from __future__ import annotations

from typing import Any

MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
BLOCK_TYPES = frozenset({
    "actions", "context", "context_actions", "divider", "file", "header", "image", "input", "markdown",
    "rich_text", "section", "table", "video",
})
ELEMENT_TYPES = frozenset({
    "button", "checkboxes", "datepicker", "datetimepicker", "email_text_input", "external_select", "image",
    "multi_channels_select", "multi_conversations_select", "multi_external_select", "multi_static_select",
    "multi_users_select", "number_input", "overflow", "plain_text_input", "radio_buttons", "rich_text_input",
    "static_select", "channels_select", "conversations_select", "timepicker", "url_text_input", "users_select",
    "workflow_button", "file_input", "feedback_buttons", "icon_button",
})
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})


class _Checker:
    """Collects the errors of one message or view; action_ids and block_ids must be unique across all its blocks."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.action_ids: set[str] = set()
        self.block_ids: set[str] = set()

    def error(self, what: str, pointer: str) -> None:
        self.errors.append(f"[ERROR] {what} [json-pointer:{pointer}]")

    def text(self, value: Any, pointer: str, *, limit: int, plain_only: bool = False, required: bool = True) -> None:
        if value is None:
            if required:
                self.error("missing required field: text", pointer)
            return
        if not isinstance(value, dict):
            self.error("must be a text object", pointer)
            return
        kind = value.get("type")
        allowed = {"plain_text"} if plain_only else TEXT_TYPES
        if kind not in allowed:
            expected = " or ".join(sorted(allowed))
            self.error(f"must be {expected}, not {kind!r}", f"{pointer}/type")
        text = value.get("text")
        if not isinstance(text, str):
            self.error("missing required field: text", f"{pointer}/text")
        elif not text:
            self.error("must be more than 0 characters", f"{pointer}/text")
        elif len(text) > limit:
            self.error(f"must be less than {limit + 1} characters", f"{pointer}/text")

    def identifier(self, value: Any, pointer: str, seen: set[str], name: str) -> None:
        if value is None:
            return
        if not isinstance(value, str) or not value:
            self.error(f"{name} must be a non-empty string", pointer)
        elif len(value) > 255:
            self.error("must be less than 256 characters", pointer)
        elif value in seen:
            self.error(f"duplicate {name} {value!r}: each {name} must be unique in the message", pointer)
        else:
            seen.add(value)

    def element(self, element: Any, pointer: str) -> None:
        if not isinstance(element, dict):
            self.error("must be an object", pointer)
            return
        kind = element.get("type")
        if kind not in ELEMENT_TYPES:
            self.error(f"unsupported element type {kind!r}", f"{pointer}/type")
            return
        self.identifier(element.get("action_id"), f"{pointer}/action_id", self.action_ids, "action_id")
        if kind == "button":
            self.text(element.get("text"), f"{pointer}/text", limit=75, plain_only=True)
            value = element.get("value")
            if value is not None and (not isinstance(value, str) or len(value) > 2000):
                self.error("must be a string of at most 2000 characters", f"{pointer}/value")
            url = element.get("url")
            if url is not None and (not isinstance(url, str) or len(url) > 3000):
                self.error("must be a string of at most 3000 characters", f"{pointer}/url")
            style = element.get("style")
            if style is not None and style not in ("primary", "danger"):
                self.error(f"must be 'primary' or 'danger', not {style!r}", f"{pointer}/style")
        elif kind == "image":
            for name in ("image_url", "alt_text"):
                if not element.get(name) and not (name == "image_url" and element.get("slack_file")):
                    self.error(f"missing required field: {name}", f"{pointer}/{name}")

    def block(self, block: Any, pointer: str) -> None:
        if not isinstance(block, dict):
            self.error("must be an object", pointer)
            return
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            self.error(f"unsupported block type {kind!r}", f"{pointer}/type")
            return
        self.identifier(block.get("block_id"), f"{pointer}/block_id", self.block_ids, "block_id")
        if kind == "header":
            self.text(block.get("text"), f"{pointer}/text", limit=150, plain_only=True)
        elif kind == "section":
            self.section(block, pointer)
        elif kind == "actions":
            self.elements(block.get("elements"), f"{pointer}/elements", limit=25)
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                self.error("must be a non-empty array", f"{pointer}/elements")
                return
            if len(elements) > 10:
                self.error("no more than 10 items allowed", f"{pointer}/elements")
            for index, element in enumerate(elements):
                if isinstance(element, dict) and element.get("type") in TEXT_TYPES:
                    self.text(element, f"{pointer}/elements/{index}", limit=3000)
                else:
                    self.element(element, f"{pointer}/elements/{index}")
        elif kind == "input":
            self.text(block.get("label"), f"{pointer}/label", limit=2000, plain_only=True)
            if "element" not in block:
                self.error("missing required field: element", f"{pointer}/element")
            else:
                self.element(block["element"], f"{pointer}/element")
        elif kind == "image" and not block.get("alt_text"):
            self.error("missing required field: alt_text", f"{pointer}/alt_text")

    def section(self, block: dict[str, Any], pointer: str) -> None:
        fields = block.get("fields")
        if "text" not in block and not fields and "expand" not in block:
            self.error("must provide text or fields", pointer)
        if "text" in block:
            self.text(block["text"], f"{pointer}/text", limit=3000)
        if fields is not None:
            if not isinstance(fields, list):
                self.error("must be an array", f"{pointer}/fields")
            else:
                if len(fields) > 10:
                    self.error("no more than 10 items allowed", f"{pointer}/fields")
                for index, field in enumerate(fields):
                    self.text(field, f"{pointer}/fields/{index}", limit=2000)
        if "accessory" in block:
            self.element(block["accessory"], f"{pointer}/accessory")

    def elements(self, elements: Any, pointer: str, *, limit: int) -> None:
        if not isinstance(elements, list) or not elements:
            self.error("must be a non-empty array", pointer)
            return
        if len(elements) > limit:
            self.error(f"no more than {limit} items allowed", pointer)
        for index, element in enumerate(elements):
            self.element(element, f"{pointer}/{index}")

    def blocks(self, blocks: list[Any], pointer: str, *, limit: int) -> None:
        if len(blocks) > limit:
            self.error(f"no more than {limit} items allowed", pointer)
        for index, block in enumerate(blocks):
            self.block(block, f"{pointer}/{index}")


def message_block_errors(blocks: list[Any]) -> list[str]:
    """What is wrong with a message's blocks, as Slack words it (empty when they are fine)."""
    checker = _Checker()
    checker.blocks(blocks, "/blocks", limit=MESSAGE_BLOCK_LIMIT)
    return checker.errors


def view_errors(view: Any) -> list[str]:
    """What is wrong with a modal/home view (type, title/submit/close lengths, blocks, metadata sizes)."""
    checker = _Checker()
    if not isinstance(view, dict):
        checker.error("must be an object", "/view")
        return checker.errors
    kind = view.get("type")
    if kind not in ("modal", "home"):
        checker.error(f"must be 'modal' or 'home', not {kind!r}", "/view/type")
    if kind == "modal":
        checker.text(view.get("title"), "/view/title", limit=24, plain_only=True)
    for name in ("submit", "close"):
        checker.text(view.get(name), f"/view/{name}", limit=24, plain_only=True, required=False)
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        checker.error("must be an array", "/view/blocks")
    else:
        checker.blocks(blocks, "/view/blocks", limit=VIEW_BLOCK_LIMIT)
    for name, limit in (("callback_id", 255), ("external_id", 255), ("private_metadata", 3000)):
        value = view.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            checker.error(f"must be a string of at most {limit} characters", f"/view/{name}")
    return checker.errors
