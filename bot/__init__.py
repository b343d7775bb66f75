"""kefu's core: settings, app assembly and lifecycle, the pipeline, the outbox, neutral message types, the CLI."""

__version__ = "0.1.0"
