"""The two-party demo (README's main-job command until private fine-tuning lands):
private sentiment classification where the client's review and the server's model both
stay secret. See ``fsskernels.demo.secure`` for the protocol."""
from .run import main, run_demo

__all__ = ["main", "run_demo"]
