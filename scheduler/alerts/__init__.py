"""Metric alerts (issue 7): rules from settings evaluated over metric windows, Alertmanager-style delivery.

`evaluation` judges a rule's groups against thresholds or a baseline, `breakdown` explains a deviation
(slices and phrases), `dispatch` holds the notification stages and cards, `cycle` runs one evaluation of
every rule and settles the state stored in the database.
"""

from scheduler.alerts.cycle import AlertEvaluation, EvaluationReport, GroupResult, RuleResult, evaluate_rules

__all__ = ["AlertEvaluation", "EvaluationReport", "GroupResult", "RuleResult", "evaluate_rules"]
