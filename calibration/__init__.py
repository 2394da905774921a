"""Calibration and validation of lasim: targets, ABC-SMC with pyabc, the Bass limit.

``calibration`` imports ``model`` (and may import ``experiments``); ``model`` never
imports it. The command line lives in :mod:`calibration.cli`.
"""
