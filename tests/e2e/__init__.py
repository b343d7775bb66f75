"""End-to-end tests: kefu through its HTTP API, in process and as real `kefu serve` processes."""
