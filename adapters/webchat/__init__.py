"""The built-in web channels: the team console (always active) and, later, the customers' chat widget."""
