from pipeline.attribution import attribution


def test_overlaps_and_missed_speech_are_not_attribution_errors():
    ref = [(0.0, 4.0, "agent"), (3.0, 6.0, "customer"), (7.0, 9.0, "agent")]
    turns = [(0.0, 3.5, "agent"), (3.5, 6.0, "customer"), (7.0, 8.0, "customer")]
    a = attribution(ref, turns, 10.0)
    assert a.single_s == 7.0  # 0–3, 4–6, 7–9 (3–4 is overlap)
    assert a.found_s == 6.0 and a.right_s == 5.0  # 8–9 missed; 7–8 given to the customer
    assert round(a.share, 3) == round(5 / 6, 3) and round(a.coverage, 3) == round(6 / 7, 3)
