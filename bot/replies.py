"""Choosing what kefu says to a customer: the candidate reply (an FAQ answer or a template) and the decision.

A *candidate* is the best reply kefu could give: the answer of a matching FAQ entry in the customer's language (or
along the fallback chain), else the intent's template rendered with what the ticket knows. The *decision* applies
the reply policy (bot/reply_policy.py) and the safety rules:

- auto-send only when the pair's mode is `auto`, the confidence reaches `replies.auto_reply_min_confidence`, the
  candidate rendered with no missing variable, the channel can deliver replies, the conversation is under
  `replies.max_auto_replies_per_conversation`, the customer did not just answer an auto-reply with a complaint,
  and the caller has no reason to hold the reply for a person (`holds`: the order was not found, or is stuck);
- every auto-reply ends with the footer that says it is automatic (`replies.auto_reply_footer`, per language);
- otherwise the candidate is suggested to agents, with the reason auto-send did not happen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sqlmodel import Session

from bot.reply_policy import ReplyMode, ReplyPolicy
from bot.settings import ReplySettings
from knowledge.faq import FaqIndex
from knowledge.language_chain import language_chain
from knowledge.templates import TemplateError, TemplateLibrary

UNKNOWN_INTENT = "unknown"

DEFAULT_FOOTERS: dict[str, str] = {
    "en": "This is an automatic reply. Write back if you need a person; our team will take over.",
    "zh": "这是一条自动回复。如需人工客服，请直接回复本消息，我们的同事会接手处理。",
    "es": "Esta es una respuesta automática. Si necesita hablar con una persona, responda y nuestro equipo "
          "le atenderá.",
    "de": "Dies ist eine automatische Antwort. Wenn Sie eine Person sprechen möchten, antworten Sie einfach – "
          "unser Team übernimmt.",
    "fr": "Ceci est une réponse automatique. Si vous souhaitez parler à une personne, répondez simplement : "
          "notre équipe prendra le relais.",
    "ja": "このメッセージは自動返信です。担当者との対応をご希望の場合は、このままご返信ください。",
    "pt": "Esta é uma resposta automática. Se precisar falar com uma pessoa, responda e nossa equipe assumirá.",
    "it": "Questa è una risposta automatica. Se desidera parlare con una persona, risponda pure: "
          "il nostro team se ne occuperà.",
}


@dataclass(frozen=True)
class Candidate:
    """A reply kefu could send. `key` names its policy pair: the intent, or "faq:<id>" for an FAQ entry."""

    key: str
    kind: str
    language: str
    text: str | None
    missing: tuple[str, ...]
    source: str  # "template:order_status.es.j2" | "faq:ship-eu"


@dataclass(frozen=True)
class ReplyDecision:
    action: Literal["auto_replied", "suggested"]
    mode: ReplyMode
    candidate: Candidate | None
    text: str | None  # what goes to the customer (auto) or to the agent as suggestion (with no footer)
    reason: str  # why it was (not) sent automatically, for the card and the logs


class ReplyComposer:
    def __init__(self, templates: TemplateLibrary, policy: ReplyPolicy, settings: ReplySettings,
                 faq: FaqIndex | None = None) -> None:
        self.templates = templates
        self.policy = policy
        self.settings = settings
        self.faq = faq

    def chain(self, language: str | None) -> list[str]:
        return language_chain(language, self.settings.default_language)

    def candidate(self, *, intent: str, kind: str, language: str | None, variables: Mapping[str, Any],
                  marketplace: str | None, text: str, vector: np.ndarray | None = None) -> Candidate | None:
        if self.faq is not None:
            match = self.faq.search(text, self.chain(language), vector=vector)
            if match is not None and match.answer is not None and match.language is not None:
                faq_intent = match.entry.intent
                key = faq_intent if faq_intent and faq_intent == intent else f"faq:{match.entry.id}"
                return Candidate(key=key, kind="faq" if key.startswith("faq:") else kind, language=match.language,
                                 text=match.answer, missing=(), source=f"faq:{match.entry.id}")
        if intent == UNKNOWN_INTENT:
            return None
        try:
            rendered = self.templates.render(intent, language, variables, marketplace=marketplace)
        except TemplateError:
            return None  # a broken team template: logged by the caller's card footer, never a crash
        if rendered is None:
            return None
        return Candidate(key=intent, kind=kind, language=rendered.language, text=rendered.text,
                         missing=rendered.missing, source=f"template:{rendered.template}")

    def in_language(self, intent: str, language: str, variables: Mapping[str, Any],
                    marketplace: str | None) -> str | None:
        """The same template in another language (the team's), for agents to read what they would send."""
        try:
            rendered = self.templates.render(intent, language, variables, marketplace=marketplace)
        except TemplateError:
            return None
        return rendered.text if rendered is not None else None

    def decide(self, session: Session, candidate: Candidate | None, *, confidence: float, customer_language: str | None,
               can_deliver: bool, auto_replies_so_far: int, complaint_after_auto: bool,
               holds: Sequence[str] = ()) -> ReplyDecision:
        if candidate is None:
            reason = "no template or FAQ answer for this message"
            if complaint_after_auto:
                reason += "; the customer answered an auto-reply with a complaint"
            return ReplyDecision("suggested", "suggest", None, None, reason)
        mode = self.policy.mode_for(session, candidate.key, candidate.kind, customer_language)
        if mode == "off":
            return ReplyDecision("suggested", mode, None, None, f"replies for {candidate.key} are off")
        blockers = []
        if mode != "auto":
            blockers.append(f"{candidate.key} is in {mode} mode")
        if candidate.text is None:
            blockers.append("missing " + ", ".join(candidate.missing))
        if confidence < self.settings.auto_reply_min_confidence:
            blockers.append(f"confidence {confidence:.2f} < {self.settings.auto_reply_min_confidence:.2f}")
        if not can_deliver:
            blockers.append("this channel cannot deliver replies")
        if auto_replies_so_far >= self.settings.max_auto_replies_per_conversation:
            blockers.append(f"{auto_replies_so_far} auto-replies already sent in this conversation")
        if complaint_after_auto:
            blockers.append("the customer answered an auto-reply with a complaint")
        blockers.extend(holds)
        if blockers:
            return ReplyDecision("suggested", mode, candidate, candidate.text, "; ".join(blockers))
        assert candidate.text is not None
        return ReplyDecision("auto_replied", mode, candidate, self.with_footer(candidate.text, candidate.language),
                             f"{candidate.source} sent automatically")

    def with_footer(self, text: str, language: str) -> str:
        footers = {**DEFAULT_FOOTERS, **self.settings.auto_reply_footer}
        footer = next((footers[code] for code in self.chain(language) if code in footers), "")
        return f"{text}\n\n{footer}" if footer.strip() else text
