"""`callqa report`: the QA lead's report on a date range, read from the store and review.db.

    load     the store's calls/turns/findings of a range and the inspectors' decisions (I/O)
    metrics  per-call timing from turns: speech per party, holds, silences, speech rate
    data     aggregations into a frozen Report (per call, agent, week, item, day, score band)
    svg      matplotlib → inline SVG with a CJK font;  charts  one function per chart
    html     the self-contained page (templates/report.html);  commands  the CLI sub-command
    testing  synthetic OUT folders for tests and the demo month
"""
