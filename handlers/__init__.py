"""Platform-neutral command parsing and actions on tickets."""
