"""Platform adapters: one subpackage per platform (transport, payload <-> neutral types, rendering)."""
