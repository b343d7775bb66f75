"""Shipped defaults (data files only): the starter intent catalogue `intents.yaml` and, beside it, the other
files that make `kefu serve` useful with no configuration. No code lives here, so `intents` can read these files
through importlib.resources without importing anything of `bot`."""
