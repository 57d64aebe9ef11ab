"""Every rule, imported here so it registers (one module per rule; this list is the table).

| code | rule_name         | checks                                              |
|------|-------------------|-----------------------------------------------------|
| T001 | no_answer         | agent silent > 5 s after connect (seed 000)          |
| T002 | silence_gap       | dead air > 3 s after the customer (seed 004)         |
| T003 | hold_etiquette    | hold not announced/acknowledged, > 30 s, > 2 min (002, 004) |
| T004 | overtalk          | agent talks over the customer > 1 s: 抢话 (002, 004)  |
| T005 | agent_hangup      | agent ends on the customer's open question (000)    |
| V001 | speech_rate       | agent 字/分 outside the band (seeds 000, 002, 004)   |
| V002 | loudness          | agent suddenly loud, or too quiet (seeds 000, 002)   |
| V003 | language_switch   | 普通话/粤语 switched unasked or not followed (000)   |
| W001 | forbidden_phrase  | 服务忌语 (seeds 001, 002, 004)                       |
| W002 | filler_rate       | 语气助词/口头禅 per minute (seeds 000, 002)           |
| W003 | politeness        | thanks unanswered, no 请/谢谢, 你 for 您 (002, 004)   |
| W004 | pii_leak          | agent reads out a full phone/ID/card number (002)    |
| S001 | greeting          | no greeting in the opening (seeds 000, 002, 003)     |
| S002 | closing           | no closing at the end (seeds 000, 002)               |
| S003 | retention_push    | third push (selling after a no) (seed 000)           |
| E001 | unsoothed         | upset customer not soothed (seed 004 Not meet 3)     |
| E002 | argued            | agent argues with an upset customer (seed 004)       |
| E003 | complaint_unhandled | complaint threat without apology/escalation (004) |
"""

from pipeline.rules import (  # noqa: F401  (imported to register)
    agent_hangup,
    argued,
    closing,
    complaint_unhandled,
    filler_rate,
    forbidden_phrase,
    greeting,
    hold_etiquette,
    language_switch,
    loudness,
    no_answer,
    overtalk,
    pii_leak,
    politeness,
    retention_push,
    silence_gap,
    speech_rate,
    unsoothed,
)
from pipeline.rules.registry import RULES, Rule, build_params, get

__all__ = ["RULES", "Rule", "build_params", "get"]
