"""G-code: extents, estimated time, filament and layers, from the moves a machine would make.

The lines are tokenized here with one regular expression (gcodeparser 0.3 reads the same words at ~17 µs a
line, over 10 s for a 20 MB slicer file before any arithmetic). The machine state follows G90/G91 (positions
and, like Marlin, E), M82/M83 (E alone), G92 (set position, the usual E reset), G20/G21 (inches/millimetres),
G28 (home to 0), G4 dwells and arcs (G2/G3 by I/J or R, helical Z).

- ``extents_mm``: of the extruding moves (E increases while XY moves), or of every move when the file extrudes
  nothing (a CNC or laser program). Arcs count by their end points.
- ``print_time_s``: path length at the programmed feed rate plus dwells: no acceleration model, so a lower
  bound of what a printer takes; feeds before the first F run at
  ``DEFAULT_FEED_MM_MIN``.
- ``filament_mm``: net E travel (retractions subtract, their primes add back); ``filament_mm3`` for a filament
  of ``filament_diameter_mm`` (E as length, M200 volumetric mode is not followed).
- ``layers``: distinct Z heights of extruding moves.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pynode.designs.geometry.errors import GeometryError

#: the feed rate (mm/min) of moves before the file sets one
DEFAULT_FEED_MM_MIN = 1500.0
DEFAULT_FILAMENT_DIAMETER_MM = 1.75
_INCH_MM = 25.4
_AXES = "XYZ"
_WORD = re.compile(r"([A-Za-z])[ \t]*([-+]?(?:\d+\.?\d*|\.\d+))?")
_PAREN = re.compile(r"\([^)]*\)")
#: M-codes whose argument is text (file names, display messages): the rest of their line is not words
_TEXT_ARGUMENT = frozenset({23, 28, 29, 30, 32, 117, 118})


@dataclass
class _Machine:
    position: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    e: float = 0.0
    absolute: bool = True
    e_absolute: bool = True
    scale: float = 1.0
    feed: float = DEFAULT_FEED_MM_MIN
    seconds: float = 0.0
    filament: float = 0.0
    moved: list[list[float]] = field(default_factory=list)  # [min, max] of every move
    printed: list[list[float]] = field(default_factory=list)  # [min, max] of extruding moves
    layers: set[float] = field(default_factory=set)

    def move(self, code: int, words: dict[str, float]) -> None:
        start = list(self.position)
        for axis, letter in enumerate(_AXES):
            if letter in words:
                value = words[letter] * self.scale
                self.position[axis] = value if self.absolute else self.position[axis] + value
        delta_e = 0.0
        if "E" in words:
            value = words["E"] * self.scale
            delta_e = value - self.e if self.e_absolute else value
            self.e = value if self.e_absolute else self.e + value
        if "F" in words and words["F"] > 0:
            self.feed = words["F"] * self.scale
        length = _arc_length(start, self.position, words, self.scale, code == 2) if code in (2, 3) \
            else math.dist(start, self.position)
        self.seconds += (length or abs(delta_e)) / (self.feed / 60)
        self.filament += delta_e
        if not self.moved:
            _grow(self.moved, start)  # where the machine stood before its first move
        _grow(self.moved, self.position)
        if delta_e > 0 and start[:2] != self.position[:2]:
            _grow(self.printed, start)
            _grow(self.printed, self.position)
            self.layers.add(round(self.position[2], 4))

    def command(self, letter: str, code: int | None, words: dict[str, float]) -> None:
        if letter == "G" and code in (0, 1, 2, 3):
            self.move(code, words)
        elif letter == "G" and code == 4:
            self.seconds += words.get("P", 0.0) / 1000 + words.get("S", 0.0)
        elif letter == "G" and code in (20, 21):
            self.scale = _INCH_MM if code == 20 else 1.0
        elif letter == "G" and code in (90, 91):
            self.absolute = self.e_absolute = code == 90
        elif letter == "M" and code in (82, 83):
            self.e_absolute = code == 82
        elif letter == "G" and code in (28, 92):
            home = code == 28  # homing leaves E where it is
            known = _AXES if home else (*_AXES, "E")
            named = [a for a in known if a in words] or list(known)
            for letter_ in named:
                value = 0.0 if home else words.get(letter_, 0.0) * self.scale
                if letter_ == "E":
                    self.e = value
                else:
                    self.position[_AXES.index(letter_)] = value


def _grow(box: list[list[float]], point: list[float]) -> None:
    """Widens [min, max] to hold ``point`` (unrolled: this runs twice a move, a million times a big print)."""
    if not box:
        box += [list(point), list(point)]
        return
    low, high = box
    x, y, z = point
    if x < low[0]:
        low[0] = x
    elif x > high[0]:
        high[0] = x
    if y < low[1]:
        low[1] = y
    elif y > high[1]:
        high[1] = y
    if z < low[2]:
        low[2] = z
    elif z > high[2]:
        high[2] = z


def _arc_length(start: list[float], end: list[float], words: dict[str, float], scale: float,
                clockwise: bool) -> float:
    """The XY arc (centre by I/J offsets, or radius R; a negative R takes the long way) lifted by its Z change."""
    if "R" in words:
        radius = abs(words["R"]) * scale
        chord = math.dist(start[:2], end[:2])
        half = min(1.0, chord / (2 * radius)) if radius else 0.0
        sweep = 2 * math.asin(half)
        if words["R"] < 0:
            sweep = 2 * math.pi - sweep
    else:
        centre = (start[0] + words.get("I", 0.0) * scale, start[1] + words.get("J", 0.0) * scale)
        radius = math.dist(centre, start[:2])
        a0 = math.atan2(start[1] - centre[1], start[0] - centre[0])
        a1 = math.atan2(end[1] - centre[1], end[0] - centre[0])
        sweep = (a0 - a1) if clockwise else (a1 - a0)
        sweep %= 2 * math.pi
        if sweep == 0:
            sweep = 2 * math.pi  # same start and end: a full circle
    return math.hypot(radius * sweep, end[2] - start[2])


def _commands(text: str) -> Iterator[tuple[str, int, dict[str, float], int]]:
    """(letter, code, {word: number}, line index) of each G/M/T command: comments (; and parentheses), line
    numbers and checksums dropped, words with or without spaces ("G1X10E.5"), a bare letter ("G28 X") as 0."""
    for index, raw in enumerate(text.splitlines()):
        line = raw.split(";", 1)[0]
        if "(" in line:
            line = _PAREN.sub(" ", line)
        command: tuple[str, int, dict[str, float], int] | None = None
        for word, number in _WORD.findall(line.split("*", 1)[0]):
            letter = word.upper()
            value = float(number) if number else 0.0
            if not math.isfinite(value):
                raise GeometryError(f"G-code line {index + 1}: {letter}{number[:20]} is out of range")
            if letter in "GMT" and number:
                if command is not None:
                    yield command
                command = (letter, int(value), {}, index)
                if letter == "M" and command[1] in _TEXT_ARGUMENT:
                    break  # M117 "G1 X5" is a message, not a move
            elif command is not None and letter != "N":
                command[2][letter] = value
        if command is not None:
            yield command


def measure_gcode(text: str, filament_diameter_mm: float = DEFAULT_FILAMENT_DIAMETER_MM) -> dict[str, Any]:
    machine = _Machine()
    for letter, code, words, _ in _commands(text):
        machine.command(letter, code, words)
    box = machine.printed or machine.moved
    if not box:
        raise GeometryError("the G-code makes no move")
    return {
        "format": "gcode",
        "extents_mm": {"min": box[0], "max": box[1]},
        "print_time_s": machine.seconds,
        "filament_mm": machine.filament,
        "filament_diameter_mm": filament_diameter_mm,
        "filament_mm3": machine.filament * math.pi * (filament_diameter_mm / 2) ** 2,
        "layers": len(machine.layers),
    }
