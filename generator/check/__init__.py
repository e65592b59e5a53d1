"""Stage check: the rules a JSON Schema cannot express, over the inputs (``semantic``) and the
resolved specs (``quota``, ``releases``); every problem at its input's file:line:col."""
