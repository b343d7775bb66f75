"""FAQ answers and reply templates per intent x language (x marketplace): rendering with fallback."""
