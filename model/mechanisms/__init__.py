"""The monthly processes of the model, one module each, as pure functions over arrays.

Every function takes arrays (and, where it draws, a ``numpy.random.Generator``)
and returns new arrays; none touches the model object, so each is tested alone
(tests/test_mechanisms.py) and documented in docs/ODD.md under its process number.
"""
