"""Reading Acclaim skeletons (``.asf``) and motions (``.amc``).

The format (Acclaim Skeleton File Definition V1.10, M. Schafer 1995; CMU's notes at
graphics.cs.cmu.edu/nsp/course/cs229/info/ACCLAIMdef.html) is short, so we read it
ourselves: the one PyPI parser (``asfamc-parser`` 0.0.2, 2021) is not maintained.

The conventions (Euler orders, bone frames, units) and the forward kinematics are in
:mod:`nri.data.mocap_kinematics`; its names are re-exported here.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from nri.data.errors import DataError
from nri.data.mocap_kinematics import (
    INCH,
    ROTATIONS,
    Bone,
    Motion,
    Skeleton,
    euler,
    forward_kinematics,
)

__all__ = [
    "INCH",
    "ROTATIONS",
    "Bone",
    "Motion",
    "Skeleton",
    "euler",
    "forward_kinematics",
    "read_amc",
    "read_asf",
]


def _lines(path: Path, what: str) -> list[tuple[int, list[str]]]:
    """(line number, tokens) of the non-empty lines; ``#`` comments, commas and
    parentheses are whitespace (the spec's rule)."""
    try:
        text = path.read_text(encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise DataError(f"{path} is not a text file; expected {what}") from None
    except OSError as err:
        raise DataError(f"cannot read {path}: {err.strerror or err}") from None
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        tokens = re.sub(r"[(),]", " ", line.split("#", 1)[0]).split()
        if tokens:
            out.append((i, tokens))
    return out


def _floats(
    path: Path, line: int, tokens: list[str], count: int, what: str
) -> list[float]:
    try:
        values = [float(t) for t in tokens]
    except ValueError:
        values = []
    if len(values) != count or not np.isfinite(values).all():
        raise DataError(
            f"{path} line {line}: {what} needs {count} numbers, got {' '.join(tokens)!r}"
        )
    return values


def read_asf(path: str | Path) -> Skeleton:
    """Read an Acclaim skeleton file.

    Raises:
        DataError: not an ASF (no ``:bonedata``/``:hierarchy``), a malformed bone,
            a hierarchy naming an unknown bone, or a bone not reachable from the root.
    """
    path = Path(path)
    lines = _lines(path, "an Acclaim skeleton (.asf)")
    keys = {t[0].lower() for _, t in lines}
    if ":bonedata" not in keys or ":hierarchy" not in keys:
        raise DataError(
            f"{path} is not an Acclaim skeleton (.asf): it has no :bonedata and "
            ":hierarchy sections"
        )
    section, length_unit, degrees = "", 1.0, True
    root_order: tuple[str, ...] = ("tx", "ty", "tz", "rx", "ry", "rz")
    root_position = np.zeros(3)
    bones: list[Bone] = []
    bone: dict[str, object] | None = None
    children: dict[str, list[str]] = {}
    for no, tokens in lines:
        key = tokens[0].lower()
        if key.startswith(":"):
            section = key
            continue
        if section == ":units" and key == "length":
            (length_unit,) = _floats(path, no, tokens[1:2], 1, "units length")
            if length_unit <= 0:
                raise DataError(f"{path} line {no}: units length must be > 0")
        elif section == ":units" and key == "angle":
            if len(tokens) < 2 or tokens[1].lower() not in ("deg", "rad"):
                raise DataError(f"{path} line {no}: units angle must be deg or rad")
            degrees = tokens[1].lower() == "deg"
        elif section == ":root" and key == "order":
            root_order = tuple(t.lower() for t in tokens[1:])
            bad = set(root_order) - {"tx", "ty", "tz", *ROTATIONS}
            if bad or len(set(root_order)) != len(root_order):
                raise DataError(f"{path} line {no}: root order {tokens[1:]} is not "
                                "a list of distinct TX TY TZ RX RY RZ")  # fmt: skip
        elif section == ":root" and key == "position":
            root_position = np.array(_floats(path, no, tokens[1:], 3, "position"))
        elif section == ":root" and key == "orientation":
            if any(v != 0 for v in _floats(path, no, tokens[1:], 3, "orientation")):
                raise DataError(f"{path} line {no}: a non-zero root orientation is "
                                "not supported (CMU's skeletons have 0 0 0)")  # fmt: skip
        elif section == ":bonedata":
            if key == "begin":
                bone = {}
            elif key == "end" and bone is not None:
                bones.append(_bone(path, no, bone, degrees))
                bone = None
            elif bone is not None and key in ("name", "direction", "length", "axis",
                                              "dof"):  # fmt: skip
                bone[key] = (no, tokens[1:])
        elif section == ":hierarchy" and key not in ("begin", "end"):
            children.setdefault(tokens[0], []).extend(tokens[1:])
    return _assemble(path, bones, children, root_order, root_position, length_unit,
                     degrees)  # fmt: skip


def _bone(path: Path, end: int, raw: dict[str, object], degrees: bool) -> Bone:
    for key in ("name", "direction", "length", "axis"):
        if key not in raw:
            raise DataError(f"{path}: the bone ending at line {end} has no {key}")
    no, name = raw["name"]  # type: ignore[misc]
    if not name:
        raise DataError(f"{path} line {no}: a bone name is missing")
    no, tok = raw["direction"]  # type: ignore[misc]
    direction = np.array(_floats(path, no, tok, 3, "direction"))
    norm = np.linalg.norm(direction)
    no, tok = raw["length"]  # type: ignore[misc]
    (length,) = _floats(path, no, tok[:1], 1, "length")
    if norm == 0 and length != 0:
        raise DataError(f"{path} line {no}: bone {name[0]} has a zero direction")
    no, tok = raw["axis"]  # type: ignore[misc]
    order = tok[3].lower() if len(tok) == 4 else "xyz"
    if sorted(order) != ["x", "y", "z"]:
        raise DataError(f"{path} line {no}: axis order {tok[3]!r} is not a permutation "
                        "of XYZ")  # fmt: skip
    angles = np.array(_floats(path, no, tok[:3], 3, "axis"))
    angles = np.deg2rad(angles) if degrees else angles
    axis = euler(angles[["xyz".index(a) for a in order]], order)
    dof: tuple[str, ...] = ()
    if "dof" in raw:
        no, tok = raw["dof"]  # type: ignore[misc]
        dof = tuple(t.lower() for t in tok)
        bad = [d for d in dof if d not in ROTATIONS]
        if bad or len(set(dof)) != len(dof):
            raise DataError(f"{path} line {no}: bone {name[0]} has dof {' '.join(tok)}; "
                            "only distinct rx ry rz are supported")  # fmt: skip
    return Bone(name[0], direction / (norm or 1.0), length, axis, dof)


def _assemble(
    path: Path, bones: list[Bone], children: dict[str, list[str]],
    root_order: tuple[str, ...], root_position: np.ndarray, length_unit: float,
    degrees: bool,
) -> Skeleton:  # fmt: skip
    names = ("root", *(b.name for b in bones))
    if len(set(names)) != len(names):
        raise DataError(f"{path}: a bone name is given twice (or a bone is 'root')")
    index = {n: i for i, n in enumerate(names)}
    parents = [-2] * len(names)
    parents[0] = -1
    for parent, kids in children.items():
        for kid in (parent, *kids):
            if kid not in index:
                raise DataError(f"{path}: the hierarchy names {kid!r}, which is not a "
                                "bone of :bonedata")  # fmt: skip
        for kid in kids:
            if parents[index[kid]] != -2:
                raise DataError(f"{path}: {kid!r} has two parents in the hierarchy")
            parents[index[kid]] = index[parent]
    reached, todo = {0}, [0]
    while todo:
        p = todo.pop()
        for c, q in enumerate(parents):
            if q == p and c not in reached:
                reached.add(c)
                todo.append(c)
    missing = [names[i] for i in range(len(names)) if i not in reached]
    if missing:
        raise DataError(f"{path}: bone {missing[0]!r} is not connected to the root in "
                        ":hierarchy")  # fmt: skip
    return Skeleton(names, tuple(parents), tuple(bones), root_order,
                    root_position, length_unit, degrees, str(path))  # fmt: skip


def read_amc(path: str | Path, skeleton: Skeleton) -> Motion:
    """Read an AMC motion of ``skeleton``: numbered frames, each a line per bone with
    degrees of freedom (``root`` first by convention; any order is accepted).

    Raises:
        DataError: not an AMC (no frames), a bone the skeleton lacks, a wrong number
            of values, a frame without some bone (a truncated file), or frame
            numbers that skip.
    """
    path = Path(path)
    lines = _lines(path, "an Acclaim motion (.amc)")
    channels = {"root": skeleton.root_order}
    channels |= {b.name: b.dof for b in skeleton.bones if b.dof}
    degrees = skeleton.degrees
    frames: list[dict[str, list[float]]] = []
    numbers: list[int] = []
    for no, tokens in lines:
        head = tokens[0]
        if head.startswith(":"):
            if head.upper() in (":DEGREES", ":RADIANS"):
                degrees = head.upper() == ":DEGREES"
            continue
        if len(tokens) == 1 and head.isdigit():
            if numbers and int(head) != numbers[-1] + 1:
                raise DataError(f"{path} line {no}: frame {head} follows frame "
                                f"{numbers[-1]}; frames must be numbered 1, 2, 3, ...")  # fmt: skip
            _check_frame(path, frames, numbers, channels, no)
            numbers.append(int(head))
            frames.append({})
            continue
        if not frames:
            raise DataError(f"{path} line {no}: expected a frame number, got {head!r}; "
                            "is this an Acclaim motion (.amc)?")  # fmt: skip
        if head not in channels:
            asf = Path(skeleton.source).name
            why = (f"has no degrees of freedom in {asf}" if head in skeleton.names
                   else f"is not a bone of the skeleton {asf}")  # fmt: skip
            raise DataError(f"{path} line {no}: {head!r} {why}")
        frames[-1][head] = _floats(path, no, tokens[1:], len(channels[head]),
                                   f"{head} ({' '.join(channels[head])})")  # fmt: skip
    if not frames:
        raise DataError(f"{path} has no frames; is it an Acclaim motion (.amc)?")
    _check_frame(path, frames, numbers, channels, None)
    values = {}
    for name, dof in channels.items():
        v = np.array([f[name] for f in frames], dtype=np.float64)  # [T, k]
        if degrees:
            rot = [i for i, d in enumerate(dof) if d in ROTATIONS]
            v[:, rot] = np.deg2rad(v[:, rot])
        values[name] = v
    return Motion(values, len(frames), str(path))


def _check_frame(path: Path, frames: list, numbers: list[int], channels: dict,
                 line: int | None) -> None:  # fmt: skip
    if not frames:
        return
    lacking = [c for c in channels if c not in frames[-1]]
    if lacking:
        where = "at the end of the file (is it truncated?)" if line is None else (
            f"before line {line}")  # fmt: skip
        raise DataError(f"{path}: frame {numbers[-1]} lacks {lacking[0]!r} "
                        f"({len(lacking)} of {len(channels)} bones missing) {where}")  # fmt: skip
