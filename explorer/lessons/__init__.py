"""The lessons, in three parts: their words (``words``: what a student reads and the claims
that back it), their scenarios (``scenarios``: the configurations they run) and their
measurements (``measurements``: the numbers the claims compare). ``explorer.presets`` is
their face: ``PRESETS``, ``get``, ``verify``."""
