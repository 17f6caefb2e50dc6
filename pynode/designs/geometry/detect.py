"""A design's format from its bytes: the zip entry of 3MF, the size formula of binary STL, the keywords of ASCII
STL, the group codes of DXF, the command words of G-code. A file name can lie or be missing; the content cannot."""

from __future__ import annotations

import io
import re
import zipfile

BINARY_DXF = b"AutoCAD Binary DXF\r\n\x1a\x00"
_GCODE_LINE = re.compile(rb"^(?:N\d+\s*)?[GMT]\d+(?:[\s;*(]|[A-Z]|$)", re.IGNORECASE)
#: what is read to decide (slicers put base64 thumbnails of ~100 KiB in comments before the first command)
_HEAD = 1 << 20
#: how many command lines at the head of a text decide that it is G-code
_GCODE_SAMPLE = 200


def detect(data: bytes) -> str | None:
    """"3mf", "stl-binary", "stl-ascii", "dxf", "gcode", or None when it is none of these."""
    if data[:4] == b"PK\x03\x04":
        return "3mf" if _is_3mf(data) else None
    # binary STL: an 80-byte header, a triangle count, 50 bytes a triangle (its header may begin with "solid")
    if len(data) >= 134 and 84 + 50 * int.from_bytes(data[80:84], "little") == len(data):
        return "stl-binary"
    if data.startswith(BINARY_DXF):
        return "dxf"
    head = data[:_HEAD].removeprefix(b"\xef\xbb\xbf")  # editors on Windows start text files with a UTF-8 BOM
    if head.lstrip().lower().startswith(b"solid") and re.search(rb"\bfacet\s+normal\b", head, re.IGNORECASE):
        return "stl-ascii"
    lines = [line.strip() for line in head.splitlines()]
    if len(data) > _HEAD:
        lines.pop()  # cut mid-line
    if _is_dxf(lines):
        return "dxf"
    if _is_gcode(lines):
        return "gcode"
    return None


def _is_3mf(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any(name.lower() == "3d/3dmodel.model" for name in archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        return False


def _is_dxf(lines: list[bytes]) -> bool:
    """ASCII DXF: (group code, value) line pairs, comments (999) first, then 0/SECTION."""
    index = 0
    while index + 1 < len(lines) and lines[index] == b"999":
        index += 2
    return lines[index:index + 2] == [b"0", b"SECTION"]


def _is_gcode(lines: list[bytes]) -> bool:
    """Every non-blank line among the first few is a comment or a G/M/T command, and at least one is a move."""
    commands = []
    for line in lines:
        if not line or line.startswith((b";", b"(", b"%")):
            continue
        if not _GCODE_LINE.match(line):
            return False
        commands.append(line)
        if len(commands) >= _GCODE_SAMPLE:
            break
    return any(re.match(rb"^(?:N\d+\s*)?G0*[0-3](?!\d)", c, re.IGNORECASE) for c in commands)
