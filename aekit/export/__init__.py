"""Export layer: a saved model's networks as ONNX graphs that run outside Python (``aekit export``; needs
``pip install "aekit[export]"``). ``graphs.py`` holds the functions with the input mapping inside, ``onnx.py``
writes and checks them."""

from .onnx import REFUSALS, check_onnx, export_onnx, graphs_for, onnx_runner, speed_onnx

__all__ = ["REFUSALS", "check_onnx", "export_onnx", "graphs_for", "onnx_runner", "speed_onnx"]
