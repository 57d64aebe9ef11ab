"""A wait told by its structure as well as by its phrases: the agent spoke of waiting or of
looking something up before a silence, and apologised or thanked for the wait on return.

Shared by T002 silence_gap and T003 hold_etiquette: a silence announced in words no `hold` phrase
lists (您先别挂，我到系统里给您看看) and apologised for on return (不好意思，让您等了这么久) is a hold
the agent handled, not dead air nor an unannounced hold (issue #15).
"""

from __future__ import annotations

import re

from pipeline.lexicon import Lexicon
from pipeline.model import Turn
from pipeline.rules.spans import find

# The wait acknowledged: an apology or thanks with 等 close behind it (不好意思啊让您等了, 谢谢您耐心
# 等), or 久等 / 等…久 / 耐心 / 耽误 anywhere in the return.
ACK = re.compile(r"(抱歉|不好意思|对不起|感谢|谢谢|辛苦)[^。？！?!]{0,8}等|久等|等[^。？！?!]{0,3}久|耐心|耽误")
# What a wait announced in other words sounds like: 等, 别挂, or the agent going to look
# something up (查, 看看, 确认, 问一下).
WAIT = re.compile(r"等|查|看看|看一下|确认|核实|核对|问一下|处理一下|操作一下|登记|别挂|不要挂")


def acknowledges(turns: list[Turn], phrases: Lexicon) -> bool:
    """Whether the agent's return (`turns`) apologises or thanks for the wait."""
    return any(find(phrases, t) or ACK.search(t.text) for t in turns)


def told_and_thanked(opener: Turn, returned: list[Turn], phrases: Lexicon) -> bool:
    """Whether a silence was a wait the agent spoke of before (`opener`) and acknowledged after."""
    return bool(WAIT.search(opener.text)) and acknowledges(returned, phrases)
