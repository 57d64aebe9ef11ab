"""The ground truth of a call: the findings its script's `expect` entries stand for, with spans
computed from the placement (data/sample_calls/README.md, "Span of each finding"), sanity
warnings about timing that would make a rule fire unlabelled, and the labels file."""

from __future__ import annotations

from pathlib import Path

import yaml

from voices import n_chars

# Fillers counted for the filler_rate note (informational; the project's lexicon decides).
FILLERS = ["就是说", "怎么说呢", "那个", "这个", "然后", "反正", "对吧", "是吧", "呃", "啊"]
# Customer confirmations (a subset of lexicons/farewells.txt) for the agent_hangup warning.
FAREWELLS = ["好的", "好", "行", "可以", "知道了", "明白", "没有", "再见", "拜拜", "谢谢", "感谢", "别再给我打电话",
             "不要再给我打电话"]
# Issue 18's rules: span = [start of the upset customer turn, end of the agent reply carrying
# the expect] (the rule's own span runs to its last reply; the evaluation matches by overlap).
EMOTION_RULES = {"unsoothed": "not soothed", "argued": "agent argues back",
                 "complaint_unhandled": "complaint threat not handled"}
HOLD_PHRASES = ["稍等", "稍候", "我帮您查", "我帮您确认", "正在为您查询", "耐心等待", "不要挂机"]


def rate(turns, role="agent"):
    tt = [t for t in turns if t["role"] == role]
    dur = sum(t["end"] - t["start"] for t in tt)
    return round(sum(n_chars(t["text"]) for t in tt) / dur * 60, 1) if dur else 0.0


def expects(entries):
    for e in entries or []:
        if isinstance(e, str):
            yield e, {}
        else:
            e = dict(e)
            yield e.pop("rule"), e


def speech_end_before(turns, i):
    """End of all speech placed before turn i (overlaps included): where a silence starts."""
    return max(u["end"] for u in turns[:i])


def make_findings(script, turns, duration):
    findings = call_findings(script, turns) + turn_findings(script, turns, duration)
    findings.sort(key=lambda f: (f["start"], f["end"], f["rule_name"]))
    return findings


def call_findings(script, turns):
    """Call-level `expect`: span = [first agent start, last agent end]."""
    name = script["name"]
    agents = [i for i, t in enumerate(turns) if t["role"] == "agent"]
    first_a, last_a = turns[agents[0]], turns[agents[-1]]
    findings = []
    for rule, opts in expects(script.get("expect")):
        note = opts.get("note")
        if rule == "speech_rate":
            note = note or f"agent {rate(turns):.0f} chars/min over the call"
        elif rule == "filler_rate":
            text = "".join(t["text"] for t in turns if t["role"] == "agent")
            counts = {f: text.count(f) for f in FILLERS if text.count(f)}
            mins = sum(t["end"] - t["start"] for t in turns if t["role"] == "agent") / 60
            note = note or ("fillers " + ", ".join(f"{k}x{v}" for k, v in counts.items())
                            + f" in {mins:.2f} min of agent speech")
        elif rule == "loudness":  # (b) the agent's whole side too quiet
            note = note or "agent channel too quiet (agent_gain_db %+.0f dB)" % float(script.get("agent_gain_db", 0))
        elif rule == "politeness":  # (b) no polite word at all / (c) 你 throughout
            kind = opts.get("kind")
            if kind not in ("no_polite_words", "ni"):
                raise ValueError(f"{name}: call-level politeness needs kind: no_polite_words|ni")
            text = "".join(t["text"] for t in turns if t["role"] == "agent")
            note = note or (f"no polite word in {n_chars(text)} agent chars" if kind == "no_polite_words"
                            else f"agent says 你 x{text.count('你')}, never 您")
        elif rule != "speech_rate":
            raise ValueError(f"{name}: {rule} is not a call-level expect")
        findings.append({"rule_name": rule, "start": first_a["start"], "end": last_a["end"],
                         "note": note or ""})
    return findings


def turn_findings(script, turns, duration):
    """Turn-level `expect`: the span each rule's finding has (README table)."""
    name = script["name"]
    agents = [i for i, t in enumerate(turns) if t["role"] == "agent"]
    findings = []
    for i, t in enumerate(turns):
        for rule, opts in expects(t["_expect"]):
            start, end, note = t["start"], t["end"], opts.get("note", "")
            if rule == "no_answer":
                if i != agents[0]:
                    raise ValueError(f"{script['name']}: no_answer must be on the first agent turn")
                start, end = 0.0, t["start"]
                note = note or f"agent first speaks at {t['start']:.2f} s"
            elif rule == "silence_gap":
                prev_c = [u for u in turns[:i] if u["role"] == "customer"]
                start, end = prev_c[-1]["end"], t["start"]
                note = note or f"{t['start'] - start:.1f} s silence after the customer"
            elif rule == "forbidden_phrase":
                ph = opts.get("phrase")
                if not ph or ph not in t["text"]:
                    raise ValueError(f"{script['name']}: phrase {ph!r} not in turn {i}")
                note = note or ph
            elif rule == "speech_rate":
                c = n_chars(t["text"])
                note = note or f"greeting {c / (t['end'] - t['start']) * 60:.0f} chars/min"
            elif rule == "greeting":
                if i != agents[0]:
                    raise ValueError(f"{script['name']}: greeting must be on the first agent turn")
                note = note or "no greeting in the agent's opening"
            elif rule == "closing":
                if i != agents[-1]:
                    raise ValueError(f"{script['name']}: closing must be on the last agent turn")
                note = note or "no closing in the agent's last turns"
            elif rule == "retention_push":
                note = note or "third retention push after the customer's first refusal"
            elif rule == "hold_etiquette":
                # on the agent turn that ends the silence; span = the silence (the hold)
                kind = opts.get("kind")
                start, end = speech_end_before(turns, i), t["start"]
                before = [u for u in turns[:i] if u["end"] == start]
                earlier_a = [turns[j] for j in agents if j < i]
                announced = bool(earlier_a) and any(h in earlier_a[-1]["text"] for h in HOLD_PHRASES)
                if kind == "unannounced":
                    if before[-1]["role"] != "agent" or announced:
                        raise ValueError(f"{name}: turn {i}: an unannounced hold follows an agent "
                                         "turn without a hold phrase")
                    note = note or f"{end - start:.1f} s silence, no hold announced"
                elif kind in ("no_ack", "long"):
                    if not announced:
                        raise ValueError(f"{name}: turn {i}: {kind} needs a hold phrase in the "
                                         "agent's previous turn")
                    if kind == "no_ack" and any(h in t["text"] for h in ("久等", "耐心等待", "等待")):
                        raise ValueError(f"{name}: turn {i}: no_ack return acknowledges the wait")
                    note = note or (f"{end - start:.1f} s hold, return not acknowledged" if kind == "no_ack"
                                    else f"single hold of {end - start:.1f} s")
                else:
                    raise ValueError(f"{name}: turn {i}: hold_etiquette kind: unannounced|no_ack|long")
            elif rule == "overtalk":
                under = [u for u in turns[:i] if u["role"] == "customer" and u["start"] < t["start"] < u["end"]]
                if not under:
                    raise ValueError(f"{name}: turn {i}: overtalk needs a customer turn under way")
                cend = max(u["end"] for u in under)
                end = min(t["end"], cend)
                note = note or f"agent starts {cend - t['start']:.1f} s before the customer ends"
            elif rule == "agent_hangup":
                if i != len(turns) - 1 or i != agents[-1]:
                    raise ValueError(f"{name}: agent_hangup must be on the last turn, an agent's")
                end = round(duration, 2)
                note = note or f"recording ends {duration - t['end']:.1f} s after the agent's last words"
            elif rule == "loudness":  # (a) a loud agent turn
                if not t["_gain_db"]:
                    raise ValueError(f"{name}: turn {i}: loudness needs gain_db on the turn")
                note = note or f"agent turn {t['_gain_db']:+.0f} dB"
            elif rule == "politeness":  # (a) thanks not answered: expect on the agent's reply
                if i == agents[-1] or turns[i - 1]["role"] != "customer":
                    raise ValueError(f"{name}: turn {i}: politeness goes on a mid-call reply to the customer")
                note = note or f"no reply to the customer's thanks ({turns[i - 1]['text']})"
            elif rule == "pii_leak":
                note = note or opts.get("kind", "")
            elif rule in EMOTION_RULES:  # on the agent's reply to the upset customer turn
                prev_c = [u for u in turns[:i] if u["role"] == "customer"]
                if not prev_c:
                    raise ValueError(f"{name}: turn {i}: {rule} needs a customer turn before it")
                start = prev_c[-1]["start"]
                note = note or f"{EMOTION_RULES[rule]}: {prev_c[-1]['text'][:20]}"
            if t["role"] != "agent":
                raise ValueError(f"{script['name']}: expect on a customer turn ({rule})")
            findings.append({"rule_name": rule, "start": round(start, 2), "end": round(end, 2),
                             "note": note})
    return findings


def sanity_warnings(script, turns):
    """Warn about timing that would make rules fire without an `expect`."""
    w = []
    exp = {(i, r) for i, t in enumerate(turns) for r, _ in expects(t["_expect"])}
    agents = [i for i, t in enumerate(turns) if t["role"] == "agent"]
    if turns[agents[0]]["start"] > 5.0 and (agents[0], "no_answer") not in exp:
        w.append(f"first agent turn at {turns[agents[0]]['start']} s without expect no_answer")
    for i in range(1, len(turns)):
        prev = turns[i - 1]
        if prev["role"] != "customer":
            continue
        gap = turns[i]["start"] - max(u["end"] for u in turns[:i])
        earlier_a = [turns[j] for j in agents if j < i]
        held = bool(earlier_a) and any(h in earlier_a[-1]["text"] for h in HOLD_PHRASES)
        if gap > 3.0 and not held and (i, "silence_gap") not in exp:
            w.append(f"turn {i}: {gap:.1f} s silence after customer without expect silence_gap")
        if gap > 2.5 and (i, "silence_gap") in exp and gap < 4.0:
            w.append(f"turn {i}: expected silence_gap only {gap:.1f} s (too close to 3 s)")
    kinds = {(i, o.get("kind")) for i, t in enumerate(turns) for r, o in expects(t["_expect"])
             if r == "hold_etiquette"}
    for i in agents[1:]:
        t = turns[i]
        gap = t["start"] - max(u["end"] for u in turns[:i])
        earlier_a = [turns[j] for j in agents if j < i]
        held = any(h in earlier_a[-1]["text"] for h in HOLD_PHRASES)
        prev_role = max(turns[:i], key=lambda u: u["end"])["role"]
        if prev_role == "agent" and not held and gap >= 8.0 and (i, "unannounced") not in kinds:
            w.append(f"turn {i}: {gap:.1f} s agent silence without expect hold_etiquette unannounced")
        if held and gap >= 13.0 and not any(h in t["text"] for h in ("久等", "耐心等待")) \
                and (i, "no_ack") not in kinds:
            w.append(f"turn {i}: {gap:.1f} s hold, no 久等 on return, without expect no_ack")
        if held and gap >= 27.0 and (i, "long") not in kinds:
            w.append(f"turn {i}: {gap:.1f} s hold without expect long")
        under = [u for u in turns[:i] if u["role"] == "customer" and u["start"] < t["start"] < u["end"]]
        if under and n_chars(t["text"]) > 3 and (i, "overtalk") not in exp:
            w.append(f"turn {i}: agent starts while the customer talks, without expect overtalk")
    last = max(range(len(turns)), key=lambda j: turns[j]["end"])
    cust = [t for t in turns if t["role"] == "customer"]
    if turns[last]["role"] == "agent" and cust and (last, "agent_hangup") not in exp:
        said = cust[-1]["text"].rstrip("。！!，, ")
        if said.endswith(("？", "?", "吗", "呢")) or not any(f in said for f in FAREWELLS):
            w.append(f"the agent speaks last (turn {last}) after a customer turn that is no "
                     f"farewell: {cust[-1]['text']} (agent_hangup)")
    return w


def fmt_float(d):
    return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in d.items()}


def dump_labels(path: Path, labels: dict):
    # flow-style rows, one per turn/finding, like the README shows
    class D(yaml.SafeDumper):
        pass

    def row(dumper, data):
        return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)

    class Row(dict):
        pass

    D.add_representer(Row, row)
    out = dict(labels)
    out["turns"] = [Row(fmt_float(t)) for t in labels["turns"]]
    out["findings"] = [Row(fmt_float(f)) for f in labels["findings"]]
    out["channels"] = Row(labels["channels"])
    out["stats"] = Row(labels["stats"])
    text = yaml.dump(out, Dumper=D, allow_unicode=True, sort_keys=False, width=1000)
    path.write_text(text, encoding="utf-8")


