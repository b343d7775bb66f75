"""kefu's own words in command answers, command errors and action results, in English and Chinese (zh-CN).

A message is made once, as a `Phrase` (a catalogue key and its fields), and written in the asker's language where
it is shown: `say("action.assigned", ticket=42, agent="mei").text("zh")`. `str()` of a phrase is its English, so
logs, the audit log and code that only knows strings keep working. Fields are data (ticket ids, intent names,
agent names, numbers) and are never translated; a field that is itself a `Phrase` is written in the same language
(a tuple of phrases as a list: "a, b" / "a，b"). A core `bot.wording.Wording` whose key is a catalogue key is
written by `write_wording`, the writer the core's card builders are given.

English is the default (Slack, the console, the CLI); DingTalk and WeCom ask for their configured language,
Chinese unless `[dingtalk] language` / `[wecom] language` say "en".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from bot.messages import Card
from bot.wording import Wording

Language = Literal["en", "zh"]
LANGUAGES: Final[tuple[Language, ...]] = ("en", "zh")

# key → {"en": ..., "zh": ...}; str.format fields in braces. English texts keep the wording kefu always had.
PHRASES: Final[dict[str, dict[Language, str]]] = {
    # -- commands: the frame of an answer --------------------------------------------------------------------
    "command.usage": {"en": "Usage: {usage}", "zh": "用法：{usage}"},
    "command.denied": {"en": "Sorry — {reason}", "zh": "抱歉，{reason}"},
    "command.not_understood": {"en": "That command could not be understood.", "zh": "没能理解这条命令。"},
    "command.internal": {"en": "Sorry, internal error, reference {reference}. The details are in kefu's log.",
                         "zh": "抱歉，kefu 出了内部错误（编号 {reference}），详情见 kefu 日志。"},
    "hint.did_you_mean": {"en": '{message} Did you mean "{suggestion}"?',
                          "zh": "{message}你是不是想输入“{suggestion}”？"},
    "hint.note": {"en": "{message} {note}", "zh": "{message}{note}"},
    # -- command errors ---------------------------------------------------------------------------------------
    "command.unknown": {"en": 'Unknown command "{word}".', "zh": "没有“{word}”这个命令。"},
    "command.unknown.more": {"en": "{message} Type /kefu help for what I can do.",
                             "zh": "{message}发送 /帮助 查看 kefu 能做什么。"},
    "command.too_long": {"en": "That command is {length} characters long; commands are at most {limit}.",
                         "zh": "这条命令有 {length} 个字符，命令最多 {limit} 个字符。"},
    "command.unexpected": {"en": 'Unexpected "{word}" after "{after}".', "zh": "“{after}”后面多了“{word}”。"},
    "command.takes_nothing": {"en": "{command} takes no options.", "zh": "{command} 不带参数。"},
    "command.twice": {"en": '{what} given twice: "{first}" and "{second}". Give one.',
                      "zh": "{what}给了两次：“{first}”和“{second}”，只能给一个。"},
    "command.unknown_word": {"en": 'Unknown word "{word}" in {command}.', "zh": "{command} 里的“{word}”无法识别。"},
    "command.unknown_word_after": {"en": 'Unknown word "{word}" after "{after}".',
                                   "zh": "“{after}”后面的“{word}”无法识别。"},
    "command.needs_ticket": {"en": '"{head}" needs a ticket ID, e.g. "{example}".',
                             "zh": "“{head}”后面要写工单号，例如“{example}”。"},
    "command.needs_ticket_and_agent": {"en": '"{head}" needs a ticket ID and an agent, e.g. "{example}".',
                                       "zh": "“{head}”后面要写工单号和客服，例如“{example}”。"},
    "command.needs_silence_id": {"en": '"{head}" needs the ID of the silence to end, e.g. "{example}".',
                                 "zh": "“{head}”后面要写要取消的静默 ID，例如“{example}”。"},
    "command.not_a_number": {"en": 'The {what} is a number such as {example}, not "{word}".',
                             "zh": "{what}应是数字，例如 {example}，而不是“{word}”。"},
    "command.text_too_long": {"en": "The {what} is {length} characters long; at most {limit}.",
                              "zh": "{what}有 {length} 个字符，最多 {limit} 个。"},
    "command.no_help": {"en": 'There is no help on "{topic}".', "zh": "没有关于“{topic}”的帮助。"},
    "command.not_an_agent": {"en": '"{word}" does not name an agent; write @name.',
                             "zh": "“{word}”不是客服名，请写成 @名字。"},
    "command.queue_word": {"en": '"{word}" is neither an intent such as refund_request nor a language such as de.',
                           "zh": "“{word}”既不是意图（如 refund_request），也不是语言（如 de）。"},
    "command.queue_one": {"en": "/queue takes one intent or one language.", "zh": "/queue 只接受一个意图或一种语言。"},
    "command.shift_what": {"en": 'Say what to do with @{agent}\'s shift: "/shift start @{agent}" or '
                                 '"/shift stop @{agent}".',
                           "zh": "请说明对 @{agent} 的班次做什么：“/值班 上班 @{agent}”或“/值班 下班 @{agent}”。"},
    "noun.ticket_id": {"en": "ticket ID", "zh": "工单号"},
    "noun.silence_id": {"en": "silence ID", "zh": "静默 ID"},
    "noun.note": {"en": "note", "zh": "备注"},
    "noun.reason": {"en": "reason", "zh": "原因"},
    "option.breakdown": {"en": "A breakdown", "zh": "拆分维度"},
    "option.comparison": {"en": "A comparison", "zh": "对比"},
    "option.chart": {"en": "chart", "zh": "图表"},
    "option.window": {"en": "A time window", "zh": "时间窗口"},
    "option.metric": {"en": "A metric", "zh": "指标"},
    "option.agent": {"en": "An agent", "zh": "客服"},
    "option.shift_action": {"en": "start or stop", "zh": "上班或下班"},
    # /metrics options
    "metrics.needs_dimension": {"en": '"{word}" needs a dimension: {dimensions}.',
                                "zh": "“{word}”后面要写维度：{dimensions_zh}。"},
    "metrics.unknown_dimension": {"en": 'Unknown dimension "{word}" after "{by}".',
                                  "zh": "“{by}”后面的“{word}”不是维度。"},
    "metrics.dimensions": {"en": "{message} Dimensions: {dimensions}.", "zh": "{message}可用维度：{dimensions_zh}。"},
    "metrics.not_comparison": {"en": '"{typed}" is not a comparison. Did you mean "vs prev"?',
                               "zh": "“{typed}”不是对比选项。你是不是想输入“vs prev”或“环比”？"},
    # /alerts silence
    "silence.needs_rule": {"en": '"{head}" needs the RULE to silence and a DURATION, e.g. "{example}".',
                           "zh": "“{head}”后面要写要静默的规则（RULE）和时长（DURATION），例如“{example}”。"},
    "silence.rule_is_duration": {"en": 'Missing RULE: "{word}" is a duration; say which rule to silence first.',
                                 "zh": "缺少规则：“{word}”是时长，请先写要静默哪条规则。"},
    "silence.rule_is_label": {"en": 'Missing RULE: "{word}" is a label; the rule comes right after "{head}".',
                              "zh": "缺少规则：“{word}”是标签，规则要紧跟在“{head}”后面。"},
    "silence.not_a_rule": {"en": '"{word}" is not a rule name (letters, digits, "_", ".", "-"; at most 128).',
                           "zh": "“{word}”不是规则名（字母、数字、“_”、“.”、“-”，最多 128 个字符）。"},
    "silence.label_twice": {"en": 'The label {label} is given twice: "{first}" and "{second}".',
                            "zh": "标签 {label} 给了两次：“{first}”和“{second}”。"},
    "silence.label_value_not_duration": {
        "en": 'Missing DURATION: "{word}" reads as a label with the value "{value}"; give the label a value, then the '
              "duration.",
        "zh": "缺少时长：“{word}”被当成了值为“{value}”的标签；请先写标签的值，再写时长。"},
    "silence.needs_duration": {"en": 'Missing DURATION: how long should "{rule}" be silenced? Write 30m, 2h, 1d or '
                                     "1h30m (at most 30 days).",
                               "zh": "缺少时长：“{rule}”要静默多久？请写 30m、2h、1d、1h30m 或 2小时（最多 30 天）。"},
    "silence.not_a_duration": {"en": '"{word}" is not a DURATION; write 30m, 2h, 1d or 1h30m.',
                               "zh": "“{word}”不是时长，请写 30m、2h、1d、1h30m 或 2小时。"},
    "silence.too_short": {"en": 'A silence of "{word}" would end at once; give at least 1m.',
                          "zh": "静默“{word}”会立即结束，至少写 1m。"},
    "silence.too_long": {"en": '"{word}" is too long: a silence lasts at most 30 days.',
                         "zh": "“{word}”太长了：静默最多 30 天。"},
    "silence.rule_as_label": {"en": '"{word}": the rule comes right after "silence", not as a label.',
                              "zh": "“{word}”：规则要紧跟在“静默”（silence）后面，不能写成标签。"},
    "silence.unknown_label": {"en": 'Unknown label "{label}" in "{word}".',
                              "zh": "“{word}”里的标签“{label}”无法识别。"},
    "silence.labels": {"en": "{message} Labels: {labels}.", "zh": "{message}可用标签：{labels}。"},
    "silence.no_value": {"en": '"{word}" has no value: write {label}=VALUE.',
                         "zh": "“{word}”没有值，请写成 {label}=值。"},
    "silence.severity": {"en": '"{word}": severity is 1, 2 or 3.', "zh": "“{word}”：严重程度只能是 1、2 或 3。"},
    "silence.value_too_long": {"en": '"{label}=…" is too long: a value is at most {limit} characters.',
                               "zh": "“{label}=…”太长了：值最多 {limit} 个字符。"},
    # time windows
    "window.usage": {"en": "a time window is one of {windows}",
                     "zh": "时间窗口可以是 {windows}，或中文的 今天、昨天、24小时、7天、近30天、2周"},
    "window.not_a_window": {"en": '"{word}" is not a time window.', "zh": "“{word}”不是时间窗口。"},
    "window.empty": {"en": '"{word}" is an empty window; give at least 1{unit}.',
                     "zh": "“{word}”是空窗口，至少写 1{unit}。"},
    "window.too_long": {"en": '"{word}" is too long: a window is at most 400 days.',
                        "zh": "“{word}”太长了：时间窗口最多 400 天。"},
    "window.reversed": {"en": '"{word}" ends ({last}) before it starts ({first}).',
                        "zh": "“{word}”的结束日期（{last}）早于开始日期（{first}）。"},
    "window.bad_range": {"en": '"{word}" is not a date range; write FROM..TO with ISO dates, e.g. '
                               "2026-11-01..2026-11-15.",
                         "zh": "“{word}”不是日期范围，请写成 开始..结束，例如 2026-11-01..2026-11-15。"},
    "window.year_range": {"en": '"{text}"{where} is out of range: years {low} to {high}.',
                          "zh": "“{text}”{where}超出范围：年份须在 {low} 到 {high} 之间。"},
    "window.bad_date": {"en": '"{text}"{where} is not a valid date.', "zh": "“{text}”{where}不是有效日期。"},
    "window.in_word": {"en": ' in "{word}"', "zh": "（在“{word}”中）"},
    "window.future": {"en": "The window {token} starts in the future (today is {today}).",
                      "zh": "时间窗口 {token} 从未来开始（今天是 {today}）。"},
    "window.today": {"en": "today", "zh": "今天"},
    "window.today_back_1": {"en": "yesterday (same hours)", "zh": "昨天同时段"},
    "window.today_back_n": {"en": "{back} days ago (same hours)", "zh": "{back} 天前同时段"},
    "window.yesterday": {"en": "yesterday", "zh": "昨天"},
    "window.yesterday_back_1": {"en": "the day before yesterday", "zh": "前天"},
    "window.yesterday_back_n": {"en": "{days} days ago", "zh": "{days} 天前"},
    "window.last": {"en": "last {span}", "zh": "近{span}"},
    "window.previous": {"en": "previous {span}", "zh": "前{span}"},
    "window.earlier": {"en": "{span}, {back} periods earlier", "zh": "{span}，往前第 {back} 期"},
    "unit.h.1": {"en": "hour", "zh": "1小时"},
    "unit.h.n": {"en": "{amount} hours", "zh": "{amount}小时"},
    "unit.d.1": {"en": "day", "zh": "1天"},
    "unit.d.n": {"en": "{amount} days", "zh": "{amount}天"},
    "unit.w.1": {"en": "week", "zh": "1周"},
    "unit.w.n": {"en": "{amount} weeks", "zh": "{amount}周"},
    # permissions
    "permission.denied": {"en": "Only {role} can {what}; you are signed in as {actor_role}.{hint}",
                          "zh": "只有{role}才能{what}；你当前的身份是{actor_role}。{hint}"},
    "permission.own_numbers": {"en": " You can see your own numbers with /agent.",
                               "zh": "你可以用 /agent（/客服）查看自己的数据。"},
    "role.agent": {"en": "an agent", "zh": "客服"},
    "role.manager": {"en": "a manager", "zh": "经理"},
    "role.admin": {"en": "an admin", "zh": "管理员"},
    "permission.metrics_by_agent": {"en": "see metrics by agent", "zh": "查看按客服拆分的指标"},
    "permission.scorecard": {"en": "see the scorecard of {agent}", "zh": "查看 {agent} 的评分卡"},
    "permission.silence": {"en": "silence alerts", "zh": "静默告警"},
    "permission.unsilence": {"en": "end a silence", "zh": "取消静默"},
    "permission.assign": {"en": "assign tickets to {agent}", "zh": "把工单分配给 {agent}"},
    "permission.shift_start": {"en": "start the shift of {agent}", "zh": "为 {agent} 开始值班"},
    "permission.shift_stop": {"en": "stop the shift of {agent}", "zh": "结束 {agent} 的值班"},
    "permission.returns_pending": {"en": "list the after-sales requests awaiting approval",
                                   "zh": "查看待审批的售后申请"},
    "permission.returns_approve": {"en": "approve after-sales requests", "zh": "批准售后申请"},
    "permission.returns_reject": {"en": "reject after-sales requests", "zh": "拒绝售后申请"},
    # -- help -------------------------------------------------------------------------------------------------
    "help.title": {"en": "kefu commands:", "zh": "kefu 命令："},
    "help.entry": {"en": "  {summary}{note}. Example: {example}", "zh": "  {summary}{note}。示例：{example}"},
    "help.entry_note": {"en": " ({note})", "zh": "（{note}）"},
    "help.this_help": {"en": "  this help, or one command in detail. Example: {example}",
                       "zh": "  本帮助，或某个命令的详细说明。示例：{example}"},
    "help.mention_first": {"en": "Mention the bot first ({mention}), then the command.",
                           "zh": "先 @机器人（{mention}），再写命令。"},
    "help.chinese_words": {"en": "Chinese words work too: 指标, 告警, 工单, 客服, 分配, 队列, 值班, 帮助.",
                           "zh": "英文命令同样可用：/metrics、/alerts、/ticket、/agent、/assign、/queue、/shift、"
                                 "/kefu help。"},
    "help.no_charts": {"en": "Charts cannot be shown here; the numbers come as text.",
                       "zh": "这里无法显示图表，数据以文字给出。"},
    "help.note": {"en": "Note: {note}.", "zh": "注意：{note}。"},
    "help.examples": {"en": "Examples:", "zh": "示例："},
    # -- answers ----------------------------------------------------------------------------------------------
    "metrics.title": {"en": "*Metrics · {window}{by}*", "zh": "*指标 · {window}{by}*"},
    "metrics.by": {"en": " by {dimension}", "zh": " · 按{dimension}"},
    "metrics.not_begun": {"en": "The window {span} has not begun yet: nothing to count.",
                          "zh": "时间窗口 {span} 还没开始，没有可统计的数据。"},
    "metrics.versus": {"en": "(▲▼ vs {window})", "zh": "（▲▼ 对比{window}）"},
    "metrics.total": {"en": "Total: {count} tickets", "zh": "合计：{count} 个工单"},
    "metrics.chart_attached": {"en": "Chart attached.", "zh": "已附图表。"},
    "metrics.line": {"en": "{label}: {value}{delta}", "zh": "{label}：{value}{delta}"},
    "metrics.business_hours": {"en": " (business hours: {value})", "zh": "（工作时间：{value}）"},
    "metrics.no_change": {"en": "= no change", "zh": "= 持平"},
    "metrics.points": {"en": "{amount} pts", "zh": "{amount} 个百分点"},
    "metrics.relative": {"en": " ({change})", "zh": "（{change}）"},
    "metrics.new_group": {"en": "new", "zh": "新增"},
    "metrics.none_group": {"en": "(none)", "zh": "（无）"},
    "metrics.per_1k_orders": {"en": "/1k orders", "zh": "每千单"},
    "metrics.more_groups": {"en": "…and {count} more groups", "zh": "……还有 {count} 组"},
    "metrics.per_orders": {"en": "Per 1,000 orders ({orders} orders): {parts}",
                           "zh": "每千单（共 {orders} 单）：{parts}"},
    "metrics.per_orders.tickets": {"en": "tickets {rate}", "zh": "工单 {rate}"},
    "metrics.per_orders.complaints": {"en": "complaints {rate}", "zh": "投诉 {rate}"},
    "metrics.per_orders.refund_return": {"en": "refund/return requests {rate}", "zh": "退款/退货请求 {rate}"},
    "metrics.chart_by": {"en": "{label} by {dimension} · {window}", "zh": "{label} · 按{dimension} · {window}"},
    "metrics.chart_trend": {"en": "{label} · {window} ({step})", "zh": "{label} · {window}（{step}）"},
    "metrics.chart_hourly": {"en": "hourly", "zh": "按小时"},
    "metrics.chart_daily": {"en": "daily", "zh": "按天"},
    "metrics.chart_hours": {"en": "{label} (h)", "zh": "{label}（小时）"},
    "metrics.chart_percent": {"en": "{label} (%)", "zh": "{label}（%）"},
    # metric names (the English is bot/metrics/definitions.py's label; tests keep the two equal)
    "metric.volume": {"en": "Tickets", "zh": "工单量"},
    "metric.inbound_messages": {"en": "Inbound messages", "zh": "客户来信数"},
    "metric.first_response_time_mean": {"en": "First response time (mean)", "zh": "首次响应时长（平均）"},
    "metric.first_response_time_median": {"en": "First response time (median)", "zh": "首次响应时长（中位数）"},
    "metric.first_response_time_p90": {"en": "First response time (p90)", "zh": "首次响应时长（90分位）"},
    "metric.resolution_time_mean": {"en": "Resolution time (mean)", "zh": "解决时长（平均）"},
    "metric.resolution_time_median": {"en": "Resolution time (median)", "zh": "解决时长（中位数）"},
    "metric.resolution_time_p90": {"en": "Resolution time (p90)", "zh": "解决时长（90分位）"},
    "metric.first_response_time_business_mean": {"en": "First response time, business hours (mean)",
                                                 "zh": "首次响应时长（工作时间，平均）"},
    "metric.first_response_time_business_median": {"en": "First response time, business hours (median)",
                                                   "zh": "首次响应时长（工作时间，中位数）"},
    "metric.first_response_time_business_p90": {"en": "First response time, business hours (p90)",
                                                "zh": "首次响应时长（工作时间，90分位）"},
    "metric.resolution_time_business_mean": {"en": "Resolution time, business hours (mean)",
                                             "zh": "解决时长（工作时间，平均）"},
    "metric.resolution_time_business_median": {"en": "Resolution time, business hours (median)",
                                               "zh": "解决时长（工作时间，中位数）"},
    "metric.resolution_time_business_p90": {"en": "Resolution time, business hours (p90)",
                                            "zh": "解决时长（工作时间，90分位）"},
    "metric.sla_first_response_compliance": {"en": "First response SLA met", "zh": "首次响应 SLA 达标率"},
    "metric.sla_resolution_compliance": {"en": "Resolution SLA met", "zh": "解决 SLA 达标率"},
    "metric.one_touch_resolution_rate": {"en": "One-touch resolution", "zh": "一次解决率"},
    "metric.backlog": {"en": "Backlog", "zh": "积压工单"},
    "metric.backlog_under_4h": {"en": "Backlog < 4 h", "zh": "积压 < 4 小时"},
    "metric.backlog_4h_to_24h": {"en": "Backlog 4-24 h", "zh": "积压 4-24 小时"},
    "metric.backlog_1d_to_3d": {"en": "Backlog 1-3 d", "zh": "积压 1-3 天"},
    "metric.backlog_over_3d": {"en": "Backlog > 3 d", "zh": "积压 > 3 天"},
    "metric.auto_reply_rate": {"en": "Auto-reply rate (deflection)", "zh": "自动回复率（免人工）"},
    "metric.auto_reply_acceptance_rate": {"en": "Auto-reply acceptance", "zh": "建议回复采纳率"},
    "metric.suggestion_edit_rate": {"en": "Suggestion edit rate", "zh": "建议回复修改率"},
    "metric.csat_mean": {"en": "CSAT", "zh": "CSAT 满意度"},
    "metric.csat_response_rate": {"en": "CSAT response rate", "zh": "CSAT 回复率"},
    "metric.negative_sentiment_share": {"en": "Negative sentiment", "zh": "负面情绪占比"},
    "metric.complaint_rate": {"en": "Complaint rate", "zh": "投诉率"},
    "metric.refund_return_request_rate": {"en": "Refund/return request rate", "zh": "退款/退货请求率"},
    "metric.after_sales_requests": {"en": "After-sales requests", "zh": "售后申请数"},
    "metric.refund_amount": {"en": "Refunded amount", "zh": "退款金额"},
    "metric.after_sales_age_mean": {"en": "After-sales request age (mean)", "zh": "售后申请时长（平均）"},
    "metric.refund_rate": {"en": "Refund rate", "zh": "退款率"},
    # the short names of breakdown table columns (handlers/commands/answers.py SHORT_LABELS)
    "metric.short.volume": {"en": "Tickets", "zh": "工单"},
    "metric.short.first_response_time_median": {"en": "FRT med", "zh": "首响中位"},
    "metric.short.first_response_time_business_median": {"en": "FRT med (bh)", "zh": "首响中位(工时)"},
    "metric.short.sla_first_response_compliance": {"en": "FR SLA", "zh": "首响SLA"},
    "metric.short.csat_mean": {"en": "CSAT", "zh": "CSAT"},
    "metric.short.csat_response_rate": {"en": "CSAT resp.", "zh": "CSAT回复率"},
    "metric.short.negative_sentiment_share": {"en": "Negative", "zh": "负面"},
    "metric.short.complaint_rate": {"en": "Complaints", "zh": "投诉"},
    "dimension.intent": {"en": "intent", "zh": "意图"},
    "dimension.channel": {"en": "channel", "zh": "渠道"},
    "dimension.region": {"en": "region", "zh": "地区"},
    "dimension.agent": {"en": "agent", "zh": "客服"},
    "dimension.language": {"en": "language", "zh": "语言"},
    "dimension.marketplace": {"en": "marketplace", "zh": "平台"},
    "dimension.sku": {"en": "sku", "zh": "商品"},
    "sla.none": {"en": "*SLA*: no open ticket is breached or at risk. ✅", "zh": "*SLA*：没有超时或即将超时的工单。✅"},
    "sla.title": {"en": "*SLA* · {breached} breached, {at_risk} at risk (as of {now})",
                  "zh": "*SLA* · {breached} 个已超时，{at_risk} 个即将超时（截至 {now}）"},
    "sla.breached": {"en": "Breached", "zh": "已超时"},
    "sla.at_risk": {"en": "At risk", "zh": "即将超时"},
    "alerts.none": {"en": "*Alerts*: nothing is firing. ✅", "zh": "*告警*：没有正在触发的告警。✅"},
    "alerts.title": {"en": "*Alerts* · {count} firing", "zh": "*告警* · {count} 条正在触发"},
    "alerts.item": {"en": "• {level} {rule}{group}{value} — firing since {at} ({since})",
                    "zh": "• {level} {rule}{group}{value} — {at} 起触发（{since}）"},
    "alerts.value": {"en": " value {value}", "zh": " 值 {value}"},
    "alerts.since": {"en": "{amount} ago", "zh": "已持续 {amount}"},
    "alerts.level.critical": {"en": "CRITICAL", "zh": "严重"},
    "alerts.level.warning": {"en": "WARNING", "zh": "警告"},
    "alerts.silences": {"en": "{count} active silence(s): {items}", "zh": "生效中的静默 {count} 条：{items}"},
    "alerts.silence": {"en": "#{id} {matchers} until {until}", "zh": "#{id} {matchers}，至 {until}"},
    "alerts.silences.separator": {"en": ", ", "zh": "；"},
    "silence.made": {"en": "Silenced {matchers} until {until} ({zone}); silence id {id}.{reason} End it early with "
                           "/alerts unsilence {id}.",
                     "zh": "已静默 {matchers}，直到 {until}（{zone}）；静默 ID {id}。{reason}"
                           "可用 /告警 取消静默 {id} 提前结束。"},
    "silence.reason": {"en": " Reason: {reason}.", "zh": "原因：{reason}。"},
    "silence.unknown": {"en": "There is no silence with id {id}. /alerts lists the active ones.",
                        "zh": "没有 ID 为 {id} 的静默。/告警 会列出生效中的静默。"},
    "silence.already_ended": {"en": "Silence {id} already ended at {at}.", "zh": "静默 {id} 已于 {at} 结束。"},
    "silence.ended": {"en": "Silence {id} ({matchers}) ended now; its alerts notify again.",
                      "zh": "静默 {id}（{matchers}）已结束，相关告警会重新通知。"},
    "ticket.unknown": {"en": "There is no ticket #{ticket}.", "zh": "没有工单 #{ticket}。"},
    "agent.unknown": {"en": "There is no agent called {agent}.", "zh": "没有名为 {agent} 的客服。"},
    "agent.not_begun": {"en": "That window has not begun yet: nothing to score.",
                        "zh": "该时间窗口还没开始，没有可评分的数据。"},
    "assign.done": {"en": "Ticket #{ticket} is assigned to {agent}{moved}.",
                    "zh": "工单 #{ticket} 已分配给 {agent}{moved}。"},
    "assign.was": {"en": " (was {agent})", "zh": "（原为 {agent}）"},
    "assign.resolved": {"en": "Ticket #{ticket} is resolved: there is nothing left to assign.",
                        "zh": "工单 #{ticket} 已解决，无需再分配。"},
    "resolve.unavailable": {"en": "Resolving tickets is not available here.", "zh": "这里不能结单。"},
    # durations and clocks (numbers stay numbers; only the units and words around them change)
    "duration.s": {"en": "{amount} s", "zh": "{amount} 秒"},
    "duration.min": {"en": "{amount} min", "zh": "{amount} 分钟"},
    "duration.h": {"en": "{amount} h", "zh": "{amount} 小时"},
    "duration.d": {"en": "{amount} d", "zh": "{amount} 天"},
    "clock.due_in": {"en": "due in {amount}", "zh": "还剩 {amount}"},
    "clock.breached": {"en": "breached {amount} ago", "zh": "已超时 {amount}"},
    "clock.after": {"en": "after {amount}", "zh": "用时 {amount}"},
    "clock.waiting": {"en": "waiting {amount}", "zh": "已等待 {amount}"},
    "clock.first_response": {"en": "first response", "zh": "首次响应"},
    "clock.resolution": {"en": "resolution", "zh": "解决"},
    "owner.unassigned": {"en": "unassigned", "zh": "未分配"},
    "weekday.0": {"en": "Mon", "zh": "周一"},
    "weekday.1": {"en": "Tue", "zh": "周二"},
    "weekday.2": {"en": "Wed", "zh": "周三"},
    "weekday.3": {"en": "Thu", "zh": "周四"},
    "weekday.4": {"en": "Fri", "zh": "周五"},
    "weekday.5": {"en": "Sat", "zh": "周六"},
    "weekday.6": {"en": "Sun", "zh": "周日"},
    "list.comma": {"en": ", ", "zh": "，"},
    # /sla line items
    "sla.item": {"en": "• #{ticket} sev {severity} {intent} — {clock} {due}{working} — owner: {owner}",
                 "zh": "• #{ticket} {severity}级 {intent} — {clock}{due}{working} — 负责人：{owner}"},
    "sla.working_left": {"en": " ({amount} of business hours left)", "zh": "（工作时间还剩 {amount}）"},
    # /ticket
    "ticket.title": {"en": "*Ticket #{ticket}* · {status} · {intent} ({kind}, severity {severity})",
                     "zh": "*工单 #{ticket}* · {status} · {intent}（{kind}，严重程度 {severity}）"},
    "ticket.where": {"en": "{where} · owner: {owner} · opened {opened}",
                     "zh": "{where} · 负责人：{owner} · 创建于 {opened}"},
    "ticket.order": {"en": "order {order}", "zh": "订单 {order}"},
    "ticket.sku": {"en": "SKU {sku}", "zh": "SKU {sku}"},
    "ticket.first_response": {"en": "First response {clock}", "zh": "首次响应：{clock}"},
    "ticket.resolved": {"en": "Resolved {clock}", "zh": "已解决：{clock}"},
    "ticket.resolution": {"en": "Resolution {clock}", "zh": "解决时限：{clock}"},
    "ticket.messages": {"en": "*Messages* ({count})", "zh": "*消息*（{count}）"},
    "ticket.message": {"en": "{at} {arrow} {kind} {author}: {text}", "zh": "{at} {arrow} {kind} {author}：{text}"},
    "ticket.last_messages": {"en": "(the last {shown} of {count} messages)",
                             "zh": "（共 {count} 条消息，只显示最近 {shown} 条）"},
    "ticket.timeline": {"en": "*Timeline*", "zh": "*时间线*"},
    "ticket.event": {"en": "{at} {action} by {actor}", "zh": "{at} {action}（{actor}）"},
    "status.new": {"en": "new", "zh": "新建"},
    "status.open": {"en": "open", "zh": "处理中"},
    "status.pending": {"en": "pending", "zh": "待客户回复"},
    "status.resolved": {"en": "resolved", "zh": "已解决"},
    "author.customer": {"en": "customer", "zh": "客户"},
    "author.agent": {"en": "agent", "zh": "客服"},
    "author.bot": {"en": "bot", "zh": "机器人"},
    # /agent scorecards
    "scorecard.title": {"en": "*Scorecard · {agent} · {window}*", "zh": "*评分卡 · {agent} · {window}*"},
    "scorecard.no_tickets": {"en": "No tickets assigned to {agent} in this window.",
                             "zh": "这个时间窗口内没有分配给 {agent} 的工单。"},
    "scorecard.team_title": {"en": "*Team scorecard · {window}*", "zh": "*团队评分卡 · {window}*"},
    "scorecard.team_empty": {"en": "No assigned tickets in this window.", "zh": "这个时间窗口内没有已分配的工单。"},
    "scorecard.score": {"en": "Score: *{score}* ({grade}){rank}", "zh": "得分：*{score}*（{grade}）{rank}"},
    "scorecard.rank": {"en": " · #{rank} of {size} in queue {queue}",
                       "zh": " · 队列 {queue} 第 {rank} 名（共 {size} 人）"},
    "scorecard.handled": {"en": "Handled tickets: {count}", "zh": "处理工单：{count}"},
    "scorecard.first_response": {"en": "First response (median): {value}", "zh": "首次响应（中位数）：{value}"},
    "scorecard.business_hours": {"en": " (business hours: {value})", "zh": "（工作时间：{value}）"},
    "scorecard.resolution": {"en": "Resolution (median): {value}", "zh": "解决时长（中位数）：{value}"},
    "scorecard.sla": {"en": "SLA compliance: {value}", "zh": "SLA 达标率：{value}"},
    "scorecard.one_touch": {"en": "One-touch resolution: {value}", "zh": "一次解决率：{value}"},
    "scorecard.csat": {"en": "CSAT: {value}{answered}", "zh": "CSAT：{value}{answered}"},
    "scorecard.csat_answered": {"en": " ({rate}% of surveys answered)", "zh": "（问卷回复率 {rate}%）"},
    "scorecard.acceptance": {"en": "Suggestion acceptance: {value}", "zh": "建议回复采纳率：{value}"},
    "scorecard.components": {"en": "Components (0-100 × weight): {parts}", "zh": "分项（0-100 × 权重）：{parts}"},
    "scorecard.header.agent": {"en": "Agent", "zh": "客服"},
    "scorecard.header.queue": {"en": "Queue", "zh": "队列"},
    "scorecard.header.tickets": {"en": "Tickets", "zh": "工单"},
    "scorecard.header.score": {"en": "Score", "zh": "得分"},
    "scorecard.header.grade": {"en": "Grade", "zh": "评级"},
    "grade.excellent": {"en": "excellent", "zh": "优秀"},
    "grade.qualified": {"en": "qualified", "zh": "合格"},
    "grade.needs improvement": {"en": "needs improvement", "zh": "待改进"},
    "grade.none": {"en": "no grade", "zh": "无评级"},
    "component.sla": {"en": "sla", "zh": "SLA"},
    "component.csat": {"en": "csat", "zh": "CSAT"},
    "component.one_touch": {"en": "one_touch", "zh": "一次解决"},
    "component.acceptance": {"en": "acceptance", "zh": "采纳"},
    "component.response_time": {"en": "response_time", "zh": "响应速度"},
    # /assign
    "assign.who": {"en": "kefu does not know you as an agent: name who gets the ticket, e.g. /assign {ticket} @mei.",
                   "zh": "kefu 不知道你是哪位客服：请写明分配给谁，例如 /分配 {ticket} @mei。"},
    "assign.deactivated": {"en": "{agent} is deactivated in kefu; ask a manager to reactivate them.",
                           "zh": "{agent} 在 kefu 中已停用；请找经理重新启用。"},
    # /queue
    "queue.title": {"en": "*Queue{only}*", "zh": "*待分配队列{only}*"},
    "queue.empty": {"en": "{title}: every open ticket has an owner. ✅", "zh": "{title}：所有未结工单都有负责人。✅"},
    "queue.head.1": {"en": "{title} · 1 open ticket without an owner, most urgent first",
                     "zh": "{title} · 1 个未结工单无人负责"},
    "queue.head.n": {"en": "{title} · {count} open tickets without an owner, most urgent first",
                     "zh": "{title} · {count} 个未结工单无人负责，最紧急的在前"},
    "queue.item": {"en": "• #{ticket} sev {severity} {intent}{facts} · {waited}{due}",
                   "zh": "• #{ticket} {severity}级 {intent}{facts} · {waited}{due}"},
    "queue.first_response": {"en": " · first response {due}", "zh": " · 首次响应{due}"},
    "queue.more": {"en": "…and {count} more", "zh": "……还有 {count} 个"},
    "queue.take": {"en": "Take one with /assign TICKET.", "zh": "用“/分配 工单号”领取一个。"},
    # /shift
    "shift.unknown": {"en": "There is no agent called {agent} (kefu agents add NAME creates one).",
                      "zh": "没有名为 {agent} 的客服（可用 kefu agents add 名字 创建）。"},
    "shift.you": {"en": "you", "zh": "你"},
    "shift.yours": {"en": "Your shift", "zh": "你"},
    "shift.theirs": {"en": "{agent}'s shift", "zh": "{agent} "},
    "shift.started": {"en": "{whose} is on{until}{calendar}.", "zh": "{whose}已上班{until}{calendar}。"},
    "shift.stopped": {"en": "{whose} is stopped{until}.", "zh": "{whose}已下班{until}。"},
    "shift.until": {"en": " until {when}", "zh": "，至 {when}"},
    "shift.until_started": {"en": " until started again", "zh": "，直到再次上班"},
    "shift.your_calendar": {"en": " (your calendar)", "zh": "（按你的排班表）"},
    "shift.moves.1": {"en": " 1 open ticket moves to agents on shift at the next check (within a minute).",
                      "zh": "1 个未结工单会在下次检查时（一分钟内）转给在班客服。"},
    "shift.moves.n": {"en": " {count} open tickets move to agents on shift at the next check (within a minute).",
                      "zh": "{count} 个未结工单会在下次检查时（一分钟内）转给在班客服。"},
    "shift.stays.1": {"en": " 1 open ticket stays yours: /assign moves them.",
                      "zh": "1 个未结工单仍在名下，可用 /分配 转走。"},
    "shift.stays.n": {"en": " {count} open tickets stay yours: /assign moves them.",
                      "zh": "{count} 个未结工单仍在名下，可用 /分配 转走。"},
    "shift.on_now": {"en": "*On shift now* ({count})", "zh": "*当前在班*（{count}）"},
    "shift.nobody": {"en": "nobody: new tickets wait in the queue (/queue).",
                     "zh": "无人在班：新工单在队列中等待（/队列）。"},
    "shift.off": {"en": "*Off shift* ({count})", "zh": "*不在班*（{count}）"},
    "shift.change": {"en": "/shift start or /shift stop changes yours.",
                     "zh": "用 /值班 上班 或 /值班 下班 切换你的班次。"},
    "shift.line": {"en": "• {agent}{senior} — {parts}", "zh": "• {agent}{senior} — {parts}"},
    "shift.senior": {"en": " (senior)", "zh": "（资深）"},
    "shift.on_until": {"en": "until {when}", "zh": "至 {when}"},
    "shift.back": {"en": "back {when}", "zh": "{when} 上班"},
    "shift.started by hand": {"en": "started by hand", "zh": "手动上班"},
    "shift.stopped by hand": {"en": "stopped by hand", "zh": "手动下班"},
    "shift.open": {"en": "{count} open", "zh": "未结 {count}"},
    "shift.open_of": {"en": "{count} open of {capacity}", "zh": "未结 {count}/{capacity}"},
    # /customer
    "customer.unknown": {"en": "No customer {who!r}: give their id on the channel or their email.",
                         "zh": "没有客户“{who}”：请写客户在渠道上的 ID 或邮箱。"},
    "customer.ambiguous": {"en": "{count} customers match {who!r} ({names}): write CHANNEL:ID.",
                           "zh": "有 {count} 个客户与“{who}”匹配（{names}），请写成 渠道:ID。"},
    "customer.tagged": {"en": "Tagged {tag}.", "zh": "已加标签 {tag}。"},
    "customer.already_tagged": {"en": "Already tagged {tag}.", "zh": "已有标签 {tag}，无需再加。"},
    "customer.untagged": {"en": "Removed the tag {tag}.", "zh": "已删除标签 {tag}。"},
    "customer.no_such_tag": {"en": "The customer has no tag {tag}.", "zh": "该客户没有标签 {tag}。"},
    "customer.noted": {"en": "Note added.", "zh": "已添加备注。"},
    "customer.tier": {"en": "Value tier: {tier}", "zh": "客户价值：{tier}"},
    "customer.tier.high": {"en": "high value", "zh": "高价值"},
    "customer.tier.regular": {"en": "regular", "zh": "普通"},
    "customer.tier.new": {"en": "new", "zh": "新客户"},
    "customer.tier.unknown": {"en": "not known yet (no order source has seen this customer)",
                              "zh": "暂不清楚（订单来源中还没有这位客户）"},
    "customer.orders": {"en": "{count} orders", "zh": "{count} 笔订单"},
    "customer.lifetime_value": {"en": "{amount} lifetime value", "zh": "累计消费 {amount}"},
    "customer.last_order": {"en": "last order {at}", "zh": "最近下单 {at}"},
    "customer.tags": {"en": "Tags: {tags}", "zh": "标签：{tags}"},
    "customer.no_tags": {"en": "none", "zh": "无"},
    "customer.notes": {"en": "Notes:", "zh": "备注："},
    "customer.first_five": {"en": "(the first 5 of {count} customers)", "zh": "（共 {count} 个客户，只显示前 5 个）"},
    "customer.needs_who": {"en": '"{command}" needs a customer id or email, e.g. "/customer c-42".',
                           "zh": "“{command}”后面要写客户 ID 或邮箱，例如“/客户 c-42”。"},
    "customer.not_who": {"en": '"{word}" is not a customer id or email.', "zh": "“{word}”不是客户 ID 或邮箱。"},
    "customer.unknown_action": {"en": 'Unknown word "{word}" after "{after}": write tag, untag or note.',
                                "zh": "“{after}”后面的“{word}”无法识别：请写 标签、删除标签 或 备注。"},
    "customer.needs_value": {"en": '"{word}" needs a value, e.g. "{command} {who} {word} {example}".',
                             "zh": "“{word}”后面要写内容，例如“{command} {who} {word} {example}”。"},
    "customer.example.note": {"en": '"prefers email"', "zh": "喜欢邮件联系"},
    "customer.tag_one_word": {"en": 'A tag is one word (or quoted): "{first}" then "{second}"?',
                              "zh": "标签只能是一个词（或加引号）：“{first}”后面还有“{second}”？"},
    # bot/customer_profiles.py refusals (its ProfileError wordings), written as a sentence by "command.sentence"
    "customer.error.tags_full": {"en": "a customer has at most {limit} tags; remove one first",
                                 "zh": "一个客户最多 {limit} 个标签，请先删除一个"},
    "customer.error.note_empty": {"en": "a note needs text", "zh": "备注不能为空"},
    "customer.error.note_too_long": {"en": "a note is at most {limit} characters (this one has {length})",
                                     "zh": "备注最多 {limit} 个字符（这条有 {length} 个）"},
    "customer.error.tag_empty": {"en": "a tag needs a name, such as vip", "zh": "标签要有名字，例如 vip"},
    "customer.error.tag_too_long": {"en": "a tag is at most {limit} characters", "zh": "标签最多 {limit} 个字符"},
    # /returns and /request
    "returns.unavailable": {"en": "After-sales requests are not available in this kefu (no desk was set up).",
                            "zh": "这套 kefu 没有开通售后申请（未配置售后处理）。"},
    "returns.none": {"en": "No after-sales request is waiting for approval.", "zh": "没有待审批的售后申请。"},
    "returns.pending.1": {"en": "*1 after-sales request awaiting approval*, oldest first:",
                          "zh": "*1 个售后申请待审批*："},
    "returns.pending.n": {"en": "*{count} after-sales requests awaiting approval*, oldest first:",
                          "zh": "*{count} 个售后申请待审批*，最早的在前："},
    "returns.more": {"en": "and {count} more.", "zh": "还有 {count} 个。"},
    "returns.how": {"en": "Approve: /returns approve ID [ID…] or /returns approve all · reject: /returns reject ID "
                          "REASON",
                    "zh": "批准：/售后 批准 ID [ID…] 或 /售后 批准 全部 · 拒绝：/售后 拒绝 ID 原因"},
    "returns.header.ticket": {"en": "Ticket", "zh": "工单"},
    "returns.header.type": {"en": "Type", "zh": "类型"},
    "returns.header.amount": {"en": "Amount", "zh": "金额"},
    "returns.header.reason": {"en": "Reason", "zh": "原因"},
    "returns.header.market": {"en": "Market", "zh": "平台"},
    "returns.header.country": {"en": "Country", "zh": "国家"},
    "returns.header.age": {"en": "Age", "zh": "已等待"},
    # /returns and /request: what the parser refuses
    "returns.needs_ids": {"en": '"{word}" needs request IDs or "all", e.g. "/returns approve 3 4".',
                          "zh": "“{word}”后面要写申请号或“全部”，例如“/售后 批准 3 4”。"},
    "returns.all": {"en": "all", "zh": "全部"},
    "returns.too_many": {"en": "{count} request IDs; approve at most {limit} at once (or all).",
                         "zh": "给了 {count} 个申请号；一次最多批准 {limit} 个（或用“全部”）。"},
    "returns.needs_id_and_reason": {"en": '"{word}" needs a request ID and the reason, e.g. "/returns reject 3 used '
                                          'item".',
                                    "zh": "“{word}”后面要写申请号和原因，例如“/售后 拒绝 3 商品已使用”。"},
    "returns.needs_reason": {"en": 'Say why request #{id} is rejected, e.g. "/returns reject {id} outside the return '
                                   'window".',
                             "zh": "请说明拒绝申请 #{id} 的原因，例如“/售后 拒绝 {id} 已过退货期”。"},
    "request.needs_args": {"en": '"{head}" needs a ticket and a type ("/request 42 refund 25.00 EUR") or a request '
                                 'and its next step ("/request 3 received").',
                           "zh": "“{head}”后面要写工单号和类型（“/申请 42 退款 25.00 EUR”），"
                                 "或申请号和下一步（“/申请 3 收到”）。"},
    "request.not_type_or_step": {"en": '"{word}" is neither a request type (return, refund, exchange, reship) nor a '
                                       "step (received, refunded, reshipped, close).",
                                 "zh": "“{word}”既不是申请类型（退货、退款、换货、补发），"
                                       "也不是步骤（收到、已退款、已补发、关闭）。"},
    "request.needs_currency": {"en": 'The amount "{amount}" needs its currency, e.g. "{amount} EUR".',
                               "zh": "金额“{amount}”后面要写币种，例如“{amount} EUR”。"},
    "request.not_a_reason": {"en": '"{word}" is not a reason: damaged, wrong_item, not_received, changed_mind, '
                                   "defective, late or other.",
                             "zh": "“{word}”不是原因，可写：损坏、发错、未收到、不想要、质量问题、延误 或 其他。"},
    "noun.request_id": {"en": "request ID", "zh": "申请号"},
    "noun.ticket_or_request_id": {"en": "ticket or request ID", "zh": "工单号或申请号"},
    "command.sentence": {"en": "{error}.", "zh": "{error}。"},
    # bot/after_sales/money.py refusals (its MoneyError wordings)
    "money.not_a_currency": {"en": "{text!r} is not an ISO 4217 currency code such as EUR, USD, CNY or JPY",
                             "zh": "“{text}”不是币种代码（ISO 4217，如 EUR、USD、CNY、JPY）"},
    "money.not_an_amount": {"en": "{amount!r} is not an amount such as 25.00", "zh": "“{amount}”不是金额，例如 25.00"},
    "money.too_many_decimals": {"en": "{amount} {code} has more decimals than {code} has ({digits})",
                                "zh": "{amount} {code} 的小数位太多：{code} 只有 {digits} 位小数"},
    "money.not_positive": {"en": "the amount must be above zero, got {amount} {code}",
                           "zh": "金额必须大于零，而这里是 {amount} {code}"},
    "money.too_large": {"en": "{amount} {code} is too large", "zh": "{amount} {code} 金额过大"},
    # the desk's refusals the parser normally catches first (bot/after_sales/desk.py, flow.py)
    "after_sales.not_a_type": {"en": "{type!r} is not a request type; types: {types}",
                               "zh": "“{type}”不是申请类型；可用类型：{types}"},
    "after_sales.not_a_reason": {"en": "{reason!r} is not a reason code; reasons: {reasons}",
                                 "zh": "“{reason}”不是原因代码；可用原因：{reasons}"},
    "after_sales.note_too_long": {"en": "the note is {length} characters; at most {limit}",
                                  "zh": "备注有 {length} 个字符，最多 {limit} 个"},
    "after_sales.reason_too_long": {"en": "the reason is {length} characters; at most {limit}",
                                    "zh": "原因有 {length} 个字符，最多 {limit} 个"},
    "after_sales.transition.unknown_status": {"en": "{wanted!r} is not a request status; statuses: {statuses}",
                                              "zh": "“{wanted}”不是申请状态；可用状态：{statuses}"},
    # after-sales buttons (handlers/after_sales_actions.py)
    "after_sales.button.none": {"en": "ticket #{ticket} has no after-sales request that can become {wanted} now; "
                                      "/ticket {ticket} shows its history",
                                "zh": "工单 #{ticket} 没有现在能变为“{wanted}”的售后申请；/工单 {ticket} 可查看记录"},
    "after_sales.button.several": {"en": "ticket #{ticket} has {count} requests that can become {wanted} ({ids}): "
                                         "say which with {command}",
                                   "zh": "工单 #{ticket} 有 {count} 个申请可以变为“{wanted}”（{ids}），"
                                         "请用 {command} 指明是哪一个"},
    "after_sales.button.candidate": {"en": "#{id} ({type})", "zh": "#{id} {type}"},
    "after_sales.button.approve_command": {"en": "/returns approve ID", "zh": "/售后 批准 ID"},
    "after_sales.button.step_command": {"en": "/request ID …", "zh": "/申请 ID …"},
    "after_sales.type.return": {"en": "return", "zh": "退货"},
    "after_sales.type.refund": {"en": "refund", "zh": "退款"},
    "after_sales.type.exchange": {"en": "exchange", "zh": "换货"},
    "after_sales.type.reship": {"en": "reship", "zh": "补发"},
    "after_sales.status.requested": {"en": "requested", "zh": "待审批"},
    "after_sales.status.approved": {"en": "approved", "zh": "已批准"},
    "after_sales.status.rejected": {"en": "rejected", "zh": "已拒绝"},
    "after_sales.status.item_received": {"en": "item_received", "zh": "已收到退货"},
    "after_sales.status.refunded": {"en": "refunded", "zh": "已退款"},
    "after_sales.status.reshipped": {"en": "reshipped", "zh": "已补发"},
    "after_sales.status.closed": {"en": "closed", "zh": "已关闭"},
    "after_sales.reason.damaged": {"en": "damaged", "zh": "商品损坏"},
    "after_sales.reason.wrong_item": {"en": "wrong_item", "zh": "发错货"},
    "after_sales.reason.not_received": {"en": "not_received", "zh": "未收到货"},
    "after_sales.reason.changed_mind": {"en": "changed_mind", "zh": "不想要了"},
    "after_sales.reason.defective": {"en": "defective", "zh": "质量问题"},
    "after_sales.reason.late": {"en": "late", "zh": "延误"},
    "after_sales.reason.other": {"en": "other", "zh": "其他"},
    "after_sales.or": {"en": " or ", "zh": "或"},
    "after_sales.request": {"en": "{type} #{id} · {status}{amount} · {reason}",
                            "zh": "{type} #{id} · {status}{amount} · {reason}"},
    "after_sales.already_open": {"en": "Ticket #{ticket} already has {request}: no second {type} was opened (close "
                                       "that one first).",
                                 "zh": "工单 #{ticket} 已有 {request}，没有再开一个{type}申请（请先关闭原申请）。"},
    "after_sales.opened": {"en": "Opened {request} on ticket #{ticket}; a manager approves it with /returns approve "
                                 "{id}.",
                           "zh": "已在工单 #{ticket} 上开启 {request}；经理可用 /售后 批准 {id} 审批。"},
    "after_sales.already": {"en": "Request #{id} is already {status}: nothing to do.",
                            "zh": "申请 #{id} 已经是“{status}”，无需操作。"},
    "after_sales.moved": {"en": "Request #{id} ({type}, ticket #{ticket}) is now {status}.{sent}",
                          "zh": "申请 #{id}（{type}，工单 #{ticket}）已变为“{status}”。{sent}"},
    "after_sales.instructions.before": {"en": " The return instructions were sent before.",
                                        "zh": "退货说明之前已经发过。"},
    "after_sales.instructions.none": {"en": " No return-instructions template was found: tell the customer how to "
                                            "send the item back.",
                                      "zh": "没有找到退货说明模板：请自己告诉客户如何寄回商品。"},
    "after_sales.instructions.missing": {"en": " The return instructions ({template}) need {missing}: tell the "
                                               "customer how to send the item back.",
                                         "zh": "退货说明（{template}）缺少 {missing}：请自己告诉客户如何寄回商品。"},
    "after_sales.instructions.sent": {"en": " The return instructions ({template}) went to the customer (message "
                                            "{message}).",
                                      "zh": "退货说明（{template}）已发给客户（消息 {message}）。"},
    "after_sales.none_waiting": {"en": "No after-sales request is waiting for approval.",
                                 "zh": "没有待审批的售后申请。"},
    "after_sales.batch.1": {"en": "Approved {approved} of {count} request.{results}",
                            "zh": "共 {count} 个申请，已批准 {approved} 个。{results}"},
    "after_sales.batch.n": {"en": "Approved {approved} of {count} requests.{results}",
                            "zh": "共 {count} 个申请，已批准 {approved} 个。{results}"},
    "after_sales.batch.done": {"en": "#{id}: {result}", "zh": "#{id}：{result}"},
    "after_sales.batch.refused": {"en": "#{id}: not approved: {error}", "zh": "#{id}：未批准：{error}"},
    "after_sales.ticket_missing": {"en": "ticket #{ticket} does not exist", "zh": "工单 #{ticket} 不存在"},
    "after_sales.request_missing": {"en": "after-sales request #{id} does not exist", "zh": "售后申请 #{id} 不存在"},
    "after_sales.manager_only.approve": {"en": "Only a manager can approve after-sales requests; {name} is not a "
                                               "manager. Ask a manager (they see it in /returns pending).",
                                         "zh": "只有经理才能批准售后申请；{name} 不是经理。"
                                               "请找经理（/售后 待审批 里能看到）。"},
    "after_sales.manager_only.reject": {"en": "Only a manager can reject after-sales requests; {name} is not a "
                                              "manager. Ask a manager (they see it in /returns pending).",
                                        "zh": "只有经理才能拒绝售后申请；{name} 不是经理。"
                                              "请找经理（/售后 待审批 里能看到）。"},
    "after_sales.manager_only.batch": {"en": "Only a manager can approve after-sales requests; {name} is not a "
                                             "manager. Ask a manager (they see them in /returns pending).",
                                       "zh": "只有经理才能批准售后申请；{name} 不是经理。"
                                             "请找经理（/售后 待审批 里能看到）。"},
    "after_sales.needs_reason": {"en": "say why request #{id} is rejected: /returns reject {id} REASON",
                                 "zh": "请说明拒绝申请 #{id} 的原因：/售后 拒绝 {id} 原因"},
    "after_sales.transition.already": {"en": "request #{id} ({type}) is already {status}: nothing to do",
                                       "zh": "申请 #{id}（{type}）已经是“{status}”，无需操作"},
    "after_sales.transition.finished": {"en": "request #{id} ({type}) is {status}: it is finished and cannot become "
                                              "{wanted}",
                                        "zh": "申请 #{id}（{type}）已是“{status}”，流程已结束，不能再变为“{wanted}”"},
    "after_sales.transition.never": {"en": "request #{id} ({type}) is {status}: a {type} is never {wanted}; next: "
                                           "{next}",
                                     "zh": "申请 #{id}（{type}）当前是“{status}”：{type}没有“{wanted}”这一步；"
                                           "下一步：{next}"},
    "after_sales.transition.not_yet": {"en": "request #{id} ({type}) is {status}: it cannot become {wanted} yet; "
                                             "next: {next}",
                                       "zh": "申请 #{id}（{type}）当前是“{status}”，还不能变为“{wanted}”；"
                                             "下一步：{next}"},
    # -- ticket actions (a card's buttons, /resolve) ----------------------------------------------------------
    "action.sent": {"en": "Sent the suggested reply to the customer of ticket #{ticket}.",
                    "zh": "已把建议回复发给工单 #{ticket} 的客户。"},
    "action.sent_unchanged": {"en": "Sent your reply (the suggestion, unchanged) on ticket #{ticket}.",
                              "zh": "已在工单 #{ticket} 上发送你的回复（建议回复，未修改）。"},
    "action.sent_own": {"en": "Sent your reply to the customer of ticket #{ticket}.",
                        "zh": "已把你的回复发给工单 #{ticket} 的客户。"},
    "action.assigned": {"en": "Ticket #{ticket} is assigned to {agent}.", "zh": "工单 #{ticket} 已分配给 {agent}。"},
    "action.already_assigned": {"en": "Ticket #{ticket} is already assigned to {agent}.",
                                "zh": "工单 #{ticket} 已经分配给 {agent}，无需操作。"},
    "action.escalated": {"en": "Ticket #{ticket} escalated to severity {severity}; first response due {due}.",
                         "zh": "工单 #{ticket} 已升级到严重程度 {severity}；首次响应截止 {due}。"},
    "action.resolved": {"en": "Ticket #{ticket} resolved.{survey}", "zh": "工单 #{ticket} 已解决。{survey}"},
    "action.survey_now": {"en": " The customer is asked for a rating now.", "zh": "已请客户评分。"},
    "action.survey_later": {"en": " The customer will be asked for a rating in {delay}.",
                            "zh": "{delay} 后会请客户评分。"},
    "action.already_resolved": {"en": "Ticket #{ticket} was already resolved{when}: nothing to do.",
                                "zh": "工单 #{ticket} 已经解决{when}，无需操作。"},
    "action.at": {"en": " at {time}", "zh": "（{time}）"},
    "action.no_ticket": {"en": "There is no ticket #{ticket}.", "zh": "没有工单 #{ticket}。"},
    "action.not_due": {"en": "Ticket #{ticket} is no longer due to be resolved.",
                       "zh": "工单 #{ticket} 已不需要自动结单。"},
    "action.already_corrected": {"en": "Ticket #{ticket} was already corrected to {intent}: nothing to do.",
                                 "zh": "工单 #{ticket} 已经改为 {intent}，无需操作。"},
    "action.already_intent": {"en": "Ticket #{ticket} is already {intent}: nothing to correct.",
                              "zh": "工单 #{ticket} 已经是 {intent}，无需更正。"},
    "action.intent_corrected": {"en": "Ticket #{ticket} is now {intent} (was {old}){severity}.",
                                "zh": "工单 #{ticket} 的意图已改为 {intent}（原为 {old}）{severity}。"},
    "action.severity_changed": {"en": "; severity {old} → {new}", "zh": "；严重程度 {old} → {new}"},
    "action.learnt": {"en": " kefu learnt it: the same message is now classified as {intent}.",
                      "zh": "kefu 已学会：同样的消息现在会归为 {intent}。"},
    "action.not_learnt": {"en": " The correction is saved, but the live classifier did not learn it ({error}); it "
                                "will after a restart.",
                          "zh": "更正已保存，但运行中的分类器没能学会（{error}），重启后生效。"},
    "action.internal": {"en": "kefu could not {action} on ticket #{ticket} because of an internal error; it is in "
                              "kefu's log. Try again, or ask an administrator.",
                        "zh": "kefu 在工单 #{ticket} 上执行“{action}”时出了内部错误，"
                              "详情见 kefu 日志。请重试，或联系管理员。"},
    "action.loading": {"en": "kefu is still loading its intent model: try again in a minute",
                       "zh": "kefu 正在加载意图模型，请一分钟后再试"},
    "action.starting": {"en": "kefu is still starting: try again in a moment", "zh": "kefu 正在启动，请稍后再试"},
    "action.missing": {"en": "ticket #{ticket} does not exist", "zh": "工单 #{ticket} 不存在"},
    "action.closed": {"en": "ticket #{ticket} was resolved{when}: {action} is no longer possible (a new customer "
                            "message opens a new ticket)",
                      "zh": "工单 #{ticket} 已解决{when}，不能再“{action}”（客户的新消息会开一个新工单）"},
    "action.no_suggestion": {"en": "ticket #{ticket} has no suggested reply to send: write one with Edit",
                             "zh": "工单 #{ticket} 没有可发送的建议回复，请用“编辑”自己写一条"},
    "action.dismissed": {"en": "the suggested reply of ticket #{ticket} was dismissed: nothing was sent; write one "
                               "with Edit",
                         "zh": "工单 #{ticket} 的建议回复已被弃用，没有发送；请用“编辑”自己写一条"},
    "action.already_sent": {"en": "the suggested reply of ticket #{ticket} was already sent{who}: nothing was sent "
                                  "twice",
                            "zh": "工单 #{ticket} 的建议回复已经发送过{who}，不会重复发送"},
    "action.sent_by": {"en": " (by {author} at {time})", "zh": "（{author}，{time}）"},
    "action.reply_repeat": {"en": "this reply was already sent on ticket #{ticket} at {time}: nothing was sent twice",
                            "zh": "这条回复已于 {time} 在工单 #{ticket} 上发送过，不会重复发送"},
    "action.manager_assigns": {"en": "only a manager can assign ticket #{ticket} to someone else ({agent}); use "
                                     "Assign to me, or ask a manager",
                               "zh": "只有经理才能把工单 #{ticket} 分配给别人（{agent}）；请用“分配给我”，或找经理"},
    "action.no_agent": {"en": "no active agent named '{name}'; {hint}", "zh": "没有名为“{name}”的在职客服；{hint}"},
    "action.agents_close": {"en": "did you mean {names}?", "zh": "你是不是指 {names}？"},
    "action.agents_all": {"en": "agents: {names}", "zh": "客服有：{names}"},
    "action.no_agents": {"en": "none yet", "zh": "暂无"},
    "action.unknown_intent_close": {"en": "unknown intent '{intent}': did you mean {names}?",
                                    "zh": "没有“{intent}”这个意图，你是不是指 {names}？"},
    "action.unknown_intent": {"en": "unknown intent '{intent}': the intents are {names}",
                              "zh": "没有“{intent}”这个意图，可用的意图有 {names}"},
    "action.deactivated": {"en": "{agent} is deactivated in kefu; ask a manager to reactivate the account",
                           "zh": "{agent} 在 kefu 中已停用；请找经理重新启用"},
    "action.name.send": {"en": "send", "zh": "发送"},
    "action.name.edit": {"en": "edit", "zh": "编辑"},
    "action.name.assign": {"en": "assign", "zh": "分配"},
    "action.name.escalate": {"en": "escalate", "zh": "升级"},
    "action.name.resolve": {"en": "resolve", "zh": "解决"},
    "action.name.wrong_intent": {"en": "wrong_intent", "zh": "改意图"},
    # -- alert actions ----------------------------------------------------------------------------------------
    "alert.internal": {"en": "kefu could not perform {action} on alert #{alert} because of an internal error; it "
                             "is in kefu's log. Try again, or ask an administrator.",
                       "zh": "kefu 在告警 #{alert} 上执行 {action} 时出了内部错误，"
                             "详情见 kefu 日志。请重试，或联系管理员。"},
    "alert.already_acknowledged": {"en": "Alert #{alert} ({name}) was already acknowledged by {who} at {time}.",
                                   "zh": "告警 #{alert}（{name}）已由 {who} 于 {time} 确认。"},
    "alert.acknowledged": {"en": "You acknowledged alert #{alert} ({name}): it stops repeating and notifies again "
                                 "{again}.",
                           "zh": "你已确认告警 #{alert}（{name}）：不再重复提醒，{again}会再次通知。"},
    "alert.again_warning": {"en": "if it turns critical and when it resolves", "zh": "升级为严重或恢复时"},
    "alert.again": {"en": "when it resolves", "zh": "恢复时"},
    "alert.silence_denied": {"en": "{reason} A manager can silence it, or you can acknowledge it.",
                             "zh": "{reason}经理可以静默它，你也可以确认它。"},
    "alert.already_silenced": {"en": "Alert #{alert} ({name}) is already silenced until {until} by {who} (silence "
                                     "{silence}): no new silence was made.",
                               "zh": "告警 #{alert}（{name}）已由 {who} 静默到 {until}（静默 {silence}），"
                                     "没有新建静默。"},
    "alert.silenced": {"en": "Silenced {matchers} until {until} (silence {silence}); end it early with /alerts "
                             "unsilence {silence}.",
                       "zh": "已静默 {matchers}，"
                             "直到 {until}（静默 {silence}）；可用 /告警 取消静默 {silence} 提前结束。"},
    "alert.missing": {"en": "alert #{alert} does not exist", "zh": "告警 #{alert} 不存在"},
    "alert.missing_here": {"en": "alert #{alert} does not exist (it may be from another kefu installation)",
                           "zh": "告警 #{alert} 不存在（可能来自另一套 kefu）"},
    "alert.resolved": {"en": "alert #{alert} ({name}) is resolved{when}: there is nothing to {what}",
                       "zh": "告警 #{alert}（{name}）已恢复{when}，无需{what}"},
    "alert.what.acknowledge": {"en": "acknowledge", "zh": "确认"},
    "alert.what.silence": {"en": "silence", "zh": "静默"},
    # -- kefu's own cards in team channels (scheduler/digest.py, scheduler/sla.py, scheduler/alerts/dispatch.py) --
    "digest.title": {"en": "📊 Weekly team scorecard · {week}", "zh": "📊 团队周评分卡 · {week}"},
    "digest.period": {"en": "Period", "zh": "统计周期"},
    "digest.agents": {"en": "Agents", "zh": "客服人数"},
    "digest.footer": {"en": "Details per agent: /agent NAME 7d", "zh": "单个客服的详情：/客服 @某人 7天"},
    "digest.empty": {"en": "No assigned tickets in the past 7 days.", "zh": "过去 7 天没有已分配的工单。"},
    "digest.header.sla": {"en": "SLA", "zh": "SLA 达标"},
    "digest.header.csat": {"en": "CSAT", "zh": "CSAT"},
    "sla_card.warning": {"en": "⚠️ SLA warning", "zh": "⚠️ SLA 预警"},
    "sla_card.breach": {"en": "🚨 SLA breached", "zh": "🚨 SLA 已超时"},
    "sla_card.escalation": {"en": "🚨 SLA escalation", "zh": "🚨 SLA 超时上报"},
    "sla_card.title": {"en": "{heading} · ticket #{ticket}: {clock} {detail}",
                       "zh": "{heading} · 工单 #{ticket}：{clock}{detail}"},
    "sla_card.clock.first_response": {"en": "first response", "zh": "首次响应"},
    "sla_card.clock.resolution": {"en": "resolution", "zh": "解决时限"},
    "sla_card.due_in": {"en": "due in {amount}", "zh": "还剩 {amount}"},
    "sla_card.overdue": {"en": "overdue by {amount}", "zh": "已超时 {amount}"},
    "sla_card.queue": {"en": "Unassigned: the queue", "zh": "待分配队列"},
    "sla_card.body.warning": {"en": "{mention}, the {clock} of ticket #{ticket} is {detail}.",
                              "zh": "{mention}：工单 #{ticket} 的{clock}{detail}。"},
    "sla_card.body.breach": {"en": "{mention}, the {clock} of ticket #{ticket} is {detail}; managers have been told.",
                             "zh": "{mention}：工单 #{ticket} 的{clock}{detail}，已通知经理。"},
    "sla_card.body.escalation": {"en": "The {clock} of ticket #{ticket} is {detail}. Owner: {owner}.",
                                 "zh": "工单 #{ticket} 的{clock}{detail}。负责人：{owner}。"},
    "sla_card.field.ticket": {"en": "Ticket", "zh": "工单"},
    "sla_card.field.due": {"en": "Due", "zh": "截止时间"},
    "sla_card.field.assignee": {"en": "Assignee", "zh": "负责人"},
    "sla_card.field.policy": {"en": "Policy", "zh": "SLA 策略"},
    "sla_card.field.outcome": {"en": "Outcome", "zh": "结果"},
    "sla_card.met": {"en": "met", "zh": "已达标"},
    "sla_card.breached_by": {"en": "breached by {amount}", "zh": "超时 {amount}"},
    "sla_card.outcome_title": {"en": "{mark} SLA {clock} {outcome} · ticket #{ticket}",
                               "zh": "{mark} SLA {clock}{outcome} · 工单 #{ticket}"},
    "alert_card.critical": {"en": "🔴 CRITICAL", "zh": "🔴 严重"},
    "alert_card.warning": {"en": "🟠 WARNING", "zh": "🟠 警告"},
    "alert_card.resolved": {"en": "✅ RESOLVED", "zh": "✅ 已恢复"},
    "alert_card.title": {"en": "{prefix}: {rule}{group}", "zh": "{prefix}：{rule}{group}"},
    "alert_card.level.critical": {"en": "critical", "zh": "严重"},
    "alert_card.level.warning": {"en": "warning", "zh": "警告"},
    "alert_card.customers_say": {"en": "Customers say: {quotes}", "zh": "客户原话：{quotes}"},
    "alert_card.quote": {"en": "“{text}” ({count})", "zh": "“{text}”（{count} 条）"},
    "alert_card.quote_separator": {"en": "; ", "zh": "；"},
    "alert_card.field.metric": {"en": "Metric", "zh": "指标"},
    "alert_card.field.value": {"en": "Value", "zh": "当前值"},
    "alert_card.field.thresholds": {"en": "Thresholds", "zh": "阈值"},
    "alert_card.field.window": {"en": "Window", "zh": "时间窗口"},
    "alert_card.field.firing_since": {"en": "Firing since", "zh": "触发时间"},
    "alert_card.footer": {"en": "alert #{alert} · rule {rule}", "zh": "告警 #{alert} · 规则 {rule}"},
    "alert_card.no_data": {"en": "no data", "zh": "无数据"},
    "alert_card.was": {"en": "Was {level} from {start} to {end} UTC; now {value}.",
                       "zh": "{start} 至 {end}（UTC）处于{level}状态，当前值 {value}。"},
    "alert_card.summary": {"en": "{metric} {current}{baseline}{cause}", "zh": "{metric} {current}{baseline}{cause}"},
    "alert_card.summary.no_data": {"en": "{metric}: no data", "zh": "{metric}：无数据"},
    "alert_card.summary.baseline": {"en": " vs baseline {baseline}{change}", "zh": "，基线 {baseline}{change}"},
    "alert_card.summary.change": {"en": " ({change})", "zh": "（{change}）"},
    "alert_card.summary.increase": {"en": "; {share} of the increase: {slice}", "zh": "；{share} 的上升来自 {slice}"},
    "alert_card.summary.decrease": {"en": "; {share} of the decrease: {slice}", "zh": "；{share} 的下降来自 {slice}"},
    "alert_card.summary.no_breakdown": {"en": "(no breakdown: {error})", "zh": "（无法拆分原因：{error}）"},
    "card.assigned": {"en": "Assigned to {agent}{by} at {time}", "zh": "{time} 分配给 {agent}{by}"},
    "card.assigned_by": {"en": " by {actor}", "zh": "（{actor} 操作）"},
    # History lines of ticket cards (handlers/actions.py), in the card channel's language
    "card.sent_suggested": {"en": "Suggested reply sent by {agent} at {time}", "zh": "{time} {agent} 发送了建议回复"},
    "card.sent_unchanged": {"en": "Suggested reply sent unchanged by {agent} at {time}",
                            "zh": "{time} {agent} 原样发送了建议回复"},
    "card.sent_own": {"en": "Reply written by {agent} sent at {time}", "zh": "{time} 已发送 {agent} 写的回复"},
    "card.escalated": {"en": "Escalated to severity {severity} by {agent} at {time}",
                       "zh": "{time} {agent} 升级为 {severity} 级"},
    "card.escalated_because": {"en": "Escalated to severity {severity} by {agent} at {time}: {reason}",
                               "zh": "{time} {agent} 升级为 {severity} 级：{reason}"},
    "card.resolved_by": {"en": "Resolved by {agent} at {time}", "zh": "{time} {agent} 已结单"},
    "card.resolved_by_note": {"en": "Resolved by {agent} at {time}: {note}", "zh": "{time} {agent} 已结单：{note}"},
    "card.intent_corrected": {"en": "Intent corrected from {predicted} to {wanted} by {agent} at {time}",
                              "zh": "{time} {agent} 将意图从 {predicted} 改为 {wanted}"},
    "card.the_administrator": {"en": "the administrator", "zh": "管理员"},
    "card.reassigned": {"en": "Reassigned from {old} ({gone}) to {agent} at {time}",
                        "zh": "{time} 从 {old} 改派给 {agent}（{gone}）"},
    "card.unassigned": {"en": "Unassigned at {time}: {why}", "zh": "{time} 取消分配：{why}"},
    # -- assignment (bot/assignment/routing.py wordings): why a ticket went to someone or to nobody -------------
    "assignment.why.nobody_on_shift": {"en": "nobody is on shift", "zh": "没有人在值班"},
    "assignment.why.nobody_speaks": {"en": "nobody on shift speaks {language}", "zh": "值班的人里没人会说 {language}"},
    "assignment.why.nobody_speaking_handles": {"en": "nobody on shift who speaks {language} handles {subject}",
                                               "zh": "值班且会说 {language} 的人里没人负责 {subject}"},
    "assignment.why.nobody_handles": {"en": "nobody on shift handles {subject}", "zh": "值班的人里没人负责 {subject}"},
    "assignment.why.at_capacity": {"en": "everyone on shift who fits is at capacity ({full})",
                                   "zh": "值班的合适人选都已满负荷（{full}）"},
    "assignment.why.speaks": {"en": "speaks {language}", "zh": "会说 {language}"},
    "assignment.why.handles": {"en": "handles {subject}", "zh": "负责 {subject}"},
    "assignment.why.senior": {"en": "senior, for a high-value customer", "zh": "资深客服接待高价值客户"},
    "assignment.why.no_senior": {"en": "no senior agent free for this high-value customer",
                                 "zh": "没有空闲的资深客服接待这位高价值客户"},
    "assignment.why.open_ticket": {"en": "{count} open ticket", "zh": "{count} 个未结工单"},
    "assignment.why.open_tickets": {"en": "{count} open tickets", "zh": "{count} 个未结工单"},
    "assignment.why.lightest": {"en": "{tickets}, the lightest load of {count}",
                                "zh": "{tickets}，{count} 人中负担最轻"},
    "assignment.why.until": {"en": "on shift until {time} {timezone}", "zh": "值班到 {time}（{timezone}）"},
    "assignment.why.reasons": {"en": "{reasons}", "zh": "{reasons}"},
    "assignment.why.gone_off": {"en": "{agent} went off shift", "zh": "{agent} 已下班"},
    "assignment.why.deactivated": {"en": "{agent} is deactivated", "zh": "{agent} 已停用"},
    "assignment.why.and": {"en": "{gone} and {why}", "zh": "{gone}，且{why}"},
    "assignment.queue_mention": {"en": "Unassigned: the queue", "zh": "待分配队列"},
    "assignment.notice.title": {"en": "Ticket #{ticket} needs an owner", "zh": "工单 #{ticket} 需要有人负责"},
    "assignment.notice.body": {"en": "{mention}, {reason}: who takes ticket #{ticket} ({facts})?",
                               "zh": "{mention}：{reason}，谁来接工单 #{ticket}（{facts}）？"},
    "assignment.notice.severity": {"en": "severity {severity}", "zh": "严重程度 {severity}"},
    "assignment.card.assigned": {"en": "Assigned to {agent} ({why})", "zh": "已分配给 {agent}（{why}）"},
    "assignment.card.nobody": {"en": "Nobody fits ({why}): the queue is asked",
                               "zh": "没有合适的人（{why}），已请队列认领"},
    "assignment.card.suggested": {"en": "{agent} ({why})", "zh": "{agent}（{why}）"},
    # -- card field labels: the core writes them in English, the team platforms show them in their language ---
    # (card_field_label; "Suggested reply (de)" has its own entry)
    "card_field.customer": {"en": "Customer", "zh": "客户"},
    "card_field.customer_value": {"en": "Customer value", "zh": "客户价值"},
    "card_field.marketplace": {"en": "Marketplace", "zh": "平台"},
    "card_field.language": {"en": "Language", "zh": "语言"},
    "card_field.intent": {"en": "Intent", "zh": "意图"},
    "card_field.severity": {"en": "Severity", "zh": "严重度"},
    "card_field.priority": {"en": "Priority", "zh": "优先级"},
    "card_field.first_response_due": {"en": "First response due", "zh": "首响截止"},
    "card_field.resolution_due": {"en": "Resolution due", "zh": "解决截止"},
    "card_field.channel": {"en": "Channel", "zh": "渠道"},
    "card_field.assignee": {"en": "Assignee", "zh": "处理人"},
    "card_field.suggested_assignee": {"en": "Suggested assignee", "zh": "建议处理人"},
    "card_field.status": {"en": "Status", "zh": "状态"},
    "card_field.order": {"en": "Order", "zh": "订单"},
    "card_field.order_status": {"en": "Order status", "zh": "订单状态"},
    "card_field.sku": {"en": "SKU", "zh": "SKU"},
    "card_field.ticket": {"en": "Ticket", "zh": "工单"},
    "card_field.tags": {"en": "Tags", "zh": "标签"},
    "card_field.notes": {"en": "Notes", "zh": "备注"},
    "card_field.note": {"en": "Note", "zh": "备注"},
    "card_field.sentiment": {"en": "Sentiment", "zh": "情绪"},
    "card_field.auto-reply": {"en": "Auto-reply", "zh": "自动回复"},
    "card_field.missing_for_the_suggested_reply": {"en": "Missing for the suggested reply", "zh": "建议回复缺少的信息"},
    "card_field.history": {"en": "History", "zh": "记录"},
    "card_field.escalated": {"en": "Escalated", "zh": "已升级"},
    "card_field.resolution_note": {"en": "Resolution note", "zh": "结单备注"},
    "card_field.request": {"en": "Request", "zh": "售后申请"},
    "card_field.reason": {"en": "Reason", "zh": "原因"},
    "card_field.amount": {"en": "Amount", "zh": "金额"},
    "card_field.rating": {"en": "Rating", "zh": "评分"},
    "card_field.comment": {"en": "Comment", "zh": "评价"},
    "card_field.agent": {"en": "Agent", "zh": "客服"},
    "card_field.metric": {"en": "Metric", "zh": "指标"},
    "card_field.value": {"en": "Value", "zh": "数值"},
    "card_field.thresholds": {"en": "Thresholds", "zh": "阈值"},
    "card_field.window": {"en": "Window", "zh": "窗口"},
    "card_field.firing_since": {"en": "Firing since", "zh": "开始于"},
    # ticket card titles (bot.pipeline.ticket_title); WeCom shows the severity beside the title, so it cuts " · N级"
    "card_title.ticket": {"en": "Ticket #{ticket}: {intent} · severity {severity}{state}",
                          "zh": "工单 #{ticket}：{intent} · {severity}级{state}"},
    "card_title.resolved": {"en": " · resolved", "zh": " · 已解决"},
    "card_title.escalated": {"en": " · escalated", "zh": " · 已升级"},
    "card_title.high_value": {"en": " · high-value customer", "zh": " · 高价值客户"},
    "card_field.suggested_reply_in": {"en": "Suggested reply ({reply_language})", "zh": "建议回复（{reply_language}）"},
}


@dataclass(frozen=True)
class Phrase:
    """A message of kefu's own: the catalogue key and its fields, written out in a language by `text`."""

    key: str
    fields: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.key not in PHRASES:
            raise KeyError(f"no phrase {self.key!r} in handlers.phrases.PHRASES")

    def text(self, language: str | None = "en") -> str:
        """The message in `language` ("en", "zh"; anything else is English)."""
        lang = language_of(language)
        return PHRASES[self.key][lang].format(**{name: _field_text(value, lang) for name, value in self.fields.items()})

    def __str__(self) -> str:
        return self.text("en")


def _field_text(value: object, language: Language) -> object:
    """A phrase's field as written into it: a Phrase (or a tuple of them, as a list) in `language`, data as it is."""
    if isinstance(value, Phrase):
        return value.text(language)
    if isinstance(value, tuple) and value and all(isinstance(item, Phrase) for item in value):
        return PHRASES["list.comma"][language].join(item.text(language) for item in value)
    return value


def say(key: str, **fields: object) -> Phrase:
    """The phrase `key` with its fields, to be written in the asker's language later."""
    return Phrase(key, fields)


def phrase(key: str, language: str | None = "en", **fields: object) -> str:
    """The phrase `key` written in `language` at once."""
    return Phrase(key, fields).text(language)


def language_of(value: str | None) -> Language:
    """kefu's language for a setting or a request: Chinese for "zh", "zh-CN", "zh_Hans" …, else English."""
    return "zh" if isinstance(value, str) and value.strip().casefold().replace("_", "-").split("-")[0] == "zh" \
        else "en"


def text_in(message: object, language: str | None) -> str:
    """`message` in `language` when it is a Phrase (or carries one as `.phrase`), else as it is."""
    if isinstance(message, Phrase):
        return message.text(language)
    carried = getattr(message, "phrase", None)
    if isinstance(carried, Phrase):
        return carried.text(language)
    return str(message)


def phrase_of(wording: Wording) -> Phrase:
    """The core's `wording` (its key a catalogue key) as a phrase, its nested wordings too."""

    def field_of(value: object) -> object:
        if isinstance(value, Wording):
            return phrase_of(value)
        if isinstance(value, tuple) and value and all(isinstance(item, Wording) for item in value):
            return tuple(phrase_of(item) for item in value)
        return value

    return Phrase(wording.key, {name: field_of(value) for name, value in wording.fields.items()})


_SUGGESTED_REPLY_IN = re.compile(r"Suggested reply \((?P<language>[\w-]+)\)")


def card_field_label(label: str, language: str | None) -> str:
    """A card field's label, which the core writes in English, in `language`; a label the catalogue does not know
    stays as it is (a card the core wrote in the channel's language already, or a new field)."""
    lang = language_of(language)
    if lang == "en":
        return label
    suggested = _SUGGESTED_REPLY_IN.fullmatch(label)
    if suggested:
        return phrase("card_field.suggested_reply_in", lang, reply_language=suggested["language"])
    entry = PHRASES.get("card_field." + label.casefold().replace(" ", "_"))
    return label if entry is None else entry[lang]


def card_title(card: Card, language: str | None) -> str:
    """A card's title in `language`: its title wording written there, else the title as the core wrote it."""
    if card.title_wording is None or language_of(language) == "en":
        return card.title
    return write_wording(card.title_wording, language_of(language))


def write_wording(wording: Wording, language: str) -> str:
    """`wording` written in `language`: the `bot.wording.WordingWriter` given to the core's card builders."""
    return phrase_of(wording).text(language)
