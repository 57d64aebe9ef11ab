"""The inspectors' review workbench: `callqa review OUT` (see app.py), decisions in OUT/review.db."""
