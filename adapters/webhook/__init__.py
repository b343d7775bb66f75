"""The generic HTTP webhook channel: customers' messages come in by signed POST, replies go out by signed
callback.

`signing` owns the HMAC request signature both directions use, `callback` sends replies to the operator's
callback URL (an outbox sender), and `inbound` is the HTTP endpoint that turns a POST into an `Inbound`.
"""
