"""`callqa`: the command line. Run `callqa --help`, or `callqa COMMAND --help`."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from pathlib import Path

from pipeline import __version__, progress, tune
from pipeline.cliargs import DEFAULT_CONFIG, DEFAULT_SCORECARD  # noqa: F401 (imported from here)
from pipeline.cliargs import common as _common
from pipeline.cliargs import engine as _engine
from pipeline.errors import CallqaError, ConfigError

EPILOG = """\
examples:
  callqa run /data/recordings/2026-11-21 --out /data/qa/2026-11-21
        score every recording under the folder; rerun the same command to resume
  callqa rescore /data/qa/2026-11-21 --dry-run
        after editing lexicons/*.txt or configs/scorecard.yaml: what would change (writes nothing);
        without --dry-run it re-scores without ASR and prints the same diff
  callqa lexicon stats /data/qa/2026-11   hits and precision per lexicon entry and per rule
  callqa sample /data/qa/2026-11 --per-agent 10 --month 2026-11   draw the month's review sample
  callqa check                      validate scorecard and lexicons (errors name file:line)
  callqa tune                       once per machine: measure and keep the fastest workers/threads
  callqa rules / callqa rule silence_gap
        list the rules / show one rule's documentation and default parameters
  callqa eval data/sample_calls out/
        precision, recall and F1 per rule against labelled calls

Outputs (Parquet, one folder per table, read with pandas.read_parquet(OUT / "findings")):
  calls     one row per recording: status (ok/error), error message, duration, model, versions
  turns     agent/customer turns with text and word timings
  findings  suggested deductions: item, points, evidence span, message, quote, confidence
"""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if getattr(args, "verbose", False) else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    try:
        return args.func(args)
    except ConfigError as e:
        print(f"配置错误：{e}", file=sys.stderr)
        return 2
    except CallqaError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\n已中断：已完成的通话都已保存，重新运行同一命令即可继续。", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="callqa",
        description="callqa — pre-score Chinese call-centre recordings against a QA scorecard, offline.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"callqa {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="score every recording under a folder (resumable)",
                       description="Decode, split into turns (webrtcvad), transcribe (faster-whisper) and "
                                   "score every recording under DIR. Results go to OUT as Parquet. Calls "
                                   "already done are skipped, so rerunning resumes an interrupted batch.")
    r.add_argument("dir", type=Path, help="folder of recordings (searched recursively)")
    r.add_argument("--out", "-o", type=Path, default=Path("out"), help="output folder (default: out)")
    _common(r)
    r.add_argument("--model", help="CTranslate2 Whisper model directory (overrides asr.model)")
    r.add_argument("--device", choices=["cpu", "cuda", "auto"], help="overrides asr.device")
    r.add_argument("--compute-type", help="e.g. int8, float16, int8_float16 (overrides asr.compute_type)")
    r.add_argument("--beam-size", type=int, help="overrides asr.beam_size")
    r.add_argument("--threads", type=int, help="CPU threads per worker (overrides asr.cpu_threads)")
    r.add_argument("--workers", "-j", type=tune.workers_arg,
                   help="worker processes, one model each (default: workers in run.yaml; 0 = the setting "
                        "`callqa tune` chose on this machine, else one per core; auto = tune now if never tuned)")
    r.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="local: a pool of processes on this machine; ray: Ray actors (see --ray-address)")
    r.add_argument("--ray-address", help="an existing Ray cluster (e.g. ray://head:10001); default: start a "
                                         "local Ray for this run")
    r.set_defaults(func=cmd_run)

    c = sub.add_parser("check", help="validate the run config, scorecard and lexicons")
    _common(c)
    c.set_defaults(func=cmd_check)

    sub.add_parser("rules", help="list every rule").set_defaults(func=cmd_rules)
    one = sub.add_parser("rule", help="show a rule's documentation and default parameters")
    one.add_argument("name", help="rule name or code, e.g. silence_gap or T002")
    one.set_defaults(func=cmd_rule)

    e = sub.add_parser("eval", help="precision/recall/F1 per rule against labelled calls")
    e.add_argument("labels", type=Path, help="folder with <call>.labels.yaml files (e.g. data/sample_calls)")
    e.add_argument("out", type=Path, help="output folder of `callqa run` on those calls")
    e.add_argument("--tolerance", type=float, default=1.0, help="seconds of slack when matching spans")
    e.set_defaults(func=cmd_eval)

    t = sub.add_parser("tune", help="measure and cache the fastest workers × threads × batch size here",
                       description=tune.DESCRIPTION)
    _common(t)
    t.set_defaults(func=lambda a: tune.cmd_tune(_engine(a).cfg))

    from pipeline.review.commands import add_commands  # review, users, reviews, calibration
    from pipeline.tuning_commands import add_commands as add_tuning  # rescore, lexicon, sample

    add_tuning(sub)
    add_commands(sub)
    from pipeline.report.commands import add_commands as add_report
    add_report(sub)
    return p


def cmd_run(args: argparse.Namespace) -> int:
    from pipeline import batch

    if not args.dir.is_dir():
        print(f"错误：{args.dir} 不是文件夹", file=sys.stderr)
        return 2
    engine = _engine(args)
    print(f"callqa {__version__}：处理 {args.dir} → {args.out}（模型 {engine.cfg.asr.model}，"
          f"{engine.cfg.asr.device}/{engine.cfg.asr.compute_type}）", file=sys.stderr)
    # BusyError (another run holds OUT) and StoreError (OUT not writable) are CallqaErrors: main()
    # prints them, naming the other run or the path, and exits 2.
    engine = dataclasses.replace(engine, cfg=tune.resolve(engine.cfg, args.workers))
    workers = args.workers if isinstance(args.workers, int) and args.workers else engine.cfg.worker_count
    summary = batch.run(args.dir, args.out, engine, progress.Progress(), workers=workers,
                        engine_name=args.engine, ray_address=args.ray_address)
    print(progress.summary(summary, args.out))
    return 1 if summary.failed else 0


def cmd_check(args: argparse.Namespace) -> int:
    from pipeline import config, lint, modelinfo

    config.load(args.config)  # one file: its error (ConfigError) is printed by main()
    problems = lint.check(args.scorecard)
    for p in problems:
        print(p, file=sys.stderr)
    errors = sum(p.error for p in problems)
    if errors:
        print(f"发现 {errors} 个错误、{len(problems) - errors} 条提示；修正错误后再运行 callqa run / rescore",
              file=sys.stderr)
        return 2
    engine = _engine(args)
    card = engine.card
    print(f"配置正确：{args.config}；评分表 {args.scorecard}（{len(card.items)} 项，版本 {card.version}）"
          + (f"；{len(problems)} 条提示（冗余或可疑的词条，见上）" if problems else ""))
    model = engine.cfg.asr.model_path()
    try:
        print(modelinfo.describe(model).summary_zh())
    except FileNotFoundError:
        print(f"注意：模型目录 {model} 不存在，请先运行 make model", file=sys.stderr)
    return 0


def cmd_rules(args: argparse.Namespace) -> int:
    from pipeline.rules import RULES

    for r in sorted(RULES.values(), key=lambda r: r.code):
        print(f"{r.code}  {r.name:<18} {r.summary}")
    return 0


def cmd_rule(args: argparse.Namespace) -> int:
    from pipeline.rules import RULES, get

    try:
        r = get(args.name)
    except KeyError:
        print(f"没有规则 {args.name!r}；可用：{', '.join(x.name for x in RULES.values())}", file=sys.stderr)
        return 2
    print(f"{r.code} {r.name}\n")
    print(r.doc)
    print("\nDefault parameters (override per item in configs/scorecard.yaml → params):")
    for f in dataclasses.fields(r.params):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        shown = f"lexicons/{default.name}.txt" if hasattr(default, "entries") else repr(default)
        print(f"  {f.name} = {shown}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from pipeline.evaluate import evaluate, format_report

    print(format_report(evaluate(args.labels, args.out, args.tolerance)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
