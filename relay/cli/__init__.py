"""The ``relay`` command and its verbs."""
