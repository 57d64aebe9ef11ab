"""callqa: offline pre-scoring of Chinese call-centre recordings against a QA scorecard."""

__version__ = "0.1.0"

from pipeline.model import Call, Evidence, Finding, Role, Turn, Word  # noqa: E402

__all__ = ["Call", "Evidence", "Finding", "Role", "Turn", "Word", "__version__"]
