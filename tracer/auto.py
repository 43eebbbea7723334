"""`import tracer.auto`: trace the rest of this process; the log is completed at exit.

The log goes to $TRACER_LOG if set, else `.tracer/runs/<time>-<script>.tlog`. Importing it
twice, or under `tracer run`, does nothing more.
"""

from tracer.api import start_auto

start_auto()
