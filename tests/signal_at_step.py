"""Run by tests/test_cli.py in a child process: `gan-lab ARGS...` that sends itself SIGNAL right after step
STEP's history row is written (a kill at an exact, known step: no polling, no sleeps).

    python tests/signal_at_step.py SIGKILL 80 train --preset ... --out RUN
"""
import os
import signal
import sys

from gan_lab import callbacks
from gan_lab.cli import main

signum, at_step, argv = signal.Signals[sys.argv[1]], int(sys.argv[2]), sys.argv[3:]
write_row = callbacks.HistoryCSV.on_train_batch_end


def write_row_then_signal(self, batch, logs=None):
    write_row(self, batch, logs)
    if callbacks.global_step(self.model) == at_step:
        self.flush()
        os.kill(os.getpid(), signum)


callbacks.HistoryCSV.on_train_batch_end = write_row_then_signal
sys.exit(main(argv))
