"""Tests of the manager command executor, answers, charts, scorecards, `kefu command` and daily orders."""
