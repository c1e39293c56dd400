"""``python -m aekit`` runs the command line (and ``torchrun -m aekit`` will, too)."""

from .cli import main_entry

main_entry()
