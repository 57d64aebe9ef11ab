"""windows.unheard: which packed turns Whisper did not hear and get another pass (issue 15, 29)."""

from pipeline.windows import Piece, Window, unheard


def window() -> Window:
    # (key, packed, start, end, audio_start, audio_end): a 0.6 s cough, a 2 s turn, an 8 s turn
    return Window(0, (Piece((0, 0), 0.0, 1.0, 1.6, 0.9, 1.7), Piece((0, 1), 1.2, 3.0, 5.0, 2.9, 5.1),
                      Piece((0, 2), 3.8, 7.0, 15.0, 6.9, 15.1)))


def test_turns_with_no_words_are_retried_but_not_a_cough():
    assert [p.key for p in unheard(window(), {})] == [(0, 1), (0, 2)]


def test_a_long_turn_with_a_stray_word_only_is_retried():
    # 8 s of speech came back as one character: the end of the turn before (real speech: "吗？")
    assert [p.key for p in unheard(window(), {1.2: 9, 3.8: 1})] == [(0, 2)]


def test_heard_turns_are_not_retried():
    # a slow speaker: 8 characters in 8 s is still heard; a 2 s turn with one word is heard (好的)
    assert unheard(window(), {0.0: 1, 1.2: 1, 3.8: 8}) == []
