"""Which voice of a mono call is the agent: evidence from what each voice says."""

import pytest

from pipeline import lexicon, roles
from pipeline.config import ROOT

LEX = roles.Lexicons(*(lexicon.load(ROOT / "lexicons" / f) for f in ("greetings.txt", "closings.txt", "role_cues.txt")))


def test_the_voice_that_greets_and_serves_is_the_agent_even_when_it_speaks_second():
    said = {
        0: [(0.5, "喂？"), (6.0, "我想问一下我的宽带怎么又断了"), (20.0, "好的谢谢")],
        1: [(2.0, "您好，很高兴为您服务，请问有什么可以帮您？"), (9.0, "请您稍等，我帮您查一下"),
            (24.0, "感谢您的来电，再见")],
    }
    got = roles.guess(said, "out", LEX)
    assert got.agent == 1 and got.confidence > 0.95
    assert "开场问候" in got.reasons and "结束语" in got.reasons


def test_no_evidence_is_a_coin_flip_and_says_so():
    said = {0: [(0.0, "嗯")], 1: [(2.0, "嗯")]}
    got = roles.guess(said, None, LEX)
    assert got.agent == 0  # first to speak, with the small bonus for an unknown direction
    assert 0.5 <= got.confidence < 0.65


def test_inbound_first_speaker_is_favoured_outbound_second():
    said = {0: [(0.0, "喂，你好")], 1: [(2.0, "你好")]}
    assert roles.guess(said, "in", LEX).agent == 0
    assert roles.guess(said, "out", LEX).agent == 1


def test_customer_phrasing_counts_against_a_voice_and_cues_are_capped():
    chatty_customer = [(float(i), "你们能不能帮我看看怎么回事") for i in range(12)]
    agent = [(0.5, "您好，工号一二三为您服务")]
    got = roles.guess({0: chatty_customer, 1: agent}, None, LEX)
    assert got.agent == 1
    points, why = roles.score(chatty_customer, False, None, LEX)
    assert points == pytest.approx(-roles.Options().cue_cap) and "客户用语 −3" in why


def test_a_single_voice_is_the_agent_unless_it_talks_like_a_customer():
    assert roles.guess({0: [(0.0, "您好，请问有什么可以帮您")]}, None, LEX).agent == 0
    lone = roles.guess({0: [(0.0, "喂，你们怎么回事，帮我查一下")]}, None, LEX)
    assert lone.agent == 1  # the other voice, which never spoke, is the agent


def test_no_speech_at_all():
    assert roles.guess({}, None, LEX) == roles.Guess(0, 0.5, ())
