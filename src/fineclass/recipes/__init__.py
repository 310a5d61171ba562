"""Recipes: each wires the stage packages into one job (train, evaluate, tune thresholds, export, serve, explore,
compare). The CLI and the Python API both call them; nothing below imports them."""
