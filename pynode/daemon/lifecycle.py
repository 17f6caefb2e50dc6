"""What a daemon's signal handlers drive (:func:`pynode.daemon.node.install_signal_handlers`): stop, the grace
cut and the stopping flag, shared by the v1 and v2 nodes."""

from __future__ import annotations

from typing import Any

from pynode.core.stop import StopEvent, Stopping


class Stoppable:
    _stop: StopEvent
    _looping: bool  # inside the run loop: interrupt() may cut it
    log: Any

    def stop(self, *_: object) -> None:
        """Asks the loop to return: the current wait ends at once, the current request finishes."""
        if not self._stop.is_set():
            self.log.info("stopping")
        self._stop.set()
        self._on_stop()

    def _on_stop(self) -> None:
        """What else ends a wait at once (a wake event, a subscription)."""

    def interrupt(self) -> None:
        """Cuts the loop short wherever it is (the grace timer after a stop); a no-op outside the loop."""
        if self._looping:
            raise Stopping("a blocking request outlasted the stop grace period")

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()
