"""Serving layer: saved models answer requests over HTTP (``aekit serve``; needs ``pip install "aekit[serve]"``).

The routes are designed once from the format registry and a table of each estimator's operations
(``operations.py``); ``app.py`` builds the FastAPI application, ``batching.py`` stacks concurrent small requests
into one model call, ``guard.py`` holds the API key and body limit, ``metrics.py`` the Prometheus counters.
"""

from .app import ServeSettings, build_app
from .catalog import ServedModel, load_models
from .operations import OPERATIONS, Offer, Operation, Param

__all__ = ["OPERATIONS", "Offer", "Operation", "Param", "ServeSettings", "ServedModel", "build_app", "load_models"]
