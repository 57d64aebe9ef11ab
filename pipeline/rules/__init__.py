"""Every rule, imported here so it registers (one module per rule; this list is the table).

| code | rule_name         | checks                                              |
|------|-------------------|-----------------------------------------------------|
| T001 | no_answer         | agent silent > 5 s after connect (seed 000)          |
| T002 | silence_gap       | dead air > 3 s after the customer (seed 004)         |
| V001 | speech_rate       | agent 字/分 outside the band (seeds 000, 002, 004)   |
| W001 | forbidden_phrase  | 服务忌语 (seeds 001, 002, 004)                       |
| W002 | filler_rate       | 语气助词/口头禅 per minute (seeds 000, 002)           |
| S001 | greeting          | no greeting in the opening (seeds 000, 002, 003)     |
| S002 | closing           | no closing at the end (seeds 000, 002)               |
| S003 | retention_push    | third retention push after a refusal (seed 000)      |
"""

from pipeline.rules import (  # noqa: F401  (imported to register)
    closing,
    filler_rate,
    forbidden_phrase,
    greeting,
    no_answer,
    retention_push,
    silence_gap,
    speech_rate,
)
from pipeline.rules.registry import RULES, Rule, build_params, get

__all__ = ["RULES", "Rule", "build_params", "get"]
