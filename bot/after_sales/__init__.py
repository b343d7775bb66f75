"""After-sales requests: returns, refunds, exchanges and reships attached to tickets (issue 11).

`flow` holds the rules (types, the status flow of each type, reason codes and the buttons of each step), `money`
exact amounts in ISO 4217 currencies, `desk` the `AfterSalesDesk` that opens and moves requests in the database
(audit, cards, return instructions). Handlers expose it as card buttons (handlers/after_sales_actions.py) and
commands (`/returns`, `/request`); scheduler/after_sales.py posts the overdue reminders; bot.metrics counts them.

Import the modules themselves (`bot.after_sales.desk`): the pipeline imports `flow`, and the desk the pipeline.
"""
