"""Tests of scheduler/: business-hours calendar, SLA watch, runner."""
